"""Purchase orders: draft → submitted → partially_received → received, or cancelled.

- A draft is a list being prepared; it does not count as on order.
- Submitting says the order went to the supplier: its unreceived units now count as
  `on_order` in the reorder suggestions, so the next suggestion run does not order them again.
- Receiving writes `receive` movements through `inventory.ledger.record_movement` (the
  same path as `POST /stock/movements`: lots, expiry dates, inactive items and locations
  are checked there) with the order's number as the movement reference. Receiving more
  than is outstanding on a line is refused (409) and nothing is written.
- Cancelling closes the order: the outstanding units no longer count as on order (what was
  already received stays received). A submitted order needs a reason to be cancelled.

Every change locks the order row first (`SELECT ... FOR UPDATE`; SQLite writers are
serialized anyway), so a double-tapped submit or two people receiving the same delivery
cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, func, select, text, type_coerce
from sqlalchemy.orm import Session

from inventory import ledger, reorder
from inventory.lookups import normalize_code, normalize_sku
from inventory.models import (
    Item,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMovement,
    Supplier,
)
from inventory.responses import po_number, purchase_order_out, purchase_order_summary
from inventory.schemas.purchasing import (
    FromSuggestionsOut,
    PoLineIn,
    PurchaseOrderCreate,
    PurchaseOrderOut,
    PurchaseOrderSummary,
    ReceiptOut,
    ReceiveIn,
)
from inventory.schemas.stock import ReceiveStock
from kernel import audit
from kernel.clock import ClinicTime
from kernel.db import utcnow
from kernel.problems import Conflict, InvalidInput, NotFound
from kernel.sites.service import site_id_or_main

OPEN_FOR_RECEIPT = ("submitted", "partially_received")
CANCELLABLE = ("draft", "submitted", "partially_received")


# --- reading ---------------------------------------------------------------------------


def get_po(session: Session, po_id: int, *, lock: bool = False) -> PurchaseOrder:
    query = select(PurchaseOrder).where(PurchaseOrder.id == po_id)
    if lock:
        query = query.with_for_update()
    po = session.scalar(query)
    if po is None:
        raise NotFound(f"No purchase order {po_number(po_id)}.")
    return po


def _lines_with_items(session: Session, po_id: int) -> list[tuple[PurchaseOrderLine, Item]]:
    return [
        (line, item)
        for line, item in session.execute(
            select(PurchaseOrderLine, Item)
            .join(Item, Item.id == PurchaseOrderLine.item_id)
            .where(PurchaseOrderLine.purchase_order_id == po_id)
            .order_by(Item.sku)
        ).all()
    ]


def po_out(session: Session, po: PurchaseOrder) -> PurchaseOrderOut:
    """The order with its supplier's name and its lines."""
    assert po.id is not None
    supplier = session.get(Supplier, po.supplier_id)
    return purchase_order_out(
        po, supplier.name if supplier else "", _lines_with_items(session, po.id)
    )


