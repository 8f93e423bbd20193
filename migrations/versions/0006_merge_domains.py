"""Join the inventory and sterilization branches into one history.

Revision ID: 0006_merge_domains
Revises: 0003_inventory, 0004_sterilization
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_merge_domains"
down_revision: str | Sequence[str] | None = ("0003_inventory", "0004_sterilization")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
