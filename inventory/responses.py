"""Table rows as the API's response bodies, in one place, and the one way money is written.

Money leaves as decimal strings, never floats: a unit cost with 2 to 4 places ("7.50",
"0.045"), as the catalogue export, the reorder CSV and the pages write it; totals in cents.
"""

from __future__ import annotations

from decimal import Decimal

from inventory.catalogue import effective_lead_time
from inventory.models import (
    Item,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    StockMovement,
    Supplier,
)
from inventory.schemas.catalogue import ItemOut, LocationOut, SupplierOut
from inventory.schemas.purchasing import PoLineOut, PurchaseOrderOut, PurchaseOrderSummary
from inventory.schemas.stock import MovementRow
from kernel.sites.codes import code_of


def unit_cost_text(cost: Decimal) -> str:
    """A plain decimal with 2 to 4 places: 7.50, 0.045, 1234.5678."""
    whole, _, fraction = f"{Decimal(cost):.4f}".partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def cents_text(amount: Decimal) -> str:
    return str(Decimal(amount).quantize(Decimal("0.01")))


def po_number(po_id: int) -> str:
    return f"PO-{po_id:06d}"


def supplier_out(s: Supplier) -> SupplierOut:
    return SupplierOut(
        id=s.id or 0,
        name=s.name,
        account_number=s.account_number,
        email=s.email,
        phone=s.phone,
        lead_time_days=s.lead_time_days,
    )


def location_out(loc: Location) -> LocationOut:
    return LocationOut(code=loc.code, name=loc.name, active=loc.active, site=code_of(loc))


def item_out(item: Item, supplier: Supplier | None = None) -> ItemOut:
    return ItemOut(
        sku=item.sku,
        name=item.name,
        unit=item.unit,
        pack_size=item.pack_size,
        supplier_id=item.supplier_id,
        vendor_sku=item.vendor_sku,
        unit_cost=f"{Decimal(item.unit_cost):.4f}",
        gtin=item.gtin,
        lead_time_days=item.lead_time_days,
        effective_lead_time_days=effective_lead_time(item, supplier),
        min_order_qty=item.min_order_qty,
        lot_tracked=item.lot_tracked,
        category=item.category,
        active=item.active,
    )


def movement_row(
    m: StockMovement, sku: str, location: str, packaging_gtin: str | None = None
) -> MovementRow:
    return MovementRow(
        id=m.id or 0, kind=m.kind, sku=sku, location=location, lot=m.lot or None,
        expires_on=m.expires_on, quantity=m.quantity, on_hand_after=m.on_hand_after,
        used=m.used, at=m.at, recorded_at=m.recorded_at, actor=m.actor, reason=m.reason,
        reference=m.reference, packaging_gtin=packaging_gtin, packages=m.packages,
    )  # fmt: skip


def purchase_order_out(
    po: PurchaseOrder, supplier_name: str, lines: list[tuple[PurchaseOrderLine, Item]]
) -> PurchaseOrderOut:
    assert po.id is not None
    out_lines = []
    total = Decimal(0)
    for line, item in lines:
        line_total = line.quantity * Decimal(line.unit_cost)
        total += line_total
        out_lines.append(
            PoLineOut(
                sku=item.sku, name=item.name, unit=item.unit, vendor_sku=item.vendor_sku,
                pack_size=item.pack_size, quantity=line.quantity,
                received_quantity=line.received_quantity,
                outstanding=line.quantity - line.received_quantity,
                unit_cost=unit_cost_text(line.unit_cost), line_total=cents_text(line_total),
            )
        )  # fmt: skip
    return PurchaseOrderOut(
        id=po.id, number=po_number(po.id), site=code_of(po), supplier_id=po.supplier_id,
        supplier=supplier_name, status=po.status,  # type: ignore[arg-type]
        notes=po.notes, created_by=po.created_by, created_at=po.created_at,
        submitted_at=po.submitted_at, received_at=po.received_at,
        cancelled_at=po.cancelled_at, cancel_reason=po.cancel_reason, total=cents_text(total),
        lines=out_lines,
    )  # fmt: skip


def purchase_order_summary(
    po: PurchaseOrder, supplier_name: str, line_count: int, amount: Decimal
) -> PurchaseOrderSummary:
    return PurchaseOrderSummary(
        id=po.id or 0, number=po_number(po.id or 0), site=code_of(po), supplier_id=po.supplier_id,
        supplier=supplier_name, status=po.status,  # type: ignore[arg-type]
        created_by=po.created_by, created_at=po.created_at,
        submitted_at=po.submitted_at, line_count=line_count, total=cents_text(amount),
    )  # fmt: skip
