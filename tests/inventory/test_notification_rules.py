"""Inventory's notification rules (SPEC section 10): lots expiring within 30 days, bins
below their reorder point, purchase orders overdue; each fact once, to purchasing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kernel.clock import FixedClock
from kernel.db import utcnow
from tests.inventory_factories import move
from tests.notification_factories import kinds_for, notifications, run_notifications

CHICAGO = ZoneInfo("America/Chicago")
PO = "/api/v1/purchase-orders"


@pytest.fixture
def clock(app):
    app.state.clock = FixedClock(CHICAGO, utcnow())
    return app.state.clock


def test_lots_expiring_within_30_days_are_notified_once(app, client, inv, buyer, clock):
    sku = inv.item(lot_tracked=True)
    today = clock.today()
    move(client, buyer, kind="receive", sku=sku, location="SUPPLY", quantity=5, lot="SOON",
         expires_on=today + dt.timedelta(days=10))  # fmt: skip
    move(client, buyer, kind="receive", sku=sku, location="SUPPLY", quantity=5, lot="LATER",
         expires_on=today + dt.timedelta(days=45))  # fmt: skip
    run_notifications(app)
    expiring = notifications(app, "lots_expiring")
    assert len(expiring) == 1 and "lot SOON" in expiring[0].subject
    assert expiring[0].url == f"/b/SUPPLY/{sku}"
    assert kinds_for(client, buyer) == ["lots_expiring"]
    run_notifications(app)
    assert len(notifications(app, "lots_expiring")) == 1
    clock.advance(dt.timedelta(days=16))  # LATER is now 29 days out
    run_notifications(app)
    assert len(notifications(app, "lots_expiring")) == 2


def test_a_lot_used_up_is_not_announced(app, client, inv, buyer, ma, clock):
    sku = inv.item(lot_tracked=True)
    soon = clock.today() + dt.timedelta(days=3)
    move(client, buyer, kind="receive", sku=sku, location="SUPPLY", quantity=2, lot="L1",
         expires_on=soon)  # fmt: skip
    move(client, ma, kind="consume", sku=sku, location="SUPPLY", quantity=2, lot="L1")
    run_notifications(app)
    assert notifications(app, "lots_expiring") == []


def test_below_reorder_once_per_dip(app, client, inv, buyer, ma, clock):
    sku = inv.item()
    inv.par(sku, "EXAM1", par_level=20, reorder_point=5)
    move(client, buyer, kind="receive", sku=sku, location="EXAM1", quantity=20)
    run_notifications(app)
    assert notifications(app, "below_reorder") == []
    move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=16)  # 4 left
    run_notifications(app)
    move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1)  # still low
    run_notifications(app)
    assert len(notifications(app, "below_reorder")) == 1
    assert kinds_for(client, buyer) == ["below_reorder"]
    assert kinds_for(client, ma) == []
    move(client, buyer, kind="receive", sku=sku, location="EXAM1", quantity=17)  # 20
    run_notifications(app)
    move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=16)  # low again
    run_notifications(app)
    assert len(notifications(app, "below_reorder")) == 2


def test_po_overdue_after_its_lead_time(app, client, inv, buyer, clock):
    supplier = inv.supplier(lead_time_days=3)
    sku = inv.item(supplier_id=supplier)
    body = {"supplier_id": supplier, "lines": [{"sku": sku, "quantity": 10}]}
    po = client.post(PO, json=body, headers=buyer).json()
    assert client.post(f"{PO}/{po['id']}/submit", headers=buyer).status_code == 200
    draft = client.post(PO, json=body, headers=buyer).json()  # never submitted: never overdue
    assert draft["status"] == "draft"
    clock.advance(dt.timedelta(days=2, hours=23))
    run_notifications(app)
    assert notifications(app, "po_overdue") == []
    clock.advance(dt.timedelta(hours=2))
    run_notifications(app)
    overdue = notifications(app, "po_overdue")
    assert [n.url for n in overdue] == [f"/purchasing/orders/{po['id']}"]
    run_notifications(app)
    assert len(notifications(app, "po_overdue")) == 1
