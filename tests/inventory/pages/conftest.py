"""The pages' clinic: a supply room and one exam room (the forms add more), and the
catalogue the catalogue pages show."""

from __future__ import annotations

from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory
from tests.inventory_factories import InventoryFactory, move


@pytest.fixture
def inv(database: Database) -> InventoryFactory:
    factory = InventoryFactory(database)
    factory.locations("EXAM1", "SUPPLY")
    return factory


@pytest.fixture
def catalogue(
    inv: InventoryFactory, client: TestClient[Litestar], users: UserFactory
) -> dict[str, int]:
    """Acme: gloves (2 on hand at EXAM1, reorder at 4: below) and gauze; Medline: a
    suture (lot-tracked, category sutures) and an inactive old mask."""
    acme = inv.supplier("Acme Medical")
    medline = inv.supplier("Medline")
    inv.item("GLV/M", name="Nitrile gloves M", unit="box", supplier_id=acme,
             vendor_sku="AC-GLV-100", category="gloves", unit_cost=Decimal("7.50"))  # fmt: skip
    inv.item("GAUZE-4", name="Gauze 4x4", unit="pack", supplier_id=acme,
             gtin="09506000134352", category="dressings")  # fmt: skip
    inv.item("SUT-4", name="Suture 4-0", unit="box", supplier_id=medline,
             lot_tracked=True, category="sutures")  # fmt: skip
    inv.item("MASK-OLD", name="Old mask", unit="each", supplier_id=medline, active=False)
    inv.par("GLV/M", "EXAM1", 10, 4)
    inv.par("GAUZE-4", "EXAM1", 6, 2)
    response = move(client, users.headers(Role.MA), kind="receive", sku="GLV/M",
                    location="EXAM1", quantity=2)  # fmt: skip
    assert response.status_code == 201, response.text
    response = move(client, users.headers(Role.MA), kind="receive", sku="GAUZE-4",
                    location="EXAM1", quantity=5)  # fmt: skip
    assert response.status_code == 201, response.text
    return {"acme": acme, "medline": medline}
