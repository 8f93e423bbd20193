"""Inventory test data: a supplier, locations and items made through the service layer,
and small helpers to post movements over HTTP."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from litestar.testing import TestClient
from sqlalchemy import func, select

from inventory import catalogue
from inventory.models import StockLevel, StockLot, StockMovement
from inventory.schemas.catalogue import ItemCreate, LocationCreate, SupplierCreate
from kernel.clock import Clock
from kernel.db import Database

_counter = itertools.count(1)
# the test settings' clinic zone (America/Chicago): "today" for expiry is counted there
CLINIC_CLOCK = Clock(ZoneInfo("America/Chicago"))
TODAY = CLINIC_CLOCK.today()


def days_from_today(days: int) -> dt.date:
    return TODAY + dt.timedelta(days=days)


class InventoryFactory:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._supplier_id: int | None = None

    def supplier(self, name: str | None = None, **kwargs: Any) -> int:
        with self.database.session() as session:
            s = catalogue.create_supplier(
                session,
                actor="test",
                data=SupplierCreate(name=name or f"Supplier {next(_counter)}", **kwargs),
            )
            return s.id or 0

    def default_supplier(self) -> int:
        if self._supplier_id is None:
            self._supplier_id = self.supplier()
        return self._supplier_id

    def location(self, code: str, name: str | None = None) -> str:
        with self.database.session() as session:
            catalogue.create_location(
                session, actor="test", data=LocationCreate(code=code, name=name or code.title())
            )
        return code

    def locations(self, *codes: str) -> None:
        for code in codes:
            self.location(code)

    def item(self, sku: str | None = None, **kwargs: Any) -> str:
        sku = sku or f"SKU-{next(_counter)}"
        kwargs.setdefault("name", f"Item {sku}")
        kwargs.setdefault("unit", "each")
        kwargs.setdefault("unit_cost", Decimal("0.50"))
        kwargs.setdefault("supplier_id", self.default_supplier())
        with self.database.session() as session:
            catalogue.create_item(session, actor="test", data=ItemCreate(sku=sku, **kwargs))
        return sku

    def par(self, sku: str, location: str, par_level: int, reorder_point: int | None = None):
        with self.database.session() as session:
            catalogue.set_par_level(
                session,
                actor="test",
                sku=sku,
                location_code=location,
                par_level=par_level,
                reorder_point=reorder_point,
            )

    def invariant_violations(self) -> list[str]:
        """Every (item, location) where on-hand differs from its lots or its ledger sum."""
        problems = []
        with self.database.session(write=False) as session:
            levels = {
                (r.item_id, r.location_id): r.on_hand
                for r in session.execute(
                    select(StockLevel.item_id, StockLevel.location_id, StockLevel.on_hand)
                )
            }
            lots = dict(
                ((i, loc), int(q))
                for i, loc, q in session.execute(
                    select(
                        StockLot.item_id, StockLot.location_id, func.sum(StockLot.quantity)
                    ).group_by(StockLot.item_id, StockLot.location_id)
                )
            )
            ledger = dict(
                ((i, loc), int(q))
                for i, loc, q in session.execute(
                    select(
                        StockMovement.item_id,
                        StockMovement.location_id,
                        func.sum(StockMovement.quantity),
                    ).group_by(StockMovement.item_id, StockMovement.location_id)
                )
            )
            negative = session.scalar(select(func.count()).where(StockLot.quantity < 0))
        for key in set(levels) | set(lots) | set(ledger):
            a, b, c = levels.get(key, 0), lots.get(key, 0), ledger.get(key, 0)
            if not a == b == c:
                problems.append(f"{key}: on_hand={a} lots={b} ledger={c}")
            if a < 0:
                problems.append(f"{key}: negative on_hand {a}")
        if negative:
            problems.append(f"{negative} negative lot balances")
        return problems

    def movement_count(self) -> int:
        with self.database.session(write=False) as session:
            return session.scalar(select(func.count()).select_from(StockMovement)) or 0


def move(client: TestClient[Any], headers: dict[str, str], **body: Any) -> Any:
    if isinstance(body.get("expires_on"), dt.date):
        body["expires_on"] = body["expires_on"].isoformat()
    return client.post("/api/v1/stock/movements", json=body, headers=headers)


def on_hand(client: TestClient[Any], headers: dict[str, str], sku: str, location: str) -> int:
    response = client.get(
        "/api/v1/stock", params={"sku": sku, "location": location}, headers=headers
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return items[0]["on_hand"] if items else 0
