"""Sites: one SteriStock for a clinic group.

- `sites` (code, name, IANA timezone) and `user_sites` (which users work where);
  `users.all_sites` (admins and auditors see every site).
- Site `MAIN` is created in the zone of `STERISTOCK_TIMEZONE` (the clinic's zone so
  far) and every existing user works at it; existing admins and auditors get
  `all_sites`.
- `site_id` on every site-owned table: locations, sterilizers, packs, cycles, purchase
  orders. Existing rows go to `MAIN`, then the column becomes NOT NULL. Stock (levels,
  par levels, lots, movements) is per location and belongs to its location's site.

Revision ID: 0011_sites
Revises: 0010_sterilizer_identity
Create Date: 2026-12-04
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime, utcnow

revision: str = "0011_sites"
down_revision: str | Sequence[str] | None = "0012_pack_codes_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables that belong to a site. Other revisions making a table site-owned follow
# the same steps (docs/sites.md): add the column, backfill MAIN, NOT NULL, FK, index.
SITE_OWNED = ("locations", "sterilizers", "packs", "cycles", "purchase_orders")


def main_timezone() -> str:
    """The zone of site MAIN: the clinic's `STERISTOCK_TIMEZONE`, as the app reads it."""
    try:
        from kernel.settings import Settings

        return Settings().timezone  # read now (get_settings() may hold an older copy)
    except Exception:
        return os.environ.get("STERISTOCK_TIMEZONE") or "UTC"


def add_site_column(table: str, main_id: int) -> None:
    """`site_id` on one table: every existing row goes to MAIN (`main_id`)."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
    op.execute(sa.text(f"UPDATE {table} SET site_id = :main").bindparams(main=main_id))  # noqa: S608
    with op.batch_alter_table(table) as batch:
        batch.alter_column("site_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(f"fk_{table}_site_id", "sites", ["site_id"], ["id"])
    op.create_index(f"ix_{table}_site_id", table, ["site_id"])


def upgrade() -> None:
    sites = op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_sites_code", "sites", ["code"], unique=True)
    op.create_table(
        "user_sites",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"), primary_key=True),
    )
    op.create_index("ix_user_sites_site_id", "user_sites", ["site_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("all_sites", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "all_sites", existing_type=sa.Boolean(), existing_nullable=False, server_default=None
        )

    op.bulk_insert(
        sites,
        [{"code": "MAIN", "name": "Main", "timezone": main_timezone(), "created_at": utcnow()}],
    )
    bind = op.get_bind()
    main_id = bind.execute(sa.text("SELECT id FROM sites WHERE code = 'MAIN'")).scalar_one()
    op.execute(
        sa.text("UPDATE users SET all_sites = :yes WHERE role IN ('admin', 'auditor')").bindparams(
            yes=True
        )
    )
    op.execute(
        sa.text("INSERT INTO user_sites (user_id, site_id) SELECT id, :main FROM users").bindparams(
            main=main_id
        )
    )
    for table in SITE_OWNED:
        add_site_column(table, main_id)


def downgrade() -> None:
    for table in reversed(SITE_OWNED):
        op.drop_index(f"ix_{table}_site_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_site_id", type_="foreignkey")
            batch.drop_column("site_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("all_sites")
    op.drop_index("ix_user_sites_site_id", table_name="user_sites")
    op.drop_table("user_sites")
    op.drop_index("ix_sites_code", table_name="sites")
    op.drop_table("sites")
