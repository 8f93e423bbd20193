"""Catalogue import (POST /api/v1/items/import, /api/v1/par-levels/import) through HTTP:
the 500-row distributor fixture (tests/inventory/fixtures, made by scripts/make_import_fixture.py),
dry runs, all-or-nothing rejection with every problem by row, re-imports, roles, limits."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inventory.catalogue_import import MAX_UPLOAD_BYTES, import_catalogue
from inventory.catalogue_import.rows import CellError, parse_bool, parse_gtin, parse_money
from inventory.models import Item, Location, StockLevel, Supplier
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from tests.inventory_factories import InventoryFactory

FIXTURES = Path(__file__).parent / "fixtures"
ITEMS = (FIXTURES / "distributor_items.csv").read_bytes()
ITEMS_SEMICOLON = (FIXTURES / "distributor_items_semicolon.csv").read_bytes()
PAR_LEVELS = (FIXTURES / "distributor_par_levels.csv").read_bytes()
HEADER = (
    "sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,lead_time_days,"
    "min_order_qty,lot_tracked,category\r\n"
)


def post_items(client, headers, content: bytes, *, dry_run: bool = False, name="items.csv"):
    return client.post(
        "/api/v1/items/import",
        params={"dry_run": "true"} if dry_run else None,
        files={"file": (name, content, "text/csv")},
        headers=headers,
    )


def post_par(client, headers, content: bytes, *, dry_run: bool = False):
    return client.post(
        "/api/v1/par-levels/import",
        params={"dry_run": "true"} if dry_run else None,
        files={"file": ("par.csv", content, "text/csv")},
        headers=headers,
    )


def counts(database) -> dict[str, int]:
    with database.session(write=False) as s:
        return {
            model.__name__: s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Item, Supplier, Location, StockLevel, AuditEntry)
        }


# --- rules for cells ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$1,234.50", "1234.50"), ("1234.5", "1234.5"), ("0.045", "0.045"), ("$0.06", "0.06"),
     ("1.234,50", "1234.50"), ("12,5", "12.5"), ("US$ 7.50", "7.50"), ("3", "3"),
     ("0,067", "0.067"), ("1,234", "1234")],
)  # fmt: skip
def test_money_accepts_what_spreadsheets_write(text, expected):
    assert parse_money(text) == Decimal(expected)


def test_money_with_a_decimal_comma_in_a_semicolon_file():
    assert parse_money("1,234", decimal_comma=True) == Decimal("1.234")
    assert parse_money("1.234,5", decimal_comma=True) == Decimal("1234.5")


@pytest.mark.parametrize("text", ["abc", "-1", "1.2.3,4,5", "$", "1,23,4", "0.00001", "1e3"])
def test_money_refuses_what_is_not_a_unit_cost(text):
    with pytest.raises(CellError):
        parse_money(text)


def test_booleans_are_read_case_insensitively():
    assert [parse_bool(t) for t in ("Yes", "y", "TRUE", "1", "no", "N", "false", "0", "")] == [
        True, True, True, True, False, False, False, False, False,
    ]  # fmt: skip
    with pytest.raises(CellError):
        parse_bool("maybe")


def test_gtin_check_digit_is_verified():
    assert parse_gtin("7032144072622") == "07032144072622"
    with pytest.raises(CellError, match="check digit"):
        parse_gtin("07032144072623")


# --- the distributor fixture -------------------------------------------------------


def test_dry_run_reports_every_row_and_writes_nothing(client, database, buyer):
    before = counts(database)
    response = post_items(client, buyer, ITEMS, dry_run=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True and report["accepted"] is True
    assert (report["created"], report["updated"], report["unchanged"]) == (500, 0, 0)
    assert [r["row"] for r in report["rows"]] == list(range(2, 502))
    assert {r["action"] for r in report["rows"]} == {"create"}
    assert len(report["suppliers_created"]) == 6
    assert report["problems"] == []
    assert counts(database) == before


def test_import_then_export_is_a_round_trip(client, database, buyer):
    assert post_items(client, buyer, ITEMS).json()["created"] == 500
    par = post_par(client, buyer, PAR_LEVELS).json()
    assert par["created"] == 999 and par["accepted"] is True
    exported = client.get("/api/v1/items.csv", headers=buyer)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.startswith(HEADER)
    par_export = client.get("/api/v1/par-levels.csv", headers=buyer)
    assert par_export.text.startswith("sku,location,par_level,reorder_point\r\n")
    assert par_export.text.count("\r\n") == 1000
    # The export read back is exactly what is stored: nothing to change.
    again = post_items(client, buyer, exported.content, dry_run=True).json()
    assert (again["unchanged"], again["created"], again["updated"]) == (500, 0, 0)
    again_par = post_par(client, buyer, par_export.content, dry_run=True).json()
    assert (again_par["unchanged"], again_par["created"], again_par["updated"]) == (999, 0, 0)
    # And the fixture's semicolon / decimal-comma variant is the same catalogue.
    variant = post_items(client, buyer, ITEMS_SEMICOLON, dry_run=True).json()
    assert variant["unchanged"] == 500
    # Values survived: "$1,234.50"-style money, blank optional cells, booleans.
    with database.session(write=False) as s:
        oximeter = s.scalar(select(Item).where(Item.sku == "EQU-0030"))
        assert oximeter is not None and oximeter.unit_cost == Decimal("978.91")
        first = s.scalar(select(Item).where(Item.sku == "GLO-0001"))
        assert first is not None
        assert (first.vendor_sku, first.gtin, first.category, first.lot_tracked) == (
            None, None, None, False,
        )  # fmt: skip
        level = s.scalar(
            select(StockLevel)
            .join(Item, Item.id == StockLevel.item_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Item.sku == "GLO-0001", Location.code == "SUPPLY")
        )
        assert level is not None and (level.par_level, level.reorder_point) == (5, 3)  # half, up


def test_reimport_reports_unchanged_updates_edited_rows_and_never_duplicates(
    client, database, buyer
):
    post_items(client, buyer, ITEMS)
    before = counts(database)
    again = post_items(client, buyer, ITEMS).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 500)
    assert counts(database)["Item"] == 500
    assert counts(database)["AuditEntry"] == before["AuditEntry"] + 1  # the summary only
    lines = ITEMS.decode("utf-8-sig").split("\r\n")
    assert lines[3].startswith("WOU-0003,") and ",pack," in lines[3]  # row 4 in the sheet
    lines[3] = lines[3].replace(",pack,", ",sleeve,")
    edited = "\r\n".join(lines).encode()
    report = post_items(client, buyer, edited).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 499)
    [row] = [r for r in report["rows"] if r["action"] == "update"]
    assert (row["row"], row["sku"], row["changed"]) == (4, "WOU-0003", ["unit"])
    assert counts(database)["Item"] == 500
    with database.session(write=False) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "item.update")).one()
        assert entry.entity_id == "WOU-0003"
        assert '"unit":"pack"' in (entry.before or "") and '"unit":"sleeve"' in (entry.after or "")


def test_import_is_audited_row_by_row_with_a_summary(client, database, buyer, users):
    post_items(client, buyer, ITEMS)
    post_par(client, buyer, PAR_LEVELS)
    with database.session(write=False) as s:
        actions = dict(
            s.execute(select(AuditEntry.action, func.count()).group_by(AuditEntry.action)).all()
        )
    assert actions["item.create"] == 500
    assert actions["supplier.create"] == 6
    assert actions["location.create"] == 4
    assert actions["item.par_level"] == 999
    assert actions["catalogue.import"] == 2
    verify = client.get("/api/v1/audit/verify", headers=users.headers(Role.AUDITOR)).json()
    assert verify["ok"] is True


def test_existing_suppliers_and_locations_are_matched_not_duplicated(client, database, buyer):
    inv = InventoryFactory(database)
    inv.supplier("medline industries")
    inv.location("EXAM1")
    report = post_items(client, buyer, ITEMS).json()
    assert "Medline Industries" not in report["suppliers_created"]
    assert len(report["suppliers_created"]) == 5
    par = post_par(client, buyer, PAR_LEVELS).json()
    assert par["locations_created"] == ["EXAM2", "PROC", "SUPPLY"]


# --- all or nothing ----------------------------------------------------------------


BAD_FILE = (
    "\ufeff"
    + HEADER
    + 'GZ-1,"Gauze 4x4",pack,10,Medline,,$1.5O,,,,no,\r\n'  # row 2: money with letter O
    + "GZ-2,Gauze 2x2,pack,-5,Medline,,1.00,,,,no,\r\n"  # row 3: negative pack size
    + "GZ-3,Gloves,box,100,Medline,,0.05,,,,no,\r\n"  # row 4: fine
    + "GZ-3,Gloves again,box,100,Medline,,0.05,,,,no,\r\n"  # row 5: duplicate SKU
    + "GZ-5,Mask,box,50,Medline,,0.10,07032144072623,,,no,\r\n"  # row 6: GTIN check digit
    + "GZ-6,,box,50,Medline,,0.10,,,,perhaps,\r\n"  # row 7: no name, bad boolean
    + "\r\n\r\n"  # trailing blank lines are fine
)


def test_five_kinds_of_bad_rows_are_all_reported_and_nothing_is_written(client, database, buyer):
    before = counts(database)
    response = post_items(client, buyer, BAD_FILE.encode())
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert "Nothing was written" in body["detail"]
    found = {(p["row"], p["column"]) for p in body["problems"]}
    assert found == {
        (2, "unit_cost"), (3, "pack_size"), (5, "sku"), (6, "gtin"), (7, "name"),
        (7, "lot_tracked"),
    }  # fmt: skip
    messages = {(p["row"], p["column"]): p["message"] for p in body["problems"]}
    assert "already in row 4" in messages[(5, "sku")]
    assert "check digit" in messages[(6, "gtin")]
    by_row = {r["row"]: r for r in body["rows"]}
    assert by_row[4]["action"] == "create"  # what the good row would have done
    assert {by_row[n]["action"] for n in (2, 3, 5, 6, 7)} == {"rejected"}
    assert len(by_row[7]["problems"]) == 2
    assert counts(database) == before
    # A dry run of the same file says the same and writes nothing either.
    dry = post_items(client, buyer, BAD_FILE.encode(), dry_run=True)
    assert dry.status_code == 422 and len(dry.json()["problems"]) == 6
    assert counts(database) == before


def test_par_file_with_unknown_sku_or_reorder_above_par_is_refused(client, database, buyer):
    inv = InventoryFactory(database)
    inv.item("GLV-M")
    before = counts(database)
    body = (
        "sku;location;par_level;reorder_point\r\n"
        "glv-m;exam1;10;\r\n"  # fine (normalized to GLV-M at EXAM1)
        "NOPE-1;EXAM1;10;5\r\n"  # unknown SKU
        "GLV-M;EXAM2;4;9\r\n"  # reorder point above par
        "GLV-M;EXAM1;12;6\r\n"  # the same item and location twice
        "GLV-M;BAD CODE;1;1\r\n"  # not a location code
        "GLV-M;EXAM3;ten;\r\n"  # not a number
    )
    response = post_par(client, buyer, body.encode())
    assert response.status_code == 422
    found = {(p["row"], p["column"]) for p in response.json()["problems"]}
    assert found == {(3, "sku"), (4, "reorder_point"), (5, "location"), (6, "location"),
                     (7, "par_level")}  # fmt: skip
    assert counts(database) == before


def test_lot_tracking_cannot_change_on_items_with_stock(client, database, buyer):
    inv = InventoryFactory(database)
    inv.locations("SUPPLY")
    inv.item("LOT-1", lot_tracked=False)
    inv.item("LOT-2", lot_tracked=False)
    received = client.post(
        "/api/v1/stock/movements",
        json={"kind": "receive", "sku": "LOT-1", "location": "SUPPLY", "quantity": 5},
        headers=buyer,
    )
    assert received.status_code == 201, received.text
    exported = client.get("/api/v1/items.csv", headers=buyer).text
    flipped = exported.replace(",no,", ",yes,")
    response = post_items(client, buyer, flipped.encode(), dry_run=True)
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["row"], problem["column"]) == (2, "lot_tracked")
    assert "lot tracking can only change at zero stock" in problem["message"]
    rows = {r["sku"]: r["action"] for r in response.json()["rows"]}
    assert rows == {"LOT-1": "rejected", "LOT-2": "update"}


def test_formula_cells_are_defused_on_export_and_read_back(client, database, buyer):
    cells = HEADER + 'GZ-1,"=HYPERLINK(""x"")",box,1,+Medline,-12,1.00,,,,no,@cat\r\n'
    assert post_items(client, buyer, cells.encode()).status_code == 200
    exported = client.get("/api/v1/items.csv", headers=buyer).text
    assert "'=HYPERLINK" in exported and "'+Medline" in exported and "'-12" in exported
    assert "'@cat" in exported
    again = post_items(client, buyer, exported.encode(), dry_run=True).json()
    assert again["unchanged"] == 1


# --- garbage, roles, limits --------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"sku,name\r\nA,B\r\n", "Missing columns: unit, pack_size"),
        (HEADER.encode(), "no rows"),
        ("sku,name,unit\r\n".encode("utf-16"), "binary"),
        ("sku;name\r\nÄ;B".encode("latin-1"), "not UTF-8"),
    ],
)
def test_garbage_is_refused_with_a_reason(client, database, buyer, content, expected):
    before = counts(database)
    response = post_items(client, buyer, content)
    assert response.status_code == 422, response.text
    assert expected in response.json()["problems"][0]["message"]
    assert counts(database) == before


def test_rows_with_an_unquoted_comma_are_each_reported(client, database, buyer):
    body = HEADER + "A-1,Gauze,box,1,Medline,,$1,234.50,,,,no,\r\n"
    body += "A-2,Gauze,box,1,Medline,,$2.00,,,,no,\r\nA-3,Tape,box,1,Medline,,$1,000,,,,no,\r\n"
    response = post_items(client, buyer, body.encode())
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert [p["row"] for p in problems] == [2, 4]
    assert "13 cells but the header has 12" in problems[0]["message"]


def test_missing_file_field_is_a_client_error(client, buyer):
    response = client.post("/api/v1/items/import", files={"other": ("x.csv", b"x")}, headers=buyer)
    assert 400 <= response.status_code < 500 and response.status_code != 404


def test_a_file_over_5_mb_is_refused_with_413(client, database, buyer):
    before = counts(database)
    big = HEADER.encode() + b"x" * (MAX_UPLOAD_BYTES + 10)
    response = post_items(client, buyer, big)
    assert response.status_code == 413
    assert counts(database) == before


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_only_purchasing_and_admin_may_import(client, database, users, role):
    headers = users.headers(role)
    assert post_items(client, headers, ITEMS).status_code == 403
    assert post_par(client, headers, PAR_LEVELS).status_code == 403
    assert post_items(client, users.headers(Role.ADMIN), ITEMS, dry_run=True).status_code == 200
    assert counts(database)["Item"] == 0


def test_anonymous_import_and_export_need_a_token(client):
    assert post_items(client, {}, ITEMS).status_code == 401
    assert client.get("/api/v1/items.csv").status_code == 401
    assert client.get("/api/v1/par-levels.csv").status_code == 401


def test_items_and_par_levels_in_one_call_share_one_transaction(database):
    """The CLI and the page send both files: par rows may name SKUs the items file adds,
    and a bad par row keeps the items from being written too."""
    par = b"sku,location,par_level,reorder_point\r\nGLO-0001,EXAM1,10,\r\n"
    with database.session() as s:
        result = import_catalogue(s, actor="t", items=ITEMS, par_levels=par)
        assert result.accepted and result.par_levels and result.par_levels.created == 1
    before = counts(database)
    bad = b"sku,location,par_level,reorder_point\r\nGLO-0001,EXAM1,x,\r\n"
    edited = ITEMS.replace(b"Pulse oximeter, XS", b"Pulse oximeter, extra small")
    with database.session() as s:
        result = import_catalogue(s, actor="t", items=edited, par_levels=bad)
        assert not result.accepted and result.items and result.items.updated == 2  # XS twice
    assert counts(database) == before
