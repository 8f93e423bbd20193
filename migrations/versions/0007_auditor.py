"""Auditor reports: indexes for the compliance checks on used packs.

`ix_packs_used_at_expires_on` answers "packs used in the period, with an expiry" from the
index alone; `ix_packs_implant_used_at` finds the implant packs used in the period.
Without them both checks scan every pack ever made.

Revision ID: 0007_auditor
Revises: 0006_merge_domains
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_auditor"
down_revision: str | Sequence[str] | None = "0006_merge_domains"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_packs_used_at_expires_on", "packs", ["used_at", "expires_on"])
    op.create_index("ix_packs_implant_used_at", "packs", ["implant", "used_at"])


def downgrade() -> None:
    op.drop_index("ix_packs_implant_used_at", table_name="packs")
    op.drop_index("ix_packs_used_at_expires_on", table_name="packs")
