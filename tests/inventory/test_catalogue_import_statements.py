"""The import writes set-based: 2,000 items and 8,000 par levels through HTTP cost a fixed
number of SQL statements (one executemany per table, the audit entries in one), for a
first import (every row created) and for a re-import that changes every row, on SQLite
and PostgreSQL. The time it takes is measured by `python scripts/bench.py import`
(docs/benchmarks.md: under 5 s)."""

from __future__ import annotations

from sqlalchemy import func, select

from inventory.models import Item, StockLevel
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from tests.inventory.import_factories import synthetic_catalogue
from tests.statement_log import StatementLog

# Reading the catalogue, suppliers, locations and levels; one executemany per table; the
# audit chain; the session and idempotency bookkeeping of two requests. Per-row writes
# would be thousands.
MAX_STATEMENTS = 40


def imported(client, headers, items: bytes, par: bytes, statements: StatementLog) -> int:
    """The statements of posting both files (items, then par levels)."""
    statements.reset()
    for path, content in (("/api/v1/items/import", items), ("/api/v1/par-levels/import", par)):
        response = client.post(
            path, files={"file": ("f.csv", content, "text/csv")}, headers=headers
        )
        assert response.status_code == 200, response.text[:500]
    return statements.count


def test_2000_items_and_8000_par_levels_import_in_a_fixed_number_of_statements(
    client, users, database, statements
):
    headers = users.headers(Role.PURCHASING)
    with database.session(write=False) as s:
        entries_before = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
    first = imported(client, headers, *synthetic_catalogue(2000, 4), statements)
    again = imported(client, headers, *synthetic_catalogue(2000, 4, cost_cents=7), statements)
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 2000
        with_par = select(func.count()).select_from(StockLevel)
        assert s.scalar(with_par.where(StockLevel.par_level.is_not(None))) == 8000
        entries = s.scalar(select(func.count()).select_from(AuditEntry))
    # 8 suppliers + 2,000 creates + 8 locations + 8,000 par levels + 2 summaries, then
    # 2,000 updates + 8,000 par changes + 2 summaries.
    assert entries == entries_before + (8 + 2000 + 8 + 8000 + 2) + (2000 + 8000 + 2)
    assert first <= MAX_STATEMENTS, statements.statements
    assert again <= MAX_STATEMENTS, statements.statements
