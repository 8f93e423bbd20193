"""What counts as use, movements recorded after the fact, and the ledger's running balance
(spec section 13), through real HTTP on both databases.

Usage is what left the shelf: consumption, plus the shortfall a count finds in usable
stock. A count finding more is a gain, a transfer moves stock, a discard of expired stock
throws it away: none of them is use. `occurred_at` places a movement (and its use) on the
day it happened; it is applied to the books when it is recorded, so its `on_hand_after`
is the balance at recording, and in id order each row's balance is the previous one's
plus its quantity.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from inventory.models import StockMovement
from kernel.clock import FixedClock
from tests.inventory_factories import InventoryFactory, days_from_today, move, on_hand

ZONE = ZoneInfo("America/Chicago")
# Wednesday 2026-11-18, 15:00 in the clinic
NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=ZONE)


@pytest.fixture
def clock(app) -> FixedClock:
    fixed = FixedClock(ZONE, NOW)
    app.state.clock = fixed
    return fixed


def ago(**delta: float) -> str:
    return (NOW - dt.timedelta(**delta)).isoformat()


def used_by_day(client, headers, sku: str) -> dict[str, int]:
    """The ledger's use per clinic day (from GET /stock/movements, as a person would)."""
    rows = client.get(
        "/api/v1/stock/movements", params={"sku": sku, "limit": 500}, headers=headers
    ).json()["items"]
    days: dict[str, int] = {}
    for row in rows:
        if row["used"]:
            day = dt.datetime.fromisoformat(row["at"]).astimezone(ZONE).date().isoformat()
            days[day] = days.get(day, 0) + row["used"]
    return days


def reorder_row(client, headers, sku):
    rows = client.get("/api/v1/reorder/suggestions", headers=headers).json()["items"]
    found = [r for r in rows if r["sku"] == sku]
    return found[0] if found else None


@pytest.fixture
def gauze(inv: InventoryFactory, client, ma, clock) -> str:
    sku = inv.item("GAUZE")
    inv.par(sku, "EXAM1", 1000, 1000)  # always suggested: the usage figures show on the row
    assert move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=100,
                occurred_at=ago(days=7)).status_code == 201  # fmt: skip
    return sku


def test_usage_counts_consumption_and_count_shortfalls(client, ma, gauze):
    assert move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=10,
                occurred_at=ago(days=5)).status_code == 201  # fmt: skip
    r = move(client, ma, kind="count", sku=gauze, location="EXAM1", quantity=70,
             occurred_at=ago(days=3))  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["expected_on_hand"], body["used"], body["on_hand_after"]) == (90, 20, 70)
    row = reorder_row(client, ma, gauze)
    assert row["units_used"] == 30 and row["avg_daily_usage"] == round(30 / 56, 3)
    assert used_by_day(client, ma, gauze) == {"2026-11-13": 10, "2026-11-15": 20}


def test_a_count_finding_more_than_expected_is_a_gain_not_use(client, ma, gauze):
    r = move(client, ma, kind="count", sku=gauze, location="EXAM1", quantity=104)
    assert r.status_code == 201 and r.json()["used"] == 0 and r.json()["on_hand_after"] == 104
    assert reorder_row(client, ma, gauze)["units_used"] == 0


def test_a_transfer_is_not_use(client, ma, gauze):
    r = move(client, ma, kind="transfer", sku=gauze, location="EXAM1", quantity=40,
             to_location="EXAM2", occurred_at=ago(days=1))  # fmt: skip
    assert r.status_code == 201 and r.json()["used"] == 0
    # The other room's count then finds what arrived: no use either.
    r = move(client, ma, kind="count", sku=gauze, location="EXAM2", quantity=40)
    assert r.json()["used"] == 0
    assert reorder_row(client, ma, gauze)["units_used"] == 0


def test_a_discard_of_expired_stock_is_not_use(client, inv, ma, clock):
    sku = inv.item("BI", lot_tracked=True)
    inv.par(sku, "EXAM1", 50, 50)
    expired = clock.today() - dt.timedelta(days=2)
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=10, lot="OLD",
         expires_on=expired, occurred_at=ago(days=6))  # fmt: skip
    r = move(client, ma, kind="discard", sku=sku, location="EXAM1", quantity=10,
             reason="expired")  # fmt: skip
    assert r.status_code == 201 and r.json()["used"] == 0
    assert reorder_row(client, ma, sku)["units_used"] == 0


