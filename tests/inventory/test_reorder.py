"""Reorder suggestions: the spec's formulas, usage figures, the CSV and the par review,
through real HTTP on both databases."""

from __future__ import annotations

import io
from decimal import Decimal

import pandas as pd
import pytest

from inventory.reorder import CSV_COLUMNS, SUGGESTION_COLUMNS
from kernel.auth.models import Role
from tests.inventory.reorder_factories import consume, on_order, receive
from tests.inventory_factories import TODAY


def suggestions(client, headers, **params):
    r = client.get("/api/v1/reorder/suggestions", params={"limit": 1000, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return {row["sku"]: row for row in r.json()["items"]}


# on_hand, on_order, par, reorder_point, pack_size, min_order_qty -> order_packs, suggested_qty
FORMULA_CASES = {
    "below reorder point": (12, 0, 80, 40, 10, 0, 7, 70),
    "at reorder point": (40, 0, 80, 40, 10, 0, 4, 40),
    "above reorder point": (41, 0, 80, 40, 10, 0, None, None),
    "on order covers the need": (10, 40, 80, 40, 10, 0, None, None),
    "on order counted in position": (10, 20, 80, 40, 10, 0, 5, 50),
    "nothing on hand, pack rounding up": (0, 0, 25, 10, 12, 0, 3, 36),
    "pack of one": (3, 0, 9, 4, 1, 0, 6, 6),
    "min order qty raises the packs": (5, 0, 20, 10, 5, 100, 20, 100),
    "min order qty not a pack multiple": (0, 0, 12, 6, 10, 42, 5, 50),
    "min order qty below the need": (0, 0, 50, 20, 10, 30, 5, 50),
}


@pytest.mark.parametrize("case", FORMULA_CASES, ids=list(FORMULA_CASES))
def test_suggestion_follows_the_spec_formula(client, database, inv, buyer, case):
    on_hand, ordered, par, point, pack, min_qty, packs, qty = FORMULA_CASES[case]
    sku = inv.item(pack_size=pack, min_order_qty=min_qty, unit_cost=Decimal("0.045"))
    inv.par(sku, "SUPPLY", par, point)
    if on_hand:
        receive(database, sku, "SUPPLY", on_hand)
    if ordered:
        on_order(database, inv.default_supplier(), {sku: ordered})
    rows = suggestions(client, buyer)
    if packs is None:
        assert sku not in rows
        return
    row = rows[sku]
    assert row["on_hand"] == on_hand
    assert row["on_order"] == ordered
    assert row["par"] == par
    assert row["reorder_point"] == point
    assert row["position"] == on_hand + ordered
    assert row["need"] == par - on_hand - ordered
    assert row["order_packs"] == packs
    assert row["suggested_qty"] == qty
    assert row["suggested_qty"] >= min_qty
    assert row["unit_cost"] == "0.045"
    assert Decimal(row["line_total"]) == (qty * Decimal("0.045")).quantize(Decimal("0.01"))
    assert row["reason"].startswith(
        f"{'at' if on_hand + ordered == point else 'below'} reorder point {point}: "
        f"on hand {on_hand} + on order {ordered}"
    )
    if qty > par - on_hand - ordered and min_qty > par - on_hand - ordered:
        assert f"minimum order {min_qty}" in row["reason"]


def test_an_item_stocked_in_several_locations_sums_on_hand_par_and_reorder_points(
    client, database, inv, buyer
):
    sku = inv.item(pack_size=10)
    inv.par(sku, "SUPPLY", 50, 20)
    inv.par(sku, "EXAM1", 10, 4)
    inv.par(sku, "EXAM2", 6)  # reorder point defaults to 3
    receive(database, sku, "SUPPLY", 15)
    receive(database, sku, "EXAM1", 5)
    receive(database, sku, "EXAM2", 7)
    row = suggestions(client, buyer)[sku]
    assert (row["on_hand"], row["par"], row["reorder_point"]) == (27, 66, 27)
    assert (row["need"], row["order_packs"], row["suggested_qty"]) == (39, 4, 40)


def test_usage_is_consumption_of_the_last_56_clinic_days_and_gives_cover_and_usage_par(
    client, database, inv, buyer
):
    sku = inv.item(pack_size=1, lead_time_days=7)
    inv.par(sku, "SUPPLY", 1000, 900)
    receive(database, sku, "SUPPLY", 400)
    consume(database, sku, "SUPPLY", 100, days_ago=1)
    consume(database, sku, "SUPPLY", 12, days_ago=56)  # the window's first day
    consume(database, sku, "SUPPLY", 50, days_ago=57)  # before the window
    consume(database, sku, "SUPPLY", 30, days_ago=0)  # today: not a complete day yet
    row = suggestions(client, buyer)[sku]
    assert row["on_hand"] == 400 - 192
    assert row["avg_daily_usage"] == 2.0  # 112 / 56
    assert row["days_of_cover"] == 104.0  # 208 / 2
    assert row["usage_par"] == 34  # ceil(2 * (7 + 7) * 1.2) = ceil(33.6)
    assert row["lead_time_days"] == 7


def test_usage_par_uses_the_supplier_lead_time_and_exact_arithmetic(client, database, inv, buyer):
    supplier = inv.supplier(lead_time_days=3)
    sku = inv.item(supplier_id=supplier)
    inv.par(sku, "SUPPLY", 100, 100)
    receive(database, sku, "SUPPLY", 70)
    consume(database, sku, "SUPPLY", 70, days_ago=3)  # 1.25 / day
    row = suggestions(client, buyer)[sku]
    assert row["lead_time_days"] == 3
    assert row["avg_daily_usage"] == 1.25
    assert row["usage_par"] == 15  # 1.25 * 10 * 1.2 = 15 exactly: no float rounding up to 16
    assert row["days_of_cover"] == 0.0


def test_zero_usage_leaves_days_of_cover_null(client, inv, buyer):
    sku = inv.item()
    inv.par(sku, "SUPPLY", 10)
    row = suggestions(client, buyer)[sku]
    assert row["avg_daily_usage"] == 0
    assert row["days_of_cover"] is None
    assert row["usage_par"] == 0


def test_inactive_items_and_items_without_par_never_appear(client, database, inv, buyer):
    no_par = inv.item()
    receive(database, no_par, "SUPPLY", 1)
    inactive = inv.item()
    inv.par(inactive, "SUPPLY", 10)
    r = client.patch(f"/api/v1/items/{inactive}", json={"active": False}, headers=buyer)
    assert r.status_code == 200, r.text
    wanted = inv.item()
    inv.par(wanted, "SUPPLY", 10)
    rows = suggestions(client, buyer)
    assert set(rows) == {wanted}
    assert rows[wanted]["supplier_missing"] is False


def test_suggestions_sort_by_supplier_then_sku_and_filter_by_supplier(client, inv, buyer):
    zeta = inv.supplier("Zeta Medical")
    acme = inv.supplier("Acme Surgical")
    for sku, supplier in [("B-2", acme), ("A-9", zeta), ("A-1", acme), ("C-3", zeta)]:
        inv.item(sku, supplier_id=supplier)
        inv.par(sku, "SUPPLY", 5)
    r = client.get("/api/v1/reorder/suggestions", headers=buyer)
    assert [(row["supplier"], row["sku"]) for row in r.json()["items"]] == [
        ("Acme Surgical", "A-1"), ("Acme Surgical", "B-2"),
        ("Zeta Medical", "A-9"), ("Zeta Medical", "C-3"),
    ]  # fmt: skip
    rows = suggestions(client, buyer, supplier_id=zeta)
    assert list(rows) == ["A-9", "C-3"]
    r = client.get("/api/v1/reorder/suggestions", params={"supplier_id": 999}, headers=buyer)
    assert r.status_code == 404
    r = client.get("/api/v1/reorder/suggestions", params={"supplier_id": "x"}, headers=buyer)
    assert r.status_code == 422


def test_csv_has_the_exact_columns_a_dated_filename_and_equals_the_json(
    client, database, inv, buyer
):
    acme = inv.supplier("Acme, Inc.")  # a comma in a field must survive quoting
    for n, (cost, pack, min_qty) in enumerate(
        [("0.045", 100, 0), ("12.5", 1, 0), ("0.0455", 7, 0), ("3", 12, 30)]
    ):
        sku = inv.item(f"CSV-{n}", name=f'Gauze "4x4", pack {n}', pack_size=pack,
                       unit_cost=Decimal(cost), min_order_qty=min_qty, supplier_id=acme,
                       vendor_sku=f"V{n}" if n % 2 else None)  # fmt: skip
        inv.par(sku, "SUPPLY", 40 + n, 20)
        receive(database, sku, "SUPPLY", n * 3 + 1)
        if n:
            consume(database, sku, "SUPPLY", n, days_ago=2)
    r = client.get("/api/v1/reorder/suggestions.csv", headers=buyer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="reorder-{TODAY}.csv"'
    header = r.text.splitlines()[0]
    assert header.split(",")[: len(CSV_COLUMNS)] == CSV_COLUMNS
    one_site = [c for c in SUGGESTION_COLUMNS if c != "site"]  # one site: no site column
    assert header.split(",") == one_site
    frame = pd.read_csv(io.StringIO(r.text), dtype=str, keep_default_na=False)
    json_rows = client.get("/api/v1/reorder/suggestions", headers=buyer).json()["items"]
    assert len(frame) == len(json_rows) == 4
    for csv_row, json_row in zip(frame.to_dict("records"), json_rows, strict=True):
        assert json_row["site"] == "MAIN"
        for column in one_site:
            value = json_row[column]
            expected = "" if value is None else str(value).lower() if isinstance(
                value, bool) else str(value)  # fmt: skip
            got = csv_row[column].lower() if isinstance(value, bool) else csv_row[column]
            assert got == expected, (column, got, expected)
    # numbers without float noise: integers as integers, money with 2 (up to 4) decimals
    lines = r.text.splitlines()
    assert "0.045" in lines[1] and "4.50" in lines[1]  # 100 x 0.045
    assert frame["line_total"].str.fullmatch(r"\d+\.\d\d").all()
    assert frame["suggested_qty"].str.fullmatch(r"\d+").all()


def test_csv_with_no_suggestions_still_has_the_header(client, inv, buyer):
    r = client.get("/api/v1/reorder/suggestions.csv", headers=buyer)
    assert r.status_code == 200
    assert r.text.strip() == ",".join(c for c in SUGGESTION_COLUMNS if c != "site")


def test_csv_for_one_supplier_names_it_in_the_filename(client, inv, buyer):
    supplier = inv.supplier()
    r = client.get(
        "/api/v1/reorder/suggestions.csv", params={"supplier_id": supplier}, headers=buyer
    )
    assert r.status_code == 200
    assert f"reorder-{TODAY}-supplier-{supplier}.csv" in r.headers["content-disposition"]


def test_par_review_lists_items_whose_usage_par_differs_by_more_than_25_percent(
    client, database, inv, buyer
):
    # usage 1/day, lead 7: usage_par = ceil(1 * 14 * 1.2) = 17
    skus = {}
    for par in (12, 13, 17, 21, 22):
        sku = inv.item(f"PR-{par}", lead_time_days=7)
        inv.par(sku, "SUPPLY", par)
        receive(database, sku, "SUPPLY", 56)
        consume(database, sku, "SUPPLY", 56, days_ago=5)
        skus[par] = sku
    r = client.get("/api/v1/reorder/par-review", headers=buyer)
    assert r.status_code == 200, r.text
    rows = {row["sku"]: row for row in r.json()["items"]}
    # listed when |17 - par| > par / 4: 12 (5 > 3) and 13 (4 > 3.25); not 21 or 22 (5 <= 5.5)
    assert set(rows) == {skus[12], skus[13]}
    assert rows[skus[12]]["usage_par"] == 17
    assert rows[skus[12]]["change"] == 5
    assert rows[skus[12]]["reason"].startswith("raise par 12 to 17")


def test_par_review_suggests_lowering_par_for_unused_items(client, inv, buyer):
    sku = inv.item()
    inv.par(sku, "SUPPLY", 40)
    rows = client.get("/api/v1/reorder/par-review", headers=buyer).json()["items"]
    assert [(r["sku"], r["usage_par"], r["change"]) for r in rows] == [(sku, 0, -40)]
    assert rows[0]["reason"].startswith("lower par 40 to 0")


@pytest.mark.parametrize(
    "role, status", [(Role.MA, 200), (Role.AUDITOR, 200), (Role.PURCHASING, 200), (Role.ADMIN, 200)]
)
def test_every_role_reads_suggestions_csv_and_par_review(client, inv, users, role, status):
    headers = users.headers(role)
    for path in ("suggestions", "suggestions.csv", "par-review"):
        assert client.get(f"/api/v1/reorder/{path}", headers=headers).status_code == status


def test_reorder_needs_a_token(client, inv):
    assert client.get("/api/v1/reorder/suggestions.csv").status_code == 401
