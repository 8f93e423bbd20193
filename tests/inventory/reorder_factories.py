"""Reorder and purchasing test data: stock, back-dated consumption and submitted orders,
written through the same service functions the API uses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from inventory import ledger, purchasing
from inventory.models import PurchaseOrder, StockMovement
from inventory.schemas.purchasing import PoLineIn, PurchaseOrderCreate
from inventory.schemas.stock import ConsumeStock, ReceiveStock
from kernel.db import Database
from tests.inventory_factories import CLINIC_CLOCK, TODAY
from tests.tampering import triggers_off


def receive(database: Database, sku: str, location: str, quantity: int, **kw) -> None:
    with database.session() as session:
        ledger.record_movement(
            session,
            actor="test",
            data=ReceiveStock(sku=sku, location=location, quantity=quantity, **kw),
            today=TODAY,
        )


def consume(database: Database, sku: str, location: str, quantity: int, *, days_ago: int) -> None:
    """A consume movement dated noon (clinic time) `days_ago` days before today."""
    with database.session() as session:
        out = ledger.record_movement(
            session,
            actor="test",
            data=ConsumeStock(sku=sku, location=location, quantity=quantity),
            today=TODAY,
        )
    # Older than the ledger's 7-day back-dating allows: the test rewrites the row itself,
    # past the append-only trigger (its seal no longer matches; these tests do not verify).
    at = CLINIC_CLOCK.zone.instant(TODAY - dt.timedelta(days=days_ago), dt.time(12))
    with triggers_off(database), database.session() as session:
        session.execute(
            update(StockMovement).where(StockMovement.reference == out.reference).values(at=at)
        )


def on_order(database: Database, supplier_id: int, lines: dict[str, int]) -> int:
    """A submitted purchase order; its id."""
    with database.session() as session:
        po = purchasing.create_po(
            session,
            actor="test",
            data=PurchaseOrderCreate(
                supplier_id=supplier_id,
                lines=[PoLineIn(sku=s, quantity=q) for s, q in lines.items()],
            ),
        )
        purchasing.submit(session, actor="test", po_id=po.id or 0)
        return po.id or 0


def po_statuses(database: Database) -> dict[int, str]:
    with database.session(write=False) as session:
        return dict(session.execute(select(PurchaseOrder.id, PurchaseOrder.status)).all())


def po_count(database: Database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(PurchaseOrder)) or 0
