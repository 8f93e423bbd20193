"""Sites own the devices too: equipment, HLD devices, instrument trays, maintenance records.

- `site_id` on `equipment`, `hld_devices`, `set_assets` and `maintenance_records`.
  Existing equipment, HLD devices and trays go to `MAIN` (the only site any of them could
  have been at when they were recorded); an existing maintenance record goes to the site
  of the sterilizer it names, else `MAIN`.
- Their logs (equipment runs and tests, HLD runs and uses) belong to the device's site
  through the device (`kernel.sites.query_scope.owned_through`): no column.

Revision ID: 0016_site_owned_devices
Revises: 0015_auth_user_triggers
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_site_owned_devices"
down_revision: str | Sequence[str] | None = "0015_auth_user_triggers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SITE_OWNED = ("equipment", "hld_devices", "set_assets", "maintenance_records")


def upgrade() -> None:
    bind = op.get_bind()
    main_id = bind.execute(sa.text("SELECT id FROM sites WHERE code = 'MAIN'")).scalar_one()
    for table in SITE_OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
    for table in SITE_OWNED[:3]:
        op.execute(sa.text(f"UPDATE {table} SET site_id = :main").bindparams(main=main_id))  # noqa: S608
    op.execute(
        sa.text(
            "UPDATE maintenance_records SET site_id = COALESCE("
            "(SELECT sterilizers.site_id FROM sterilizers "
            "WHERE sterilizers.code = maintenance_records.device_code), :main)"
        ).bindparams(main=main_id)
    )
    for table in SITE_OWNED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("site_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(f"fk_{table}_site_id", "sites", ["site_id"], ["id"])
        op.create_index(f"ix_{table}_site_id", table, ["site_id"])


def downgrade() -> None:
    for table in reversed(SITE_OWNED):
        op.drop_index(f"ix_{table}_site_id", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_site_id", type_="foreignkey")
            batch.drop_column("site_id")
