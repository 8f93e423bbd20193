"""Receiving by barcode: a scanned GS1 element string becomes a receipt in units.

The GTIN (AI 01) names an item at one of its levels (`inventory.gtins`): its own GTIN is
one unit, a packaging level's GTIN `units` of it, so scanning a case and entering 2
receives two cases' worth. Lot (AI 10) and expiry (AI 17) fill the lot. The movement
records the units, the packaging level and the number of packages. With a purchase order
the receipt is booked on it (`inventory.purchasing.receive`), so it stops counting as on
order.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from inventory import ledger, purchasing
from inventory.gs1 import parse_supply_barcode
from inventory.gtins import GtinMatch, find_gtin
from inventory.schemas.fields import MAX_QUANTITY
from inventory.schemas.purchasing import ReceiveIn, ReceiveLineIn
from inventory.schemas.stock import BarcodeReceive, MovementOut, ReceiveStock
from kernel.clock import ClinicTime
from kernel.problems import DomainError, InvalidInput

# A refusal of the order's one receipt line, said of the barcode request's own fields.
ORDER_LINE_FIELDS = {
    "lines[0].sku": "purchase_order_id",
    "lines[0].quantity": "quantity",
    "lines[0].lot": "barcode",
    "lines[0].expires_on": "barcode",
    "lines[0].occurred_at": "occurred_at",
}


def scanned_level(session: Session, gtin: str) -> tuple[GtinMatch, ledger.PackagingRef | None]:
    """The item and level a scanned GTIN names; 422 on `barcode` when none does."""
    match = find_gtin(session, gtin)
    if match is None:
        raise InvalidInput(
            f"No item has GTIN {gtin}; add it to the item (or as one of its packaging "
            "levels) first.",
            extra={
                "gtin": gtin,
                "errors": [{"field": "barcode", "message": "unknown GTIN", "source": "body"}],
            },
        )
    level = match.packaging
    ref = (
        ledger.PackagingRef(level.id or 0, level.gtin, level.name, level.units)
        if level is not None
        else None
    )
    return match, ref


def receive_scanned(
    session: Session,
    *,
    actor: str,
    data: BarcodeReceive,
    today: dt.date,
    now: dt.datetime,
    zone: ClinicTime,
) -> MovementOut:
    """Receive `data.quantity` packages of the scanned level (units = packages x units)."""
    scanned = parse_supply_barcode(data.barcode)
    match, packaging = scanned_level(session, scanned.gtin)
    units = data.quantity * match.units
    if units > MAX_QUANTITY:
        raise InvalidInput.for_field(
            "quantity",
            f"{data.quantity} x {match.units} = {units} units is more than one receipt may "
            f"hold ({MAX_QUANTITY}).",
        )
    sku = match.item.sku
    if data.purchase_order_id is not None:
        try:
            receipt = purchasing.receive(
                session, actor=actor, po_id=data.purchase_order_id,
                data=ReceiveIn(location=data.location, lines=[ReceiveLineIn(
                    sku=sku, quantity=units, lot=scanned.lot, expires_on=scanned.expires_on,
                )]),
                today=today, now=now, zone=zone, occurred_at=data.occurred_at,
                packaging=packaging,
            )  # fmt: skip
        except DomainError as exc:
            field = ORDER_LINE_FIELDS.get(exc.field or "", exc.field)
            if field == exc.field:
                raise
            raise type(exc).for_field(field, exc.detail, extra=exc.extra) from exc
        return receipt.movements[0]
    return ledger.record_movement(
        session,
        actor=actor,
        data=ReceiveStock(
            sku=sku,
            location=data.location,
            quantity=units,
            lot=scanned.lot,
            expires_on=scanned.expires_on,
            occurred_at=data.occurred_at,
        ),
        today=today,
        now=now,
        zone=zone,
        packaging=packaging,
    )
