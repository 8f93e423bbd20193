"""Packaging levels in the catalogue import and export (`sku,gtin,units,name`): matched by
GTIN, all or nothing, every problem by row, GTINs unique across items and levels, and an
export that imports back unchanged; through HTTP and the command line on both databases."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inventory.gs1 import with_check_digit
from inventory.models import ItemPackaging
from steristock.cli import main
from tests.inventory_factories import InventoryFactory

HEADER = "sku,gtin,units,name\r\n"
EACH = with_check_digit("0061414100001")
BOX = with_check_digit("1061414100001")
CASE = with_check_digit("2061414100001")
GAUZE_BOX = with_check_digit("1061414100002")


def post(client, headers, text: str, *, dry_run: bool = False, path="packagings"):
    return client.post(
        f"/api/v1/{path}/import",
        params={"dry_run": "true"} if dry_run else None,
        files={"file": ("packagings.csv", text.encode(), "text/csv")},
        headers=headers,
    )


def levels(database) -> list[tuple[str, int, str]]:
    with database.session(write=False) as session:
        return [
            tuple(r)
            for r in session.execute(
                select(ItemPackaging.gtin, ItemPackaging.units, ItemPackaging.name).order_by(
                    ItemPackaging.gtin
                )
            )
        ]


@pytest.fixture
def catalogue(inv: InventoryFactory) -> None:
    inv.item("GLV-M", gtin=EACH, pack_size=100)
    inv.item("GAUZE", pack_size=10)


def test_a_packagings_file_adds_and_updates_levels_by_gtin(client, database, buyer, catalogue):
    text = HEADER + f"GLV-M,{BOX},100,box\r\nglv-m,{CASE},1000,case\r\nGAUZE,{GAUZE_BOX},10,box\r\n"
    dry = post(client, buyer, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["dry_run"]) == (3, True)
    assert levels(database) == []
    report = post(client, buyer, text).json()
    assert report["created"] == 3 and report["rows"][1] == {
        "row": 3, "sku": "GLV-M", "action": "create", "gtin": CASE,
    }  # fmt: skip
    assert levels(database) == [(BOX, 100, "box"), (GAUZE_BOX, 10, "box"), (CASE, 1000, "case")]

    again = post(client, buyer, HEADER + f"GLV-M,{CASE},1200,carton\r\nGLV-M,{BOX},100,box\r\n")
    assert (again.json()["updated"], again.json()["unchanged"]) == (1, 1)
    assert again.json()["rows"][0]["changed"] == ["units", "name"]

    exported = client.get("/api/v1/packagings.csv", headers=buyer)
    assert exported.text == (
        HEADER + f"GAUZE,{GAUZE_BOX},10,box\r\nGLV-M,{BOX},100,box\r\nGLV-M,{CASE},1200,carton\r\n"
    )
    round_trip = post(client, buyer, exported.text).json()
    assert round_trip["unchanged"] == 3 and round_trip["created"] == round_trip["updated"] == 0


def test_a_bad_packagings_file_reports_every_row_and_writes_nothing(
    client, database, buyer, catalogue
):
    text = (
        HEADER
        + (
            f"GLV-M,{BOX},0,box\r\n"  # row 2: no units
            f"GLV-M,{EACH},100,box\r\n"  # row 3: the item's own GTIN
            f"NOPE,{CASE},1000,case\r\n"  # row 4: unknown SKU
            f"GAUZE,{GAUZE_BOX},10,box\r\n"  # row 5: fine
            f"GAUZE,{GAUZE_BOX},20,bag\r\n"  # row 6: the GTIN twice in the file
            f"GAUZE,{BOX[:-1]}0,10,box\r\n"  # row 7: check digit
            "GAUZE,,10,\r\n"  # row 8: blank GTIN and name
        )
    )
    r = post(client, buyer, text)
    assert r.status_code == 422
    problems = {(p["row"], p["column"]) for p in r.json()["problems"]}
    assert {(2, "units"), (3, "gtin"), (4, "sku"), (6, "gtin"), (7, "gtin"), (8, "gtin"),
            (8, "name")} <= problems  # fmt: skip
    assert (5, "gtin") not in problems
    assert levels(database) == []


def test_a_gtin_of_another_items_level_or_a_used_levels_units_are_refused(
    client, database, buyer, ma, inv, catalogue
):
    assert post(client, buyer, HEADER + f"GLV-M,{CASE},1000,case\r\n").status_code == 200
    r = post(client, buyer, HEADER + f"GAUZE,{CASE},10,box\r\n")
    assert r.status_code == 422 and "the case (1000) of item GLV-M" in r.text
    scanned = client.post(
        "/api/v1/stock/receive-barcode",
        json={"barcode": f"(01){CASE}", "location": "SUPPLY", "quantity": 1},
        headers=ma,
    )
    assert scanned.status_code == 201
    r = post(client, buyer, HEADER + f"GLV-M,{CASE},1200,case\r\n")
    assert r.status_code == 422 and r.json()["problems"][0]["column"] == "units"
    # An items file cannot give an item a GTIN a level holds either.
    items = (
        "sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,lead_time_days,"
        f"min_order_qty,lot_tracked,category\r\nGAUZE,Gauze,each,10,Acme,,1,{CASE},,,no,\r\n"
    )
    r = post(client, buyer, items, path="items")
    assert r.status_code == 422 and "the case (1000) of item GLV-M" in r.text
    assert levels(database) == [(CASE, 1000, "case")]


def test_items_and_their_levels_import_together_from_the_command_line(cli_env, database, tmp_path):
    items = tmp_path / "items.csv"
    items.write_text(
        "sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,lead_time_days,"
        "min_order_qty,lot_tracked,category\r\n"
        f"NEW-1,New gloves,each,100,Acme,,0.05,{EACH},,,no,\r\n"
    )
    packs = tmp_path / "packagings.csv"
    packs.write_text(HEADER + f"NEW-1,{BOX},100,box\r\nNEW-1,{EACH},1,each\r\n")
    result = CliRunner().invoke(main, ["items", "import", str(items), "--packagings", str(packs)])
    assert result.exit_code == 1 and f"GTIN {EACH} is the own GTIN of item NEW-1" in result.output
    packs.write_text(HEADER + f"NEW-1,{BOX},100,box\r\n")
    result = CliRunner().invoke(main, ["items", "import", str(items), "--packagings", str(packs)])
    assert result.exit_code == 0, result.output
    assert levels(database) == [(BOX, 100, "box")]
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main, ["items", "export", "--out", str(tmp_path / "i.csv"), "--packagings-out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == (HEADER + f"NEW-1,{BOX},100,box\r\n").encode()


def test_only_purchasing_imports_levels(client, users, catalogue):
    from kernel.auth.models import Role

    r = post(client, users.headers(Role.MA), HEADER + f"GLV-M,{BOX},100,box\r\n")
    assert r.status_code == 403
    assert (
        client.get("/api/v1/packagings.csv", headers=users.headers(Role.AUDITOR)).status_code == 200
    )
