"""More records that prove themselves: the second edition's logs become evidence tables.

Sealed and guarded by triggers like the first ones (`0010_record_seals`): invalid spore
tests, the sterilizers' own cycle records and the printouts' photos, equipment runs and
efficacy tests, the maintenance log, HLD runs and the uses of HLD devices. All are
append-only (a correction is a further record). Existing rows are sealed with this
deployment's key first, then the triggers are installed.

Revision ID: 0017_more_evidence
Revises: 0016_site_owned_devices
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_more_evidence"
down_revision: str | Sequence[str] | None = "0016_site_owned_devices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables this revision makes evidence (all append-only), as they are at this revision.
EVIDENCE = (
    "invalid_bi_tests",
    "cycle_records",
    "cycle_attachments",
    "equipment_runs",
    "equipment_tests",
    "maintenance_records",
    "hld_runs",
    "hld_uses",
)


def upgrade() -> None:
    from kernel.audit import evidence

    connection = op.get_bind()
    metadata = sa.MetaData()
    for name in EVIDENCE:
        item = evidence.EvidenceTable(sa.Table(name, metadata, autoload_with=connection))
        evidence.seal_existing_rows(connection, item)
        evidence.install_triggers(connection, item)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in EVIDENCE:
        for suffix in ("log_insert", "no_delete", "no_update"):
            on = "" if dialect == "sqlite" else f" ON {name}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}{on}")
