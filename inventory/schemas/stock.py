"""Request and response bodies of the stock API: movements, stock rows, restock rounds.

A movement request is one of six actions, told apart by `kind` (a msgspec tagged union,
one Struct per action). Every action takes the same fields, so a field an action does not
use is refused by that action's rule in `inventory.ledger`, in a sentence naming the field
("to_location is only for transfers."), not by the decoder; the docstrings say what each
action uses. `quantity` is in units. `occurred_at` (optional, with an offset) records a
movement after the fact: not in the future, at most 7 days back; usage and reports place
it then.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from inventory.schemas.fields import (
    Code,
    Id,
    Lot,
    OccurredAt,
    PositiveQuantity,
    Quantity,
    Reason,
    Sku,
)
from kernel.fields import SCANNED, Text


class StockAction(msgspec.Struct, forbid_unknown_fields=True, tag_field="kind"):
    """The fields every stock action takes (`kind` selects the action)."""

    sku: Sku
    location: Code
    quantity: Quantity
    lot: Lot | None = None
    expires_on: dt.date | None = None
    to_location: Code | None = None
    reason: Reason | None = None
    occurred_at: OccurredAt | None = None

    @property
    def kind(self) -> str:
        """The action's tag: receive, consume, transfer, count, adjust or discard."""
        return str(self.__struct_config__.tag)


class ReceiveStock(StockAction, tag="receive"):
    """Units arrive at `location`: `quantity` of at least 1. A lot-tracked item needs `lot`
    and `expires_on`; a lot already on record keeps its expiry date."""


class ConsumeStock(StockAction, tag="consume"):
    """Units used at `location`: `quantity` of at least 1, from `lot` if given, else the
    earliest-expiring unexpired lot first. Expired units are never consumed."""


class TransferStock(StockAction, tag="transfer"):
    """Units move from `location` to `to_location` (required, another location):
    `quantity` of at least 1. Without `lot` only unexpired units move, earliest expiry
    first; naming a lot moves it whatever its date."""


class CountStock(StockAction, tag="count"):
    """`quantity` is the total counted at `location` (0 or more), of `lot` if given; the
    difference to the books is recorded. Finding more of a lot-tracked item needs its lot
    (and `expires_on` for a new one)."""


class AdjustStock(StockAction, tag="adjust"):
    """A signed correction with a `reason`: `quantity` not 0. A positive one adds units
    (to `lot`, required for a lot-tracked item), a negative one takes them."""


class DiscardStock(StockAction, tag="discard"):
    """Units thrown away (expired, damaged) with a `reason`: `quantity` of at least 1, from
    `lot` if given, else earliest expiry first, expired lots included."""


MovementIn = ReceiveStock | ConsumeStock | TransferStock | CountStock | AdjustStock | DiscardStock
MOVEMENT_ACTIONS: dict[str, type[StockAction]] = {
    "receive": ReceiveStock,
    "consume": ConsumeStock,
    "transfer": TransferStock,
    "count": CountStock,
    "adjust": AdjustStock,
    "discard": DiscardStock,
}


class LotChange(msgspec.Struct):
    location: str
    lot: str | None
    expires_on: dt.date | None
    quantity: int
    used: int = 0  # units of this row that are use (consumed, or a count's shortfall)


class PackagingUse(msgspec.Struct):
    """A receipt scanned at a packaging level: `packages` of `units` each."""

    gtin: str
    name: str
    units: int
    packages: int


class MovementOut(msgspec.Struct):
    """`at`: when it happened; `recorded_at`: when it was written. `on_hand_after`: the
    on-hand at `location` right after it was recorded (a back-dated movement changes the
    books when it is recorded). `used`: the units that count as use. `expected_on_hand`:
    what a count was compared with (the books as of its time)."""

    id: int
    kind: str
    sku: str
    location: str
    quantity: int
    on_hand_after: int
    at: dt.datetime
    recorded_at: dt.datetime
    actor: str
    reference: str
    lots: list[LotChange]
    used: int = 0
    lot: str | None = None
    expires_on: dt.date | None = None
    to_location: str | None = None
    to_on_hand_after: int | None = None
    reason: str | None = None
    expected_on_hand: int | None = None
    packaging: PackagingUse | None = None


class BarcodeReceive(msgspec.Struct, forbid_unknown_fields=True):
    """`quantity` counts packages of the level the barcode names: the item's own GTIN is
    one unit, a packaging level's GTIN that many units. With `purchase_order_id` the
    receipt is booked on that order (it must list the item)."""

    barcode: Text(200, min_length=1, pattern=SCANNED)  # may hold FNC1 (\x1d)
    location: Code
    quantity: PositiveQuantity
    occurred_at: OccurredAt | None = None
    purchase_order_id: Id | None = None


class StockRow(msgspec.Struct):
    sku: str
    name: str
    location: str
    on_hand: int
    par_level: int | None
    reorder_point: int | None


class ExpiringRow(msgspec.Struct):
    sku: str
    name: str
    location: str
    lot: str | None
    expires_on: dt.date
    quantity: int
    expired: bool


class MovementRow(msgspec.Struct):
    """One ledger row. In `id` order, per item and location, `on_hand_after` is the previous
    row's plus `quantity`; `at` (when it happened) may be up to 7 days before
    `recorded_at`."""

    id: int
    kind: str
    sku: str
    location: str
    lot: str | None
    expires_on: dt.date | None
    quantity: int
    on_hand_after: int
    used: int
    at: dt.datetime
    recorded_at: dt.datetime
    actor: str
    reason: str | None
    reference: str | None
    packaging_gtin: str | None = None
    packages: int | None = None


# --- restock rounds --------------------------------------------------------------------


class RestockRow(msgspec.Struct):
    sku: str
    name: str
    to_location: str
    on_hand: int
    par_level: int
    reorder_point: int
    needed: int
    quantity: int  # what to bring: `needed`, limited by what the source holds
    source_on_hand: int


class RestockList(msgspec.Struct):
    from_location: str
    items: list[RestockRow]


class RestockLine(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    to_location: Code
    quantity: PositiveQuantity


class RestockRound(msgspec.Struct, forbid_unknown_fields=True):
    from_location: Code
    lines: Annotated[list[RestockLine], msgspec.Meta(min_length=1, max_length=1000)]


class RestockRoundOut(msgspec.Struct):
    from_location: str
    reference: str
    movements: list[MovementOut]
