"""A covering index for a cycle's pack codes in pack order.

The sterilization log lists every cycle's pack codes in the order the packs were made
(`sterilization/reports/log_export.py`: one aggregated string per cycle). With only
`ix_packs_cycle_status` the database found each cycle's packs, fetched every row and
sorted them: most of the export's database time. `(cycle_id, id, code)` hands them over
in order from the index alone (SQLite: 0.34 s -> 0.02 s per 5,000 cycles; issue 22).

Revision ID: 0012_pack_codes_index
Revises: 0011_auth_generation
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_pack_codes_index"
down_revision: str | Sequence[str] | None = "0011_auth_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_packs_cycle_code", "packs", ["cycle_id", "id", "code"])


def downgrade() -> None:
    op.drop_index("ix_packs_cycle_code", table_name="packs")
