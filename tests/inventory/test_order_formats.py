"""Supplier order files: each supplier's bulk-upload layout (columns, units or packs,
delimiter), and the week's order written in it by the API and the command line (spec
section 13), through real HTTP on both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from inventory.gs1 import with_check_digit
from inventory.models import SupplierOrderFormat
from kernel.audit.models import AuditEntry
from steristock.cli import main
from tests.inventory.reorder_factories import receive
from tests.inventory_factories import InventoryFactory

CSV = "/api/v1/reorder/suggestions.csv"
HENRY = [
    {"header": "Item Number", "field": "vendor_sku"},
    {"header": "Qty", "field": "quantity"},
    {"header": "UOM", "field": "order_unit"},
    {"header": "Account", "field": "account_number"},
]


@pytest.fixture
def henry(database, inv: InventoryFactory) -> int:
    """Gloves (boxes of 100, a "box" level) 150 on hand of par 1000: 9 boxes; gauze (packs
    of 10, no level) 0 of 25: 3 packs; another supplier's mask."""
    supplier = inv.supplier("Henry Schein", account_number="HS-448812")
    gloves = inv.item("GLV-M", name="Gloves M", supplier_id=supplier, vendor_sku="112-4432",
                      pack_size=100, unit_cost=Decimal("0.045"))  # fmt: skip
    gauze = inv.item("GAUZE", name="Gauze 4x4", supplier_id=supplier, vendor_sku="100-2211",
                     pack_size=10, unit_cost=Decimal("0.3"))  # fmt: skip
    mask = inv.item("MASK", supplier_id=inv.supplier("Medline"))
    inv.par(gloves, "SUPPLY", 1000, 500)
    inv.par(gauze, "SUPPLY", 25, 10)
    inv.par(mask, "SUPPLY", 10, 5)
    receive(database, gloves, "SUPPLY", 150)
    return supplier


def put_format(client, headers, supplier_id, columns, **extra):
    return client.put(
        f"/api/v1/suppliers/{supplier_id}/order-format",
        json={"columns": columns, **extra},
        headers=headers,
    )


def format_count(database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(SupplierOrderFormat)) or 0


def test_a_supplier_file_in_packs_with_its_own_columns_and_delimiter(client, buyer, henry):
    client.post(
        "/api/v1/items/GLV-M/packagings",
        json={"gtin": with_check_digit("1061414100001"), "units": 100, "name": "box"},
        headers=buyer,
    )
    r = put_format(client, buyer, henry, HENRY, quantity_in="packs", delimiter=";")
    assert r.status_code == 200, r.text
    assert r.json()["columns"] == HENRY and r.json()["delimiter"] == ";"
    r = client.get(CSV, params={"supplier_id": henry, "format": "supplier"}, headers=buyer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="order-henry-schein-' in r.headers["content-disposition"]
    assert r.text == (
        "Item Number;Qty;UOM;Account\r\n"
        "100-2211;3;pack of 10;HS-448812\r\n"
        "112-4432;9;box;HS-448812\r\n"
    )


def test_the_same_layout_in_units_with_tabs_and_no_header(client, buyer, henry):
    columns = [{"header": "Item", "field": "vendor_sku"}, {"header": "Qty", "field": "quantity"},
               {"header": "Unit", "field": "order_unit"},
               {"header": "Total", "field": "line_total"}]  # fmt: skip
    put_format(client, buyer, henry, columns, quantity_in="units", delimiter="\t",
               header_row=False)  # fmt: skip
    r = client.get(CSV, params={"supplier_id": henry, "format": "supplier"}, headers=buyer)
    assert r.text == "100-2211\t30\teach\t9.00\r\n112-4432\t900\teach\t40.50\r\n"


def test_the_order_file_defuses_cells_a_spreadsheet_would_run(client, buyer, inv, henry):
    sku = inv.item("EVIL", name='=HYPERLINK("http://evil.example","x")', supplier_id=henry,
                   vendor_sku="-1+1")  # fmt: skip
    inv.par(sku, "SUPPLY", 5)
    columns = [
        {"header": "=cmd|' /C calc'!A0", "field": "vendor_sku"},
        {"header": "Name", "field": "name"},
        {"header": "Qty", "field": "quantity"},
    ]
    put_format(client, buyer, henry, columns)
    text = client.get(CSV, params={"supplier_id": henry, "format": "supplier"},
                      headers=buyer).text  # fmt: skip
    assert text.startswith("'=cmd|' /C calc'!A0,Name,Qty\r\n")
    assert '\'-1+1,"\'=HYPERLINK(""http://evil.example"",""x"")",5\r\n' in text


def test_a_layout_naming_an_unknown_field_is_refused_naming_the_column(
    client, database, buyer, henry
):
    columns = [*HENRY[:2], {"header": "Price", "field": "price"}]
    r = put_format(client, buyer, henry, columns)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "columns[2].field"
    assert "unknown field 'price'" in r.json()["detail"]
    assert format_count(database) == 0


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ([{"header": "Qty", "field": "quantity"}], "columns"),  # which item?
        ([{"header": "Item", "field": "vendor_sku"}], "columns"),  # how many?
        (
            [{"header": "Item", "field": "sku"}, {"header": "item", "field": "quantity"}],
            "columns[1].header",
        ),
    ],
)
def test_a_layout_without_item_or_quantity_or_with_a_repeated_header_is_refused(
    client, database, buyer, henry, columns, field
):
    r = put_format(client, buyer, henry, columns)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
    assert format_count(database) == 0


