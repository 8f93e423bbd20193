"""Instrument sets and count sheets (SPEC section 11).

- `instruments`: the instrument catalogue.
- `set_templates` (a count sheet's code and newest version), `set_template_versions`
  (name, packaging, shelf life; never changed once written), `set_template_items`
  (instrument and quantity per version), `set_template_photos` (photos of laid-out trays).
- `set_assets`: reusable trays and cassettes with permanent codes (`ST-000001`).
- `packs` gains `template_version_id`, `set_id`, `short` (JSON, `[]` for every existing
  pack: they were not counted against a sheet), `short_reason` and `shelf_life_days`.

Revision ID: 0011_instrument_sets
Revises: 0010_sterilizer_identity
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from kernel.db import UTCDateTime

revision: str = "0011_instrument_sets"
down_revision: str | Sequence[str] | None = "0011_cycle_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("manufacturer", sa.String(200), nullable=True),
        sa.Column("catalog_number", sa.String(80), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_instruments_code", "instruments", ["code"], unique=True)

    op.create_table(
        "set_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_set_templates_code", "set_templates", ["code"], unique=True)

    op.create_table(
        "set_template_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("set_templates.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("packaging", sa.String(20), nullable=False),
        sa.Column("shelf_life_days", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("template_id", "version", name="uq_set_template_versions_version"),
        sa.CheckConstraint(
            "packaging IN ('wrap','pouch','container','cassette')",
            name="ck_set_template_versions_packaging",
        ),
        sa.CheckConstraint(
            "shelf_life_days IS NULL OR shelf_life_days > 0",
            name="ck_set_template_versions_shelf_life",
        ),
    )
    op.create_index(
        "ix_set_template_versions_template_id", "set_template_versions", ["template_id"]
    )

    op.create_table(
        "set_template_items",
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("set_template_versions.id"),
            primary_key=True,
        ),
        sa.Column("instrument_id", sa.Integer(), sa.ForeignKey("instruments.id"), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_set_template_items_quantity"),
    )
    op.create_index("ix_set_template_items_instrument_id", "set_template_items", ["instrument_id"])

    op.create_table(
        "set_template_photos",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("set_templates.id"), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_set_template_photos_template_id", "set_template_photos", ["template_id"])

    op.create_table(
        "set_assets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("set_templates.id"), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_set_assets_code", "set_assets", ["code"], unique=True)
    op.create_index("ix_set_assets_template_id", "set_assets", ["template_id"])

    with op.batch_alter_table("packs") as batch:
        batch.add_column(sa.Column("template_version_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("set_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("short", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("short_reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("shelf_life_days", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_packs_template_version_id",
            "set_template_versions",
            ["template_version_id"],
            ["id"],
        )
        batch.create_foreign_key("fk_packs_set_id", "set_assets", ["set_id"], ["id"])
    op.create_index("ix_packs_template_version_id", "packs", ["template_version_id"])
    op.create_index("ix_packs_set_id", "packs", ["set_id"])


def downgrade() -> None:
    op.drop_index("ix_packs_set_id", table_name="packs")
    op.drop_index("ix_packs_template_version_id", table_name="packs")
    with op.batch_alter_table("packs") as batch:
        batch.drop_constraint("fk_packs_set_id", type_="foreignkey")
        batch.drop_constraint("fk_packs_template_version_id", type_="foreignkey")
        batch.drop_column("shelf_life_days")
        batch.drop_column("short_reason")
        batch.drop_column("short")
        batch.drop_column("set_id")
        batch.drop_column("template_version_id")
    op.drop_index("ix_set_assets_template_id", table_name="set_assets")
    op.drop_index("ix_set_assets_code", table_name="set_assets")
    op.drop_table("set_assets")
    op.drop_index("ix_set_template_photos_template_id", table_name="set_template_photos")
    op.drop_table("set_template_photos")
    op.drop_index("ix_set_template_items_instrument_id", table_name="set_template_items")
    op.drop_table("set_template_items")
    op.drop_index("ix_set_template_versions_template_id", table_name="set_template_versions")
    op.drop_table("set_template_versions")
    op.drop_index("ix_set_templates_code", table_name="set_templates")
    op.drop_table("set_templates")
    op.drop_index("ix_instruments_code", table_name="instruments")
    op.drop_table("instruments")
