"""No lost updates: many tablets taking the same item at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from inventory import ledger
from inventory.schemas.stock import MOVEMENT_ACTIONS, ReceiveStock
from kernel.auth.models import Role
from kernel.problems import Conflict
from tests.inventory_factories import days_from_today, move, on_hand

THREADS = 16


def test_concurrent_consumes_over_http_succeed_exactly_as_often_as_stock_allows(client, inv, users):
    ma = users.headers(Role.MA)
    sku = inv.item(lot_tracked=True)
    # stock spread over three lots so concurrent consumes also race across lots
    for lot, qty in [("L1", 3), ("L2", 4), ("L3", 3)]:
        move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=qty, lot=lot,
             expires_on=days_from_today(30 + qty))  # fmt: skip
    barrier = threading.Barrier(THREADS)

    def take_one(_: int) -> int:
        barrier.wait()
        return move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = list(pool.map(take_one, range(THREADS)))
    assert statuses.count(201) == 10
    assert statuses.count(409) == THREADS - 10
    assert on_hand(client, ma, sku, "EXAM1") == 0
    assert inv.invariant_violations() == []


def test_two_tablets_taking_the_last_unit_exactly_one_succeeds(client, inv, users):
    ma = users.headers(Role.MA)
    sku = inv.item()
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=1)
    barrier = threading.Barrier(2)

    def take(_: int) -> int:
        barrier.wait()
        return move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1).status_code

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(take, range(2))) == [201, 409]


def test_concurrent_mixed_movements_in_separate_sessions_keep_the_ledger_exact(database, inv):
    """Service level, one session per worker: consumes, receives and opposite transfers."""
    sku = inv.item()
    today = dt.date.today()
    with database.session() as s:
        for loc in ("SUPPLY", "EXAM1"):
            ledger.record_movement(
                s, actor="t", today=today,
                data=ReceiveStock(sku=sku, location=loc, quantity=20),
            )  # fmt: skip
    plans = []
    for i in range(THREADS * 4):
        kind = ("consume", "transfer", "receive", "transfer")[i % 4]
        src, dst = ("SUPPLY", "EXAM1") if i % 8 < 4 else ("EXAM1", "SUPPLY")
        plans.append(
            MOVEMENT_ACTIONS[kind](sku=sku, location=src, quantity=3,
                                   to_location=dst if kind == "transfer" else None)
        )  # fmt: skip
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []

    def run(worker: int) -> None:
        barrier.wait()
        for plan in plans[worker::THREADS]:
            try:
                with database.session() as s:
                    ledger.record_movement(s, actor="t", data=plan, today=today)
                outcomes.append("ok")
            except Conflict:
                outcomes.append("short")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, range(THREADS)))
    assert len(outcomes) == len(plans)
    assert inv.invariant_violations() == []
