"""Catalogue import page: uploads that passed their dry run, waiting for the confirm.

Revision ID: 0008_catalogue_import
Revises: 0007_auditor
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0008_catalogue_import"
down_revision: str | Sequence[str] | None = "0007_auditor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalogue_uploads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("items_name", sa.String(200), nullable=True),
        sa.Column("items_csv", sa.Text(), nullable=True),
        sa.Column("par_levels_name", sa.String(200), nullable=True),
        sa.Column("par_levels_csv", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_catalogue_uploads_created_at", "catalogue_uploads", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_catalogue_uploads_created_at", table_name="catalogue_uploads")
    op.drop_table("catalogue_uploads")
