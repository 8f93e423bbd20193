"""Cycle readings as entered, and the Class 5 integrator (SPEC section 7).

- `cycle_parameters` gains `integrator` (`pass`, `fail` or NULL: none in the load) and
  `entered` (JSON: the readings in the units the operator typed, e.g. `temperature_f`).
  Existing rows: no integrator; `entered` is rebuilt from the stored °C / kPa readings.

Revision ID: 0011_cycle_readings
Revises: 0010_sterilizer_identity
Create Date: 2026-12-04
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_cycle_readings"
down_revision: str | Sequence[str] | None = "0010_sterilizer_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cycle_parameters") as batch:
        batch.add_column(sa.Column("integrator", sa.String(10), nullable=True))
        batch.add_column(sa.Column("entered", sa.Text(), nullable=False, server_default="{}"))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT cycle_id, temperature_c, pressure_kpa FROM cycle_parameters")
    ).all()
    updates = []
    for cycle_id, temperature_c, pressure_kpa in rows:
        entered = {
            k: v
            for k, v in (("temperature_c", temperature_c), ("pressure_kpa", pressure_kpa))
            if v is not None
        }
        if entered:
            updates.append({"e": json.dumps(entered), "id": cycle_id})
    if updates:
        conn.execute(
            sa.text("UPDATE cycle_parameters SET entered = :e WHERE cycle_id = :id"), updates
        )
    with op.batch_alter_table("cycle_parameters") as batch:
        batch.alter_column(
            "entered", existing_type=sa.Text(), existing_nullable=False, server_default=None
        )
        batch.create_check_constraint(
            "ck_cycle_parameters_integrator", "integrator IS NULL OR integrator IN ('pass','fail')"
        )


def downgrade() -> None:
    with op.batch_alter_table("cycle_parameters") as batch:
        batch.drop_constraint("ck_cycle_parameters_integrator", type_="check")
        batch.drop_column("entered")
        batch.drop_column("integrator")
