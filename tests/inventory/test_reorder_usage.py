"""The reorder position counts usable stock only, and usage includes what counts found
missing, so a clinic that counts bins instead of scanning every glove gets the same
figures (spec section 13), through real HTTP on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from zoneinfo import ZoneInfo

import pytest

from kernel.clock import FixedClock
from tests.inventory_factories import InventoryFactory, days_from_today, move

ZONE = ZoneInfo("America/Chicago")
MONDAY = dt.datetime(2026, 9, 7, 9, 0, tzinfo=ZONE)


def rows_by_sku(client, headers, path="/api/v1/reorder/suggestions"):
    r = client.get(path, params={"limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return {row["sku"]: row for row in r.json()["items"]}


def test_expired_lots_do_not_count_toward_the_reorder_position(client, inv, buyer, ma):
    sku = inv.item("BI-VIAL", lot_tracked=True, pack_size=10)
    inv.par(sku, "SUPPLY", 50, 25)
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=20, lot="GOOD",
         expires_on=days_from_today(200))  # fmt: skip
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=30, lot="OLD",
         expires_on=days_from_today(-1))  # fmt: skip
    row = rows_by_sku(client, buyer)[sku]
    assert (row["on_hand"], row["expired_on_hand"], row["position"]) == (20, 30, 20)
    assert (row["need"], row["order_packs"], row["suggested_qty"]) == (30, 3, 30)
    assert row["reason"].startswith(
        "below reorder point 25: on hand 20 usable (30 expired not counted) + on order 0"
    )
    csv_rows = list(csv.DictReader(io.StringIO(
        client.get("/api/v1/reorder/suggestions.csv", headers=buyer).text
    )))  # fmt: skip
    assert (csv_rows[0]["on_hand"], csv_rows[0]["expired_on_hand"]) == ("20", "30")
    # A lot is usable through its expiry date: expiring today still counts.
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=4, lot="TODAY",
         expires_on=days_from_today(0))  # fmt: skip
    assert rows_by_sku(client, buyer)[sku]["on_hand"] == 24


def test_the_purchasing_page_shows_expired_stock_beside_usable_stock(client, inv, ma, users):
    from kernel.auth.models import Role
    from tests.factories import page_login

    sku = inv.item("BI-X", lot_tracked=True)
    inv.par(sku, "SUPPLY", 50, 25)
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=30, lot="OLD",
         expires_on=days_from_today(-3))  # fmt: skip
    page_login(client, users.create(Role.PURCHASING))
    page = client.get("/purchasing")
    assert "On hand (usable)" in page.text and "Expired" in page.text
    assert "(30 expired not counted)" in page.text


@pytest.fixture
def clock(app) -> FixedClock:
    fixed = FixedClock(ZONE, MONDAY)
    app.state.clock = fixed
    return fixed


def test_a_count_only_clinic_gets_its_usage_from_the_counts(
    client, inv: InventoryFactory, ma, buyer, clock
):
    """Eight weeks: gloves are consumed (scanned) every day, gauze is never scanned and
    counted every Monday instead. Both are restocked to par after the Monday count and
    both are used the same: 3 + k a day in week k. The scanned item's use is all in the
    window; the counted item's use of week k shows at the count that ends it, so its
    last week's use (found today) is not in the 56 complete days yet."""
    gloves = inv.item("GLOVES", supplier_id=inv.default_supplier())
    gauze = inv.item("GAUZE", supplier_id=inv.default_supplier())
    for sku in (gloves, gauze):
        inv.par(sku, "EXAM1", 200)
        move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=200)
    for week in range(1, 9):
        daily = 3 + week
        for _ in range(7):
            clock.advance(dt.timedelta(hours=3))  # noon
            assert move(client, ma, kind="consume", sku=gloves, location="EXAM1",
                        quantity=daily).status_code == 201  # fmt: skip
            clock.advance(dt.timedelta(hours=21))  # 09:00 the next day
        count = move(client, ma, kind="count", sku=gauze, location="EXAM1",
                     quantity=200 - 7 * daily)  # fmt: skip
        assert count.status_code == 201 and count.json()["used"] == 7 * daily
        for sku in (gloves, gauze):
            move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=7 * daily)
    assert clock.today() == MONDAY.date() + dt.timedelta(days=56)

    scanned = sum(7 * (3 + week) for week in range(1, 9))  # 476
    counted = sum(7 * (3 + week) for week in range(1, 8))  # 413: week 8 was found today
    review = rows_by_sku(client, buyer, "/api/v1/reorder/par-review")
    for sku, used in ((gloves, scanned), (gauze, counted)):
        usage_par = math.ceil(used * (7 + 7) * 12 / 560)
        row = review.get(sku)
        if abs(usage_par - 200) * 4 > 200:
            assert row is not None and row["units_used"] == used
            assert row["usage_par"] == usage_par
        else:
            assert row is None
    # Neither item reads as unused: the counted one is not told to drop its par to 0.
    assert all(row["usage_par"] > 0 for row in review.values())
    assert rows_by_sku(client, buyer) == {}  # both back at par after the restock
