"""Each cycle's load list: its packs' codes and descriptions, written when it starts.

The sterilization log lists every cycle's packs. It aggregated them from `packs` for every
cycle it read: half of the export's time (issue 22). Packs are loaded into a cycle only
when it starts, so the list is fixed then: `cycle_loads` keeps it, one row per cycle,
written in the same transaction as the cycle (`sterilization.cycles.record_load`).

- Every existing cycle gets its row, built from its packs in pack order (a cycle without
  packs: count 0, empty texts).
- The table is evidence like the cycles (append-only): the rows are sealed with this
  deployment's key, then the triggers are installed.

Revision ID: 0020_cycle_loads
Revises: 0019_pack_contents_index
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_cycle_loads"
down_revision: str | Sequence[str] | None = "0019_pack_contents_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = {
    "postgresql": """
        INSERT INTO cycle_loads (cycle_id, pack_count, pack_codes, pack_descriptions)
        SELECT c.id, count(p.id),
               coalesce(string_agg(p.code, ' ' ORDER BY p.id), ''),
               coalesce(string_agg(p.description, '; ' ORDER BY p.id), '')
        FROM cycles c LEFT JOIN packs p ON p.cycle_id = c.id
        GROUP BY c.id
    """,
    # SQLite before 3.44 has no ORDER BY inside an aggregate: a sorted subquery per cycle,
    # which it aggregates in its order (as the log did).
    "sqlite": """
        INSERT INTO cycle_loads (cycle_id, pack_count, pack_codes, pack_descriptions)
        SELECT c.id,
               (SELECT count(*) FROM packs p WHERE p.cycle_id = c.id),
               coalesce((SELECT group_concat(o.code, ' ') FROM (
                   SELECT p.code FROM packs p WHERE p.cycle_id = c.id ORDER BY p.id) o), ''),
               coalesce((SELECT group_concat(o.description, '; ') FROM (
                   SELECT p.description FROM packs p WHERE p.cycle_id = c.id ORDER BY p.id
               ) o), '')
        FROM cycles c
    """,
}


def upgrade() -> None:
    from kernel.audit import evidence

    op.create_table(
        "cycle_loads",
        sa.Column(
            "cycle_id", sa.Integer(), sa.ForeignKey("cycles.id"), primary_key=True, nullable=False
        ),
        sa.Column("pack_count", sa.Integer(), nullable=False),
        sa.Column("pack_codes", sa.Text(), nullable=False),
        sa.Column("pack_descriptions", sa.Text(), nullable=False),
    )
    connection = op.get_bind()
    connection.execute(sa.text(BACKFILL[connection.dialect.name]))
    table = sa.Table("cycle_loads", sa.MetaData(), autoload_with=connection)
    item = evidence.EvidenceTable(table)
    evidence.seal_existing_rows(connection, item)
    evidence.install_triggers(connection, item)


def downgrade() -> None:
    op.drop_table("cycle_loads")  # its triggers go with it
