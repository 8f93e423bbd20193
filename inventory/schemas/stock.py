"""Request and response bodies of the stock API: movements, stock rows, restock rounds.

A movement request is one of six actions, told apart by `kind` (a msgspec tagged union,
one Struct per action). Every action takes the same fields, so a field an action does not
use is refused by that action's rule in `inventory.ledger`, in a sentence naming the field
("to_location is only for transfers."), not by the decoder; the docstrings say what each
action uses. `quantity` is in units.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from inventory.schemas.fields import Code, Lot, PositiveQuantity, Quantity, Reason, Sku
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


class MovementOut(msgspec.Struct):
    id: int
    kind: str
    sku: str
    location: str
    quantity: int
    on_hand_after: int
    at: dt.datetime
    actor: str
    reference: str
    lots: list[LotChange]
    lot: str | None = None
    expires_on: dt.date | None = None
    to_location: str | None = None
    to_on_hand_after: int | None = None
    reason: str | None = None


class BarcodeReceive(msgspec.Struct, forbid_unknown_fields=True):
    barcode: Text(200, min_length=1, pattern=SCANNED)  # may hold FNC1 (\x1d)
    location: Code
    quantity: PositiveQuantity


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
    id: int
    kind: str
    sku: str
    location: str
    lot: str | None
    expires_on: dt.date | None
    quantity: int
    at: dt.datetime
    actor: str
    reason: str | None
    reference: str | None


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
