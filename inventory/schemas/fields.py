"""The value types of inventory's request bodies: codes, SKUs, names, quantities.

Each is a msgspec constraint, so a bad value is refused (422, naming the field) before a
rule runs, and the pages check form fields against the same types.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from kernel.fields import MAX_ID, NOT_BLANK, PRINTABLE

MAX_QUANTITY = 1_000_000
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_.-]+$")]
Sku = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-/]+$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NOT_BLANK)]
Lot = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NOT_BLANK)]
Gtin = Annotated[str, msgspec.Meta(pattern=r"^\d{8}$|^\d{12,14}$")]
Days = Annotated[int, msgspec.Meta(ge=0, le=365)]
Units = Annotated[int, msgspec.Meta(ge=0, le=MAX_QUANTITY)]
Quantity = Annotated[int, msgspec.Meta(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
PositiveQuantity = Annotated[int, msgspec.Meta(gt=0, le=MAX_QUANTITY)]
Reason = Annotated[str, msgspec.Meta(max_length=500, pattern=PRINTABLE)]
PackagingName = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=NOT_BLANK)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=NOT_BLANK)]
Short = Annotated[str, msgspec.Meta(max_length=64, pattern=PRINTABLE)]
Phone = Annotated[str, msgspec.Meta(max_length=40, pattern=PRINTABLE)]
Email = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
]
# A time with its offset (`2026-12-01T16:30:00-06:00` or `...Z`): when a movement happened.
OccurredAt = Annotated[dt.datetime, msgspec.Meta(tz=True)]
