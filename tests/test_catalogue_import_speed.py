"""The import's speed bound: 2,000 items and 8,000 par levels in under 5 seconds, through
HTTP (both files, dry run excluded), for a first import (every row created) and for a
re-import that changes every row; on SQLite and PostgreSQL. The full measurement is
`python scripts/bench.py import` (docs/benchmarks.md)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from inventory.models import Item, StockLevel
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from tests.import_factories import synthetic_catalogue

BOUND_SECONDS = 5.0


def timed_import(client, headers, items: bytes, par: bytes) -> float:
    start = time.perf_counter()
    response = client.post(
        "/api/v1/items/import", files={"file": ("i.csv", items, "text/csv")}, headers=headers
    )
    assert response.status_code == 200, response.text[:500]
    response = client.post(
        "/api/v1/par-levels/import", files={"file": ("p.csv", par, "text/csv")}, headers=headers
    )
    assert response.status_code == 200, response.text[:500]
    return time.perf_counter() - start


def test_2000_items_and_8000_par_levels_import_in_under_5_seconds(client, users, database):
    headers = users.headers(Role.PURCHASING)
    with database.session(write=False) as s:
        entries_before = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
    items, par = synthetic_catalogue(2000, 4)
    first = timed_import(client, headers, items, par)
    changed_items, changed_par = synthetic_catalogue(2000, 4, cost_cents=7)
    again = timed_import(client, headers, changed_items, changed_par)
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 2000
        assert (
            s.scalar(
                select(func.count())
                .select_from(StockLevel)
                .where(StockLevel.par_level.is_not(None))
            )
            == 8000
        )
        entries = s.scalar(select(func.count()).select_from(AuditEntry))
    # 8 suppliers + 2,000 creates + 8 locations + 8,000 par levels + 2 summaries, then
    # 2,000 updates + 8,000 par changes + 2 summaries.
    assert entries == entries_before + (8 + 2000 + 8 + 8000 + 2) + (2000 + 8000 + 2)
    print(f"first import {first:.2f} s, re-import changing every row {again:.2f} s")
    assert first < BOUND_SECONDS
    assert again < BOUND_SECONDS
