"""Migration 0009 on a database with history, on both backends: every existing ledger
row gets `recorded_at` (= `at`), its `used` (consumption, and count shortfalls of lots
not yet expired that day) and its running `on_hand_after`; the checks stay."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from kernel.migrations import upgrade
from tests.kernel.test_migrations import empty_database_url  # noqa: F401  (fixture)

ROWS = [  # kind, location, lot, expires_on, quantity, at
    ("receive", 1, "A", "2026-03-01", 10, "2026-01-05 10:00:00"),
    ("receive", 1, "B", "2026-01-10", 5, "2026-01-05 10:00:00"),
    ("receive", 2, "", None, 7, "2026-01-05 11:00:00"),
    ("consume", 1, "A", "2026-03-01", -3, "2026-01-06 10:00:00"),
    ("count", 1, "B", "2026-01-10", -2, "2026-01-12 10:00:00"),  # B expired: not use
    ("count", 1, "A", "2026-03-01", -1, "2026-01-12 10:00:00"),  # use
    ("count", 2, "", None, 4, "2026-01-12 11:00:00"),  # a gain
    ("transfer", 1, "A", "2026-03-01", -2, "2026-01-13 09:00:00"),
    ("transfer", 2, "A", "2026-03-01", 2, "2026-01-13 09:00:00"),
]


def test_existing_movements_get_used_and_running_balances(empty_database_url):  # noqa: F811
    url = empty_database_url
    upgrade(url, "0008_catalogue_import")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO suppliers (id, name, created_at) "
                              "VALUES (1, 'S', '2026-01-01 00:00:00')"))  # fmt: skip
            for n, code in ((1, "SUPPLY"), (2, "EXAM1")):
                conn.execute(
                    text("INSERT INTO locations (id, code, name, active, created_at) "
                         "VALUES (:n, :c, :c, true, '2026-01-01 00:00:00')"),
                    {"n": n, "c": code},
                )  # fmt: skip
            conn.execute(text(
                "INSERT INTO items (id, sku, name, unit, pack_size, supplier_id, unit_cost, "
                "min_order_qty, lot_tracked, active, created_at, updated_at) VALUES (1, 'X', "
                "'X', 'each', 1, 1, 0, 0, false, true, '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"
            ))  # fmt: skip
            for kind, loc, lot, expires, quantity, at in ROWS:
                conn.execute(
                    text("INSERT INTO stock_movements (kind, item_id, location_id, lot, "
                         "expires_on, quantity, at, actor) VALUES (:k, 1, :l, :lot, :e, :q, "
                         ":at, 't')"),
                    {"k": kind, "l": loc, "lot": lot, "e": expires, "q": quantity, "at": at},
                )  # fmt: skip
        upgrade(url)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT used, on_hand_after, recorded_at = at FROM stock_movements ORDER BY id"
            )).all()  # fmt: skip
        assert [(r[0], r[1]) for r in rows] == [
            (0, 10), (0, 15), (0, 7), (3, 12), (0, 10), (1, 9), (0, 11), (0, 7), (0, 13),
        ]  # fmt: skip
        assert all(r[2] for r in rows)
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO stock_movements (kind, item_id, location_id, lot, quantity, at, "
                "actor, recorded_at, used, on_hand_after) VALUES ('bogus', 1, 1, '', 1, "
                "'2026-01-14 00:00:00', 't', '2026-01-14 00:00:00', 0, 0)"
            ))  # fmt: skip
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO stock_movements (kind, item_id, location_id, lot, quantity, at, "
                "actor, recorded_at, used, on_hand_after) VALUES ('consume', 1, 1, '', -1, "
                "'2026-01-14 00:00:00', 't', '2026-01-14 00:00:00', -1, 0)"
            ))  # fmt: skip
    finally:
        engine.dispose()
