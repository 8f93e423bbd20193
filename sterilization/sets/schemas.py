"""Request and response bodies of the instrument-set API (SPEC section 11)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from kernel.fields import NOT_BLANK, Text
from kernel.sites.schemas import SiteCode

Code = Annotated[
    str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
Name = Text(200, min_length=1, pattern=NOT_BLANK)
Packaging = Literal["wrap", "pouch", "container", "cassette"]
ShelfLifeDays = Annotated[int, msgspec.Meta(ge=1, le=3650)]
SheetQuantity = Annotated[int, msgspec.Meta(ge=1, le=1000)]


# Instruments -------------------------------------------------------------------------


class InstrumentCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    manufacturer: Text(200, pattern=NOT_BLANK) | None = None
    catalog_number: Text(80, pattern=NOT_BLANK) | None = None


class InstrumentOut(msgspec.Struct):
    code: str
    name: str
    manufacturer: str | None
    catalog_number: str | None
    created_at: dt.datetime


# Set templates -----------------------------------------------------------------------


class TemplateItemIn(msgspec.Struct, forbid_unknown_fields=True):
    instrument: Code
    quantity: SheetQuantity = 1


class SetTemplateCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    packaging: Packaging
    items: Annotated[list[TemplateItemIn], msgspec.Meta(min_length=1, max_length=200)]
    shelf_life_days: ShelfLifeDays | None = None


class SetTemplateRevise(msgspec.Struct, forbid_unknown_fields=True):
    """The whole sheet as it should be from now on (`PUT`); `code`, when given, must be
    the one in the path."""

    name: Name
    packaging: Packaging
    items: Annotated[list[TemplateItemIn], msgspec.Meta(min_length=1, max_length=200)]
    shelf_life_days: ShelfLifeDays | None = None
    code: Code | None = None


class TemplateItemOut(msgspec.Struct):
    instrument: str
    name: str
    quantity: int


class SetTemplateOut(msgspec.Struct):
    code: str
    version: int
    current_version: int
    current: bool
    name: str
    packaging: str
    shelf_life_days: int | None
    items: list[TemplateItemOut]
    instrument_count: int
    photo_url: str | None
    created_by: str
    created_at: dt.datetime


# Set assets --------------------------------------------------------------------------


class SetCreate(msgspec.Struct, forbid_unknown_fields=True):
    template: Code
    site: SiteCode | None = None  # default: the user's only site, else MAIN


class SetTemplateRef(msgspec.Struct):
    code: str
    version: int
    name: str
    packaging: str


class ShortItem(msgspec.Struct):
    instrument: str
    name: str
    missing: int


class SetPackOut(msgspec.Struct):
    code: str
    status: str
    template_version: int | None
    assembled_at: dt.datetime
    assembled_by: str
    cycle_number: int | None
    sterilizer: str | None
    short: list[ShortItem]
    used_at: dt.datetime | None
    encounter_ref: str | None


class CurrentPackOut(msgspec.Struct):
    code: str
    status: str


class SetOut(msgspec.Struct):
    code: str
    site: str
    template: SetTemplateRef
    status: Literal["available", "in_pack"]
    current_pack: CurrentPackOut | None
    pack_count: int
    uses: int
    packs: list[SetPackOut]
    qr_url: str
    created_by: str
    created_at: dt.datetime


class SetEncounterOut(msgspec.Struct):
    encounter_ref: str
    pack: str
    used_at: dt.datetime | None
    used_by: str | None
    template_version: int | None
    cycle_number: int | None
    sterilizer: str | None
    short: list[ShortItem]


class PhotoOut(msgspec.Struct):
    template: str
    url: str
    bytes: int
    uploaded_by: str
    uploaded_at: dt.datetime
