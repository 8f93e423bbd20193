"""Staff competencies: sterilizer operation, high-level disinfection and instrument
processing, each with its grant date and optional expiry.

Revision ID: 0013_competencies
Revises: 0012_hld
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0013_competencies"
down_revision: str | Sequence[str] | None = "0012_hld"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_competencies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("skill", sa.String(40), nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("evidence", sa.String(500), nullable=True),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "skill IN ('sterilizer_operation','hld','instrument_processing')",
            name="ck_user_competencies_skill",
        ),
    )
    op.create_index("ix_user_competencies_user_skill", "user_competencies", ["user_id", "skill"])


def downgrade() -> None:
    op.drop_table("user_competencies")
