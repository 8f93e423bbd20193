"""Tables of instrument sets: the instrument catalogue, set templates (count sheets) in
versions, their photos, and the reusable trays and cassettes (set assets).

A template version is never changed once written: a change is a new version, and every
pack keeps the version it was counted against, so a count sheet printed last year still
reads as it was.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from kernel.db import UTCDateTime, utcnow
from kernel.sites.query_scope import site_owned

PACKAGINGS = ("wrap", "pouch", "container", "cassette")


class Instrument(SQLModel, table=True):
    """One kind of instrument (Adson forceps, needle holder), not one physical piece."""

    __tablename__ = "instruments"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    manufacturer: str | None = Field(default=None, max_length=200)
    catalog_number: str | None = Field(default=None, max_length=80)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SetTemplate(SQLModel, table=True):
    """A count sheet's identity (its code); what it holds lives in its versions."""

    __tablename__ = "set_templates"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    # The newest version number; bumped in the same transaction as the version is written.
    current_version: int = Field(default=1)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SetTemplateVersion(SQLModel, table=True):
    """One version of a count sheet: name, packaging, shelf life, and its instruments."""

    __tablename__ = "set_template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "version", name="uq_set_template_versions_version"),
        CheckConstraint(
            "packaging IN ('wrap','pouch','container','cassette')",
            name="ck_set_template_versions_packaging",
        ),
        CheckConstraint(
            "shelf_life_days IS NULL OR shelf_life_days > 0",
            name="ck_set_template_versions_shelf_life",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="set_templates.id", index=True)
    version: int = Field()
    name: str = Field(max_length=200)
    packaging: str = Field(max_length=20)
    shelf_life_days: int | None = Field(default=None)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SetTemplateItem(SQLModel, table=True):
    """A line of a count sheet: this instrument, this many."""

    __tablename__ = "set_template_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_set_template_items_quantity"),)

    version_id: int = Field(foreign_key="set_template_versions.id", primary_key=True)
    instrument_id: int = Field(foreign_key="instruments.id", primary_key=True, index=True)
    position: int = Field()
    quantity: int = Field()


class SetTemplatePhoto(SQLModel, table=True):
    """A photo of a laid-out tray, shown beside the count sheet; the newest one is shown,
    earlier ones stay."""

    __tablename__ = "set_template_photos"

    id: int | None = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="set_templates.id", index=True)
    content_type: str = Field(max_length=40)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=64)
    uploaded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SetAsset(SQLModel, table=True):
    """A physical, reusable tray or cassette with a permanent code (`ST-000001`) and QR."""

    __tablename__ = "set_assets"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    template_id: int = Field(foreign_key="set_templates.id", index=True)
    site_id: int = Field(foreign_key="sites.id", index=True)  # kernel.sites: whose tray it is
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


site_owned(SetAsset)  # kernel.sites: a tray stays at its site (its packs may travel)
