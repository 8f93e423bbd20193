"""Stock views: filters, expiring lots, and the daily restock round from the supply room."""

from __future__ import annotations

import pytest

from kernel.auth.models import Role
from tests.inventory_factories import days_from_today, move, on_hand


def test_restock_list_brings_locations_below_reorder_up_to_par_limited_by_source(client, inv, ma):
    gauze = inv.item("GAUZE")
    gloves = inv.item("GLOVES")
    for loc in ("EXAM1", "EXAM2"):
        inv.par(gauze, loc, 10)  # reorder point 5
        inv.par(gloves, loc, 4, reorder_point=1)
    move(client, ma, kind="receive", sku=gauze, location="SUPPLY", quantity=12)
    move(client, ma, kind="receive", sku=gauze, location="EXAM1", quantity=2)
    move(client, ma, kind="receive", sku=gauze, location="EXAM2", quantity=6)  # above reorder
    move(client, ma, kind="receive", sku=gloves, location="EXAM1", quantity=2)  # above reorder
    r = client.get("/api/v1/stock/restock", params={"from_location": "supply"}, headers=ma)
    assert r.status_code == 200, r.text
    rows = [(x["sku"], x["to_location"], x["needed"], x["quantity"]) for x in r.json()["items"]]
    assert rows == [("GAUZE", "EXAM1", 8, 8), ("GLOVES", "EXAM2", 4, 0)]


def test_restock_list_shares_scarce_source_stock_and_skips_expired(client, inv, ma):
    sku = inv.item("SWAB", lot_tracked=True)
    for loc in ("EXAM1", "EXAM2"):
        inv.par(sku, loc, 10)
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=12, lot="OK",
         expires_on=days_from_today(50))  # fmt: skip
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=50, lot="OLD",
         expires_on=days_from_today(-5))  # fmt: skip
    items = client.get("/api/v1/stock/restock", headers=ma).json()["items"]
    assert [(x["to_location"], x["quantity"], x["source_on_hand"]) for x in items] == [
        ("EXAM1", 10, 12),
        ("EXAM2", 2, 12),
    ]


def test_restock_round_is_recorded_as_transfers_in_one_request(client, inv, ma):
    a, b = inv.item("A"), inv.item("B")
    move(client, ma, kind="receive", sku=a, location="SUPPLY", quantity=10)
    move(client, ma, kind="receive", sku=b, location="SUPPLY", quantity=10)
    r = client.post(
        "/api/v1/stock/restock",
        json={"from_location": "SUPPLY", "lines": [
            {"sku": b, "to_location": "EXAM2", "quantity": 3},
            {"sku": a, "to_location": "EXAM1", "quantity": 4},
            {"sku": a, "to_location": "EXAM2", "quantity": 1},
        ]},
        headers=ma,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["movements"]) == 3
    assert inv.movement_count() == 2 + 3 * 2
    assert on_hand(client, ma, a, "SUPPLY") == 5
    assert on_hand(client, ma, b, "EXAM2") == 3
    ledger = client.get("/api/v1/stock/movements", params={"reference": body["reference"]},
                        headers=ma).json()  # fmt: skip
    assert ledger["total"] == 6
    assert inv.invariant_violations() == []


def test_restock_round_with_one_short_line_records_nothing(client, inv, ma):
    a, b = inv.item("A"), inv.item("B")
    move(client, ma, kind="receive", sku=a, location="SUPPLY", quantity=10)
    move(client, ma, kind="receive", sku=b, location="SUPPLY", quantity=1)
    before = inv.movement_count()
    r = client.post(
        "/api/v1/stock/restock",
        json={"from_location": "SUPPLY", "lines": [
            {"sku": a, "to_location": "EXAM1", "quantity": 4},
            {"sku": b, "to_location": "EXAM1", "quantity": 2},
        ]},
        headers=ma,
    )  # fmt: skip
    assert r.status_code == 409
    assert "Nothing from this round was recorded" in r.json()["detail"]
    assert inv.movement_count() == before


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"sku": "A", "to_location": "SUPPLY", "quantity": 1}],
        [{"sku": "A", "to_location": "EXAM1", "quantity": 0}],
        [{"sku": "A", "to_location": "EXAM1", "quantity": 1}] * 2,
    ],
)
def test_bad_restock_round_is_422(client, inv, ma, lines):
    inv.item("A")
    r = client.post("/api/v1/stock/restock", json={"from_location": "SUPPLY", "lines": lines},
                    headers=ma)  # fmt: skip
    assert r.status_code == 422, r.text
    assert inv.movement_count() == 0


def test_purchasing_and_auditor_cannot_record_a_restock_round(client, inv, users):
    inv.item("A")
    body = {"from_location": "SUPPLY", "lines": [{"sku": "A", "to_location": "EXAM1",
                                                   "quantity": 1}]}  # fmt: skip
    for role in (Role.PURCHASING, Role.AUDITOR):
        r = client.post("/api/v1/stock/restock", json=body, headers=users.headers(role))
        assert r.status_code == 403


def test_stock_filters_by_location_sku_and_below_reorder(client, inv, ma):
    a, b = inv.item("A"), inv.item("B")
    inv.par(a, "EXAM1", 10)
    inv.par(b, "EXAM1", 10)
    move(client, ma, kind="receive", sku=a, location="EXAM1", quantity=8)
    move(client, ma, kind="receive", sku=b, location="EXAM1", quantity=5)  # at reorder point
    move(client, ma, kind="receive", sku=a, location="SUPPLY", quantity=1)
    rows = client.get("/api/v1/stock", params={"location": "exam1"}, headers=ma).json()["items"]
    assert [(r["sku"], r["on_hand"]) for r in rows] == [("A", 8), ("B", 5)]
    rows = client.get("/api/v1/stock", params={"below_reorder": "true"}, headers=ma).json()
    assert [(r["sku"], r["location"]) for r in rows["items"]] == [("B", "EXAM1")]
    rows = client.get("/api/v1/stock", params={"sku": "a"}, headers=ma).json()["items"]
    assert [(r["location"], r["on_hand"], r["par_level"]) for r in rows] == [
        ("EXAM1", 8, 10),
        ("SUPPLY", 1, None),
    ]
    assert client.get("/api/v1/stock", params={"below_reorder": "maybe"},
                      headers=ma).status_code in (400, 422)  # fmt: skip


def test_expiring_lists_lots_within_n_days_including_expired(client, inv, ma):
    sku = inv.item("BI", lot_tracked=True)
    for lot, days in [("PAST", -3), ("SOON", 10), ("LATER", 40), ("EMPTY", 5)]:
        move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=2, lot=lot,
             expires_on=days_from_today(days))  # fmt: skip
    move(client, ma, kind="discard", sku=sku, location="SUPPLY", quantity=2, lot="EMPTY",
         reason="damaged")  # fmt: skip
    r = client.get("/api/v1/stock/expiring", params={"within_days": 30}, headers=ma)
    assert r.status_code == 200
    rows = [(x["lot"], x["expired"], x["quantity"]) for x in r.json()["items"]]
    assert rows == [("PAST", True, 2), ("SOON", False, 2)]
    assert client.get("/api/v1/stock/expiring", params={"within_days": -1},
                      headers=ma).status_code in (400, 422)  # fmt: skip
