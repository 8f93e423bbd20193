"""Odd input anywhere in the inventory API gets a 4xx problem, never a 500, on both DBs."""

from __future__ import annotations

import pytest

from kernel.auth.models import Role
from tests.inventory_factories import InventoryFactory

NUL = "\u0000"
PROBES = [
    ("get", "/api/v1/stock?limit=abc", None),
    ("get", "/api/v1/stock?sku=" + "x" * 500, None),
    ("get", "/api/v1/stock?sku=%00", None),
    ("get", "/api/v1/stock?location=%00", None),
    ("get", "/api/v1/stock/movements?reference=%00", None),
    ("get", "/api/v1/stock/expiring?within_days=99999999999999999999", None),
    ("get", "/api/v1/items/%00", None),
    ("get", "/api/v1/items?q=%00", None),
    ("get", "/api/v1/locations/%00", None),
    ("get", "/api/v1/suppliers/99999999999999999999", None),
    ("get", "/api/v1/stock/restock?from_location=%00", None),
    ("post", "/api/v1/stock/movements", "not json"),
    ("post", "/api/v1/stock/movements", []),
    ("post", "/api/v1/stock/movements", {"kind": "receive", "sku": "SKU", "location": "SUPPLY",
                                         "quantity": 1, "lot": NUL}),
    ("post", "/api/v1/stock/movements", {"kind": "adjust", "sku": "SKU", "location": "SUPPLY",
                                         "quantity": 1, "reason": f"a{NUL}b"}),
    ("post", "/api/v1/stock/movements", {"kind": "receive", "sku": f"SKU{NUL}", "location":
                                         "SUPPLY", "quantity": 1}),
    ("post", "/api/v1/stock/receive-barcode", {"barcode": f"(01){NUL}", "location": "SUPPLY",
                                               "quantity": 1}),
    ("post", "/api/v1/stock/receive-barcode", {"barcode": "]d2", "location": "SUPPLY",
                                               "quantity": 1}),
    ("post", "/api/v1/items", {"sku": "Z", "name": "n", "unit": "u",
                               "supplier_id": 99999999999999999999, "unit_cost": "1"}),
    ("post", "/api/v1/items", {"sku": "Z", "name": "n", "unit": "u", "supplier_id": 1,
                               "unit_cost": "NaN"}),
    ("post", "/api/v1/items", {"sku": "Z", "name": "n", "unit": "u", "supplier_id": 1,
                               "unit_cost": 1e308}),
    ("patch", "/api/v1/items/SKU", {"category": f"a{NUL}"}),
    ("patch", "/api/v1/suppliers/1", {"name": " "}),
    ("post", "/api/v1/suppliers", {"name": "   "}),
    ("post", "/api/v1/suppliers", {"name": "x", "email": f"a{NUL}@b"}),
    ("post", "/api/v1/locations", {"code": "X", "name": NUL}),
    ("put", "/api/v1/items/SKU/par-levels/%00", {"par_level": 1}),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body"), PROBES)
def test_odd_input_is_a_4xx_problem_and_writes_nothing(client, users, database, method, path,
                                                       body):  # fmt: skip
    inv = InventoryFactory(database)
    inv.location("SUPPLY")
    inv.item("SKU")
    kwargs = {"headers": users.headers(Role.ADMIN)}
    if isinstance(body, str):
        kwargs["content"] = body
    elif body is not None:
        kwargs["json"] = body
    r = getattr(client, method)(path, **kwargs)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert inv.movement_count() == 0
