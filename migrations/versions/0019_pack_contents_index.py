"""The packs' covering index for the log also holds their descriptions.

The sterilization log lists every cycle's pack codes and descriptions in pack order
(`sterilization/reports/log_export.py`: one aggregated string per cycle). With
`(cycle_id, id, code)` the descriptions were fetched row by row from the table: about half
of the export's database time. `(cycle_id, id, code, description)` hands both over from the
index alone. It replaces `ix_packs_cycle_code`, whose every use it serves (issue 22).

Revision ID: 0019_pack_contents_index
Revises: 0018_scope_generation
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019_pack_contents_index"
down_revision: str | Sequence[str] | None = "0018_scope_generation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_packs_cycle_contents", "packs", ["cycle_id", "id", "code", "description"])
    op.drop_index("ix_packs_cycle_code", table_name="packs")


def downgrade() -> None:
    op.create_index("ix_packs_cycle_code", "packs", ["cycle_id", "id", "code"])
    op.drop_index("ix_packs_cycle_contents", table_name="packs")
