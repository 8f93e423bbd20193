"""Immediate-use steam sterilization and requalification (SPEC section 7).

- `cycles` gains `iuss_reason` and `iuss_encounter_ref` (an IUSS cycle's reason and the
  patient encounter its packs are used on at once).
- `sterilizers` gains `requalification_since` and `requalification_reason`: set by a
  positive BI, a failed Bowie-Dick or an admin taking it out of service to requalify;
  cleared when it returns to service after its test cycles.
- Encounter references already stored are normalised (NFKC, invisible characters and
  surrounding spaces removed, upper-case), as every new one is.

Revision ID: 0014_iuss_requalification
Revises: 0010_record_seals
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime
from kernel.encounters import normalize_encounter_ref

revision: str = "0014_iuss_requalification"
down_revision: str | Sequence[str] | None = "0010_record_seals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cycles") as batch:
        batch.add_column(sa.Column("iuss_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("iuss_encounter_ref", sa.String(100), nullable=True))
    with op.batch_alter_table("sterilizers") as batch:
        batch.add_column(sa.Column("requalification_since", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("requalification_reason", sa.Text(), nullable=True))
    conn = op.get_bind()
    refs = conn.execute(
        sa.text("SELECT DISTINCT encounter_ref FROM packs WHERE encounter_ref IS NOT NULL")
    ).scalars()
    changes = [
        {"old": ref, "new": normalize_encounter_ref(ref)}
        for ref in refs
        if normalize_encounter_ref(ref) != ref
    ]
    if changes:
        conn.execute(
            sa.text("UPDATE packs SET encounter_ref = :new WHERE encounter_ref = :old"), changes
        )


def downgrade() -> None:
    with op.batch_alter_table("sterilizers") as batch:
        batch.drop_column("requalification_reason")
        batch.drop_column("requalification_since")
    with op.batch_alter_table("cycles") as batch:
        batch.drop_column("iuss_encounter_ref")
        batch.drop_column("iuss_reason")