def test_a_count_shortfall_comes_off_usable_lots_first_and_expired_stock_stays(
    client, inv, ma, clock
):
    """The units people used were good ones (expired units are never consumed); the
    expired box stays on the books until someone discards it."""
    sku = inv.item("SUT", lot_tracked=True)
    inv.par(sku, "EXAM1", 50, 50)
    old = clock.today() - dt.timedelta(days=2)
    for lot, expires in (("OLD", old), ("NEW", clock.today() + dt.timedelta(days=200))):
        move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=10, lot=lot,
             expires_on=expires, occurred_at=ago(days=6))  # fmt: skip
    r = move(client, ma, kind="count", sku=sku, location="EXAM1", quantity=16,
             occurred_at=ago(hours=20))  # yesterday evening  # fmt: skip
    assert r.status_code == 201, r.text
    assert [(c["lot"], c["quantity"], c["used"]) for c in r.json()["lots"]] == [("NEW", -4, 4)]
    row = reorder_row(client, ma, sku)
    assert (row["on_hand"], row["expired_on_hand"], row["units_used"]) == (6, 10, 4)

    # A shortfall beyond the usable stock: the rest is expired stock gone, not use.
    r = move(client, ma, kind="count", sku=sku, location="EXAM1", quantity=3,
             occurred_at=ago(hours=19))  # fmt: skip
    assert [(c["lot"], c["quantity"], c["used"]) for c in r.json()["lots"]] == [
        ("NEW", -6, 6), ("OLD", -7, 0),
    ]  # fmt: skip
    assert reorder_row(client, ma, sku)["units_used"] == 10


def test_occurred_at_in_the_future_or_more_than_7_days_back_is_refused(client, inv, ma, gauze):
    before = inv.movement_count()
    for when in (NOW + dt.timedelta(minutes=10), NOW - dt.timedelta(days=7, minutes=1)):
        r = move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=1,
                 occurred_at=when.isoformat())  # fmt: skip
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "occurred_at"
    r = move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=1,
             occurred_at="2026-11-17T09:00:00")  # no offset: whose 9 o'clock?  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "occurred_at"
    assert inv.movement_count() == before
    # A tablet whose clock runs a minute ahead records "now".
    r = move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=1,
             occurred_at=(NOW + dt.timedelta(minutes=1)).isoformat())  # fmt: skip
    assert r.status_code == 201 and r.json()["at"] == r.json()["recorded_at"]


def test_a_back_dated_movement_changes_the_books_when_recorded(client, ma, gauze):
    """on_hand_after is the balance right after recording, whatever the occurred_at."""
    move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=5)  # today
    r = move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=3,
             occurred_at=ago(days=4))  # fmt: skip
    body = r.json()
    assert body["on_hand_after"] == 92
    assert body["at"] == "2026-11-14T21:00:00Z" and body["recorded_at"] == "2026-11-18T21:00:00Z"
    assert on_hand(client, ma, gauze, "EXAM1") == 92
    rows = client.get("/api/v1/stock/movements", params={"sku": gauze}, headers=ma).json()["items"]
    assert [(r["quantity"], r["on_hand_after"]) for r in rows] == [(-3, 92), (-5, 95), (100, 100)]
    one = client.get(f"/api/v1/stock/movements/{body['id']}", headers=ma).json()
    assert one == rows[0]
    assert client.get("/api/v1/stock/movements/999999", headers=ma).status_code == 404


def test_a_back_dated_consume_uses_the_day_it_happened_for_expiry(client, inv, ma, clock):
    """Used on Monday while still good, recorded on Wednesday after it expired."""
    sku = inv.item("BI2", lot_tracked=True)
    monday_expiry = clock.today() - dt.timedelta(days=2)
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=4, lot="L",
         expires_on=monday_expiry, occurred_at=ago(days=6))  # fmt: skip
    now = move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1)
    assert now.status_code == 409  # expired today
    r = move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1,
             occurred_at=ago(days=2, hours=5))  # fmt: skip
    assert r.status_code == 201, r.text