def list_pos(
    session: Session, *, status: str | None, supplier_id: int | None, limit: int, offset: int
) -> tuple[list[PurchaseOrderSummary], int]:
    conditions: list[Any] = []
    if status:
        conditions.append(PurchaseOrder.status == status)
    if supplier_id is not None:
        conditions.append(PurchaseOrder.supplier_id == supplier_id)
    total = session.scalar(select(func.count()).select_from(PurchaseOrder).where(*conditions)) or 0
    pos = session.execute(
        select(PurchaseOrder, Supplier.name)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .where(*conditions)
        .order_by(PurchaseOrder.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [po.id for po, _ in pos]
    sums: dict[int, tuple[int, Decimal]] = {}
    if ids:
        for po_id, count, amount in session.execute(
            select(
                PurchaseOrderLine.purchase_order_id,
                func.count(),
                func.sum(
                    PurchaseOrderLine.quantity
                    * type_coerce(PurchaseOrderLine.unit_cost, BigInteger)
                ),
            )
            .where(PurchaseOrderLine.purchase_order_id.in_(ids))
            .group_by(PurchaseOrderLine.purchase_order_id)
        ):
            # quantity * Money: the raw sum is in ten-thousandths on both databases
            sums[po_id] = (count, Decimal(int(amount or 0)) / 10_000)
    rows = [
        purchase_order_summary(po, supplier_name, *sums.get(po.id or 0, (0, Decimal(0))))
        for po, supplier_name in pos
    ]
    return rows, total


def po_receipts(session: Session, po_id: int) -> list[dict[str, Any]]:
    """The deliveries booked on an order: its `receive` movements (they carry the order's
    number as their reference), oldest first."""
    rows = session.execute(
        select(StockMovement, Item.sku, Item.name, Location.code)
        .join(Item, Item.id == StockMovement.item_id)
        .join(Location, Location.id == StockMovement.location_id)
        .where(StockMovement.reference == po_number(po_id), StockMovement.kind == "receive")
        .order_by(StockMovement.id)
    ).all()
    return [
        {"at": m.at, "sku": sku, "name": name, "location": code, "quantity": m.quantity,
         "lot": m.lot or None, "expires_on": m.expires_on, "actor": m.actor}
        for m, sku, name, code in rows
    ]  # fmt: skip


# --- writing ---------------------------------------------------------------------------


def _audit(session: Session, po: PurchaseOrder, *, actor: str, action: str, **kw: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"purchase_order.{action}",
        entity="purchase_order",
        entity_id=po_number(po.id or 0),
        **kw,
    )


def create_po(
    session: Session, *, actor: str, data: PurchaseOrderCreate, site_id: int | None = None
) -> PurchaseOrder:
    """A draft order of site `site_id` (None: MAIN; handlers pass their scope's site)."""
    """A draft order to one supplier; every SKU must be an active item of that supplier."""
    supplier = session.get(Supplier, data.supplier_id)
    if supplier is None:
        raise InvalidInput.for_field("supplier_id", f"No supplier with id {data.supplier_id}.")
    wanted: dict[str, PoLineIn] = {}
    for index, line in enumerate(data.lines):
        sku = normalize_sku(line.sku)
        if sku in wanted:
            raise InvalidInput(f"Line {index + 1}: {sku} appears twice; combine the lines.")
        wanted[sku] = line
    items = {
        item.sku: item for item in session.scalars(select(Item).where(Item.sku.in_(list(wanted))))
    }
    missing = sorted(set(wanted) - set(items))
    if missing:
        raise InvalidInput(f"No item with SKU {', '.join(missing)}.", extra={"skus": missing})
    inactive = sorted(sku for sku, item in items.items() if not item.active)
    if inactive:
        raise InvalidInput(
            f"{', '.join(inactive)} inactive; reactivate before ordering.",
            extra={"skus": inactive},
        )
    elsewhere = sorted(sku for sku, item in items.items() if item.supplier_id != supplier.id)
    if elsewhere:
        raise InvalidInput(
            f"{', '.join(elsewhere)} not supplied by {supplier.name}; order them from their "
            f"own supplier (or change the item's supplier).",
            extra={"skus": elsewhere},
        )
    po = PurchaseOrder(supplier_id=supplier.id or 0, status="draft", notes=data.notes,
                       created_by=actor, site_id=site_id_or_main(session, site_id))  # fmt: skip
    session.add(po)
    session.flush()
    for sku in sorted(wanted):
        item = items[sku]
        session.add(
            PurchaseOrderLine(
                purchase_order_id=po.id or 0,
                item_id=item.id or 0,
                quantity=wanted[sku].quantity,
                unit_cost=item.unit_cost,
            )
        )
    session.flush()
    _audit(
        session, po, actor=actor, action="create",
        after={"supplier_id": po.supplier_id, "status": po.status, "notes": po.notes,
               "lines": [[sku, wanted[sku].quantity] for sku in sorted(wanted)]},
    )  # fmt: skip
    return po


def _serialize_suggestion_runs(session: Session) -> None:
    """Two concurrent "orders from suggestions" would not see each other's drafts on
    PostgreSQL; a transaction-scoped advisory lock makes the second wait and skip."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(b"po-from-suggestions").digest()[:8], "big", signed=True
        )
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def create_from_suggestions(
    session: Session,
    *,
    actor: str,
    today: dt.date,
    zone: ClinicTime,
    supplier_id: int | None,
    site_id: int | None = None,
) -> FromSuggestionsOut:
    """One draft per supplier with the current suggested quantities.

    Items already on an open draft are skipped (a double tap makes no second set of
    drafts); items without a supplier cannot be ordered and are skipped too."""
    if supplier_id is not None and session.get(Supplier, supplier_id) is None:
        raise InvalidInput.for_field("supplier_id", f"No supplier with id {supplier_id}.")
    _serialize_suggestion_runs(session)
    site_id = site_id_or_main(session, site_id)
    df = reorder.suggestions(
        session, today=today, zone=zone, supplier_id=supplier_id, site_ids=[site_id]
    )
    on_drafts = set(
        session.scalars(
            select(Item.sku)
            .join(PurchaseOrderLine, PurchaseOrderLine.item_id == Item.id)
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
            .where(PurchaseOrder.status == "draft", PurchaseOrder.site_id == site_id)
        )
    )
    skip = df["supplier_missing"].astype(bool) | df["sku"].isin(on_drafts)
    skipped = sorted(df.loc[skip, "sku"].tolist())
    df = df[~skip]
    created = []
    for sup_id, group in df.groupby("supplier_id", sort=True):
        po = create_po(
            session,
            actor=actor,
            data=PurchaseOrderCreate(
                supplier_id=int(sup_id),
                lines=[
                    PoLineIn(sku=s, quantity=int(q))
                    for s, q in zip(group["sku"], group["suggested_qty"], strict=True)
                ],
                notes=f"from reorder suggestions of {today.isoformat()}",
            ),
            site_id=site_id,
        )
        created.append(po_out(session, po))
    return FromSuggestionsOut(items=created, skipped=skipped)


def submit(session: Session, *, actor: str, po_id: int) -> PurchaseOrder:
    po = get_po(session, po_id, lock=True)
    if po.status != "draft":
        raise Conflict(
            f"{po_number(po_id)} is {po.status.replace('_', ' ')}; only a draft can be submitted.",
            extra={"current_status": po.status},
        )
    before = audit.snapshot(po)
    po.status = "submitted"
    po.submitted_at = utcnow()
    session.flush()
    _audit(session, po, actor=actor, action="submit", before=before, after=audit.snapshot(po))
    return po


def cancel(session: Session, *, actor: str, po_id: int, reason: str | None) -> PurchaseOrder:
    po = get_po(session, po_id, lock=True)
    if po.status not in CANCELLABLE:
        raise Conflict(
            f"{po_number(po_id)} is already {po.status.replace('_', ' ')}; it cannot be cancelled.",
            extra={"current_status": po.status},
        )
    reason = (reason or "").strip() or None
    if po.status != "draft" and reason is None:
        raise InvalidInput.for_field(
            "reason",
            f"{po_number(po_id)} was sent to the supplier: say why it is cancelled "
            f"(and tell the supplier).",
        )
    before = audit.snapshot(po)
    po.status = "cancelled"
    po.cancelled_at = utcnow()
    po.cancel_reason = reason
    session.flush()
    _audit(session, po, actor=actor, action="cancel", before=before, after=audit.snapshot(po))
    return po


def receive(
    session: Session,
    *,
    actor: str,
    po_id: int,
    data: ReceiveIn,
    today: dt.date,
    now: dt.datetime | None = None,
    zone: ClinicTime | None = None,
    occurred_at: dt.datetime | None = None,
    packaging: ledger.PackagingRef | None = None,
) -> ReceiptOut:
    """Book a (partial) delivery: `receive` movements through the ledger, all or nothing.
    `occurred_at` and `packaging`: a delivery recorded after the fact, or scanned at a
    packaging level (`POST /stock/receive-barcode` with a `purchase_order_id`)."""
    po = get_po(session, po_id, lock=True)
    number = po_number(po_id)
    if po.status not in OPEN_FOR_RECEIPT:
        hint = {
            "draft": "submit it first",
            "received": "everything on it was already received",
            "cancelled": "it was cancelled",
        }.get(po.status, po.status)
        raise Conflict(
            f"{number} is {po.status.replace('_', ' ')}: nothing can be received on it ({hint}).",
            extra={"current_status": po.status},
        )
    lines = {item.sku: (line, item) for line, item in _lines_with_items(session, po_id)}
    requested: dict[str, int] = defaultdict(int)
    for index, line_in in enumerate(data.lines):
        sku = normalize_sku(line_in.sku)
        if sku not in lines:
            raise InvalidInput(
                f"Line {index + 1}: {sku} is not on {number}.",
                extra={"errors": [{"field": f"lines[{index}].sku", "message": "not on this order",
                                   "source": "body"}]},
            )  # fmt: skip
        requested[sku] += line_in.quantity
    over = []
    for sku, quantity in sorted(requested.items()):
        line, _ = lines[sku]
        outstanding = line.quantity - line.received_quantity
        if quantity > outstanding:
            over.append(
                {"sku": sku, "ordered": line.quantity, "received": line.received_quantity,
                 "outstanding": outstanding, "receiving": quantity}
            )  # fmt: skip
    if over:
        first = over[0]
        raise Conflict(
            f"Over-receipt on {number}: {first['sku']} has {first['outstanding']} outstanding "
            f"(ordered {first['ordered']}, received {first['received']}); cannot receive "
            f"{first['receiving']}. Nothing was recorded.",
            extra={"lines": over},
        )
    before = {sku: lines[sku][0].received_quantity for sku in requested}
    location = normalize_code(data.location)
    movements = []
    ordered_lines = sorted(enumerate(data.lines), key=lambda p: (normalize_sku(p[1].sku), p[0]))
    for index, line_in in ordered_lines:
        sku = normalize_sku(line_in.sku)
        try:
            movements.append(
                ledger.record_movement(
                    session,
                    actor=actor,
                    data=ReceiveStock(
                        sku=sku, location=location, quantity=line_in.quantity,
                        lot=line_in.lot, expires_on=line_in.expires_on,
                        reason=f"received on {number}", occurred_at=occurred_at,
                    ),
                    today=today, reference=number, now=now, zone=zone, packaging=packaging,
                )
            )  # fmt: skip
        except (Conflict, InvalidInput) as exc:
            raise type(exc)(
                f"Line {index + 1} ({sku}): {exc.detail} Nothing from this delivery was recorded.",
                field=f"lines[{index}].{exc.field or 'quantity'}",
                extra=exc.extra,
            ) from exc
    for sku, quantity in requested.items():
        lines[sku][0].received_quantity += quantity
    status_before = po.status
    if all(line.received_quantity >= line.quantity for line, _ in lines.values()):
        po.status = "received"
        po.received_at = utcnow()
    else:
        po.status = "partially_received"
    session.flush()
    _audit(
        session, po, actor=actor, action="receive",
        before={"status": status_before, "received": before},
        after={"status": po.status, "location": location,
               "received": {sku: lines[sku][0].received_quantity for sku in requested},
               "movements": [m.id for m in movements]},
    )  # fmt: skip
    return ReceiptOut(purchase_order=po_out(session, po), movements=movements)
