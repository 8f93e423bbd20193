"""Inventory's notification rules (SPEC section 10): lots about to expire, bins below
their reorder point, purchase orders that never came. Plain functions reading the stock
tables; the kernel's engine notifies each fact once (the key names the lot and its date,
the bin's dip below the point, the order)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.models import (
    Item,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockLot,
    StockMovement,
    Supplier,
)
from inventory.responses import po_number
from kernel.auth.models import Role
from kernel.notifications import Fact, NotificationRule, RuleContext

EXPIRING_WITHIN = dt.timedelta(days=30)
DEFAULT_LEAD_DAYS = 7  # when neither the supplier nor the items name a lead time
PURCHASING = frozenset({Role.PURCHASING})
OPEN_PO = ("submitted", "partially_received")


def lots_expiring(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A lot on the shelf expires within 30 days (or has expired): use it or discard it."""
    cutoff = ctx.today + EXPIRING_WITHIN
    rows = session.execute(
        select(StockLot, Item, Location)
        .join(Item, Item.id == StockLot.item_id)
        .join(Location, Location.id == StockLot.location_id)
        .where(StockLot.quantity > 0, StockLot.expires_on.is_not(None))
        .where(StockLot.expires_on <= cutoff)
        .order_by(StockLot.expires_on, StockLot.id)
    ).all()
    for lot, item, location in rows:
        when = "expired" if lot.expires_on < ctx.today else "expires"  # type: ignore[operator]
        yield Fact(
            key=f"lot:{lot.id}:{lot.expires_on}",
            subject=f"{item.name} lot {lot.lot or '-'} in {location.code} {when} {lot.expires_on}",
            detail=f"{lot.quantity} {item.unit} on the shelf.",
            url=f"/b/{location.code}/{item.sku}",
        )


def below_reorder(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A bin's on-hand fell to or below its reorder point. The fact is the dip: keyed by
    the first movement after the bin was last above the point, so a bin that stays low is
    one message, and one that is restocked and falls again is a new one."""
    rows = session.execute(
        select(StockLevel, Item, Location)
        .join(Item, Item.id == StockLevel.item_id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(
            StockLevel.reorder_point.is_not(None),
            StockLevel.on_hand <= StockLevel.reorder_point,
            Item.active,
        )
        .order_by(StockLevel.id)
    ).all()
    for level, item, location in rows:
        last_above = session.scalar(
            select(func.max(StockMovement.id)).where(
                StockMovement.item_id == level.item_id,
                StockMovement.location_id == level.location_id,
                StockMovement.on_hand_after > level.reorder_point,
            )
        )
        dip = session.scalar(
            select(func.min(StockMovement.id)).where(
                StockMovement.item_id == level.item_id,
                StockMovement.location_id == level.location_id,
                StockMovement.id > (last_above or 0),
            )
        )
        yield Fact(
            key=f"level:{level.id}:{dip or 0}",
            subject=f"{item.name} in {location.code} is below its reorder point",
            detail=f"{level.on_hand} {item.unit} on hand, reorder point {level.reorder_point}.",
            url=f"/b/{location.code}/{item.sku}",
        )


def po_overdue(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A submitted purchase order is not fully received after its lead time (the
    supplier's, else the longest of its items', else 7 days)."""
    item_lead = (
        select(func.max(Item.lead_time_days))
        .join(PurchaseOrderLine, PurchaseOrderLine.item_id == Item.id)
        .where(PurchaseOrderLine.purchase_order_id == PurchaseOrder.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(PurchaseOrder, Supplier, item_lead)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .where(PurchaseOrder.status.in_(OPEN_PO), PurchaseOrder.submitted_at.is_not(None))
        .order_by(PurchaseOrder.id)
    ).all()
    for po, supplier, items_lead in rows:
        days = supplier.lead_time_days or items_lead or DEFAULT_LEAD_DAYS
        due = po.submitted_at + dt.timedelta(days=days)  # type: ignore[operator]
        if due > ctx.now:
            continue
        yield Fact(
            key=f"po:{po.id}",
            subject=f"{po_number(po.id)} from {supplier.name} is overdue",  # type: ignore[arg-type]
            detail=f"Submitted {ctx.zone.local_text(po.submitted_at)}; expected within "  # type: ignore[arg-type]
            f"{days} day(s), by {ctx.zone.local_text(due)}.",
            url=f"/purchasing/orders/{po.id}",
        )


RULES: tuple[NotificationRule, ...] = (
    NotificationRule("lots_expiring", "Lots expiring", lots_expiring, PURCHASING,
                     "A lot on the shelf expires within 30 days."),
    NotificationRule("below_reorder", "Below reorder point", below_reorder, PURCHASING,
                     "A bin fell to its reorder point."),
    NotificationRule("po_overdue", "Purchase order overdue", po_overdue, PURCHASING,
                     "A submitted order has not arrived within its lead time."),
)  # fmt: skip