def test_a_back_dated_count_compares_with_the_books_as_of_its_time(client, ma, gauze):
    """Counted 80 on Monday; on Tuesday 5 were consumed and 20 received (recorded first).
    The count's shortfall is 100 - 80 = 20, and today's books hold 80 - 5 + 20 = 95."""
    move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=5,
         occurred_at=ago(days=1))  # fmt: skip
    move(client, ma, kind="receive", sku=gauze, location="EXAM1", quantity=20,
         occurred_at=ago(days=1))  # fmt: skip
    r = move(client, ma, kind="count", sku=gauze, location="EXAM1", quantity=80,
             occurred_at=ago(days=2))  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["expected_on_hand"], body["used"], body["on_hand_after"]) == (100, 20, 95)


def test_a_back_dated_count_later_movements_contradict_is_refused(client, inv, ma, gauze):
    """Counted 10 on Monday, but 60 were consumed since: impossible, nothing written."""
    move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=60,
         occurred_at=ago(days=1))  # fmt: skip
    before = inv.movement_count()
    r = move(client, ma, kind="count", sku=gauze, location="EXAM1", quantity=10,
             occurred_at=ago(days=2))  # fmt: skip
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "quantity"
    assert inv.movement_count() == before


def test_use_is_placed_on_the_day_it_happened_in_the_usage_window(client, ma, gauze, clock):
    """The window is the 56 complete days before today: use recorded today about
    yesterday counts now; use of today counts from tomorrow."""
    move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=7,
         occurred_at=ago(hours=16))  # yesterday 23:00  # fmt: skip
    move(client, ma, kind="consume", sku=gauze, location="EXAM1", quantity=3)
    assert reorder_row(client, ma, gauze)["units_used"] == 7
    clock.advance(dt.timedelta(days=1))
    assert reorder_row(client, ma, gauze)["units_used"] == 10


def test_the_ledger_balance_chains_in_id_order_with_back_dated_movements(
    client, database, inv, ma, clock
):
    rng = random.Random(13)
    skus = [inv.item() for _ in range(3)]
    for sku in skus:
        move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=200,
             occurred_at=ago(days=6, hours=23))  # fmt: skip
    for _ in range(60):
        kind = rng.choice(["consume", "count", "receive", "transfer", "consume"])
        body = {"kind": kind, "sku": rng.choice(skus), "location": rng.choice(["SUPPLY", "EXAM1"]),
                "quantity": rng.randint(1, 30)}  # fmt: skip
        if kind == "count":
            body["quantity"] = rng.randint(0, 150)
        if kind == "transfer":
            body["to_location"] = "EXAM2"
        if rng.random() < 0.5:
            body["occurred_at"] = ago(hours=rng.randint(0, 6 * 24))
        move(client, ma, **body)  # some are refused (stock, contradicted counts): fine
    with database.session(write=False) as session:
        rows = session.execute(
            select(StockMovement.item_id, StockMovement.location_id, StockMovement.quantity,
                   StockMovement.on_hand_after, StockMovement.used, StockMovement.kind)
            .order_by(StockMovement.id)
        ).all()  # fmt: skip
    balance: dict[tuple[int, int], int] = {}
    for item_id, location_id, quantity, after, used, kind in rows:
        key = (item_id, location_id)
        balance[key] = balance.get(key, 0) + quantity
        assert after == balance[key]
        assert used == 0 or (kind in ("consume", "count") and used == -quantity)
    assert len(rows) > 60
    assert inv.invariant_violations() == []


def test_receive_of_a_back_dated_delivery_keeps_its_lot_expiry(client, inv, ma, clock):
    sku = inv.item("SYR", lot_tracked=True)
    r = move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=5, lot="A",
             expires_on=days_from_today(300), occurred_at=ago(days=3))  # fmt: skip
    assert r.status_code == 201 and r.json()["at"] < r.json()["recorded_at"]
