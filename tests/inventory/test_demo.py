"""The demo clinic's supplies load quickly and obey the ledger invariants."""

from __future__ import annotations

from sqlalchemy import func, select

from inventory.demo import gtin14, load_demo_data
from inventory.gs1 import parse_supply_barcode
from inventory.models import Item, Location, StockMovement, Supplier
from kernel.auth.models import Role
from tests.inventory_factories import InventoryFactory


def test_demo_data_is_a_realistic_consistent_clinic(database, client, users):
    with database.session() as session:
        load_demo_data(session, actor="system")
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Supplier)) == 3
        assert session.scalar(select(func.count()).select_from(Location)) == 4
        assert 140 <= (session.scalar(select(func.count()).select_from(Item)) or 0) <= 180
        kinds = set(session.scalars(select(StockMovement.kind).distinct()))
        assert {"receive", "consume", "transfer"} <= kinds
        days = session.scalar(select(func.count(func.distinct(func.date(StockMovement.at)))))
        assert days >= 20  # 30 days of history, clinic closed at weekends
    assert InventoryFactory(database).invariant_violations() == []
    ma = users.headers(Role.MA)
    expiring = client.get("/api/v1/stock/expiring", params={"within_days": 30}, headers=ma)
    assert expiring.json()["total"] > 0
    assert any(row["expired"] for row in expiring.json()["items"])
    restock = client.get("/api/v1/stock/restock", headers=ma)
    assert restock.status_code == 200
    r = client.post("/api/v1/stock/movements", headers=ma, json={
        "kind": "consume", "sku": "GLV-NIT-M", "location": "EXAM1", "quantity": 1})  # fmt: skip
    assert r.status_code == 201, r.text


def test_demo_gtins_are_valid_gs1():
    assert parse_supply_barcode(f"(01){gtin14(1)}").gtin == gtin14(1)