def test_a_layout_for_a_supplier_with_no_items_is_refused(client, database, inv, buyer):
    empty = inv.supplier("Nobody Supplies")
    r = put_format(client, buyer, empty, HENRY)
    assert r.status_code == 409 and "supplies no active item" in r.json()["detail"]
    assert format_count(database) == 0
    assert put_format(client, buyer, 999999, HENRY).status_code == 404


def test_format_supplier_needs_a_supplier_that_has_a_layout(client, buyer, henry):
    r = client.get(CSV, params={"format": "supplier"}, headers=buyer)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "supplier_id"
    r = client.get(CSV, params={"format": "supplier", "supplier_id": henry}, headers=buyer)
    assert r.status_code == 409 and "has no order format" in r.json()["detail"]
    assert client.get(CSV, params={"format": "fancy"}, headers=buyer).status_code == 422


def test_a_layout_is_read_replaced_and_removed_with_an_audit_trail(
    client, database, buyer, ma, henry
):
    assert client.get(f"/api/v1/suppliers/{henry}/order-format", headers=ma).status_code == 404
    put_format(client, buyer, henry, HENRY)
    put_format(client, buyer, henry, HENRY[:2], quantity_in="packs")
    got = client.get(f"/api/v1/suppliers/{henry}/order-format", headers=ma).json()
    assert got["columns"] == HENRY[:2] and got["quantity_in"] == "packs"
    assert put_format(client, ma, henry, HENRY).status_code == 403
    assert (
        client.delete(f"/api/v1/suppliers/{henry}/order-format", headers=buyer).status_code == 204
    )
    with database.session(write=False) as session:
        actions = list(session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("supplier.order_format%"))
            .order_by(AuditEntry.seq)
        ))  # fmt: skip
    assert actions == ["supplier.order_format"] * 2 + ["supplier.order_format_remove"]
    assert format_count(database) == 0


def test_the_command_line_writes_the_same_order_file(client, buyer, cli_env, henry, tmp_path):
    put_format(client, buyer, henry, HENRY, quantity_in="packs", delimiter="|")
    out = tmp_path / "henry.csv"
    result = CliRunner().invoke(
        main, ["reorder", "export", "--out", str(out), "--supplier", str(henry),
               "--format", "supplier"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    api = client.get(CSV, params={"supplier_id": henry, "format": "supplier"}, headers=buyer)
    assert out.read_bytes() == api.content and b"|" in api.content
    result = CliRunner().invoke(main, ["reorder", "export", "--out", str(out), "--format",
                                       "supplier"])  # fmt: skip
    assert result.exit_code != 0 and "--supplier" in result.output


def test_the_standard_csv_is_unchanged_by_a_layout(client, buyer, henry):
    put_format(client, buyer, henry, HENRY)
    text = client.get(CSV, params={"supplier_id": henry}, headers=buyer).text
    assert text.startswith("supplier,vendor_sku,sku,name,unit,pack_size,on_hand,on_order,par,")
