"""Suppliers, locations, items and par levels over HTTP, with roles and bad input."""

from __future__ import annotations

import pytest

from kernel.auth.models import Role
from tests.inventory_factories import InventoryFactory


@pytest.fixture
def supplier_id(client, buyer):
    r = client.post(
        "/api/v1/suppliers",
        json={"name": "Henry Schein", "account_number": "HS-1", "lead_time_days": 3},
        headers=buyer,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def item_body(sid, **overrides):
    body = {
        "sku": "GLV-NIT-M",
        "name": "Nitrile exam gloves, medium",
        "unit": "glove",
        "pack_size": 100,
        "supplier_id": sid,
        "unit_cost": "0.045",
        "gtin": "00888888000011",
        "lot_tracked": False,
        "category": "gloves",
    }
    return body | overrides


def test_purchasing_creates_supplier_location_item_and_par_level(client, buyer, supplier_id):
    r = client.post("/api/v1/locations", json={"code": "exam1", "name": "Exam room 1"},
                    headers=buyer)  # fmt: skip
    assert r.status_code == 201
    assert r.json() == {"code": "EXAM1", "name": "Exam room 1", "active": True, "site": "MAIN"}
    r = client.post("/api/v1/items", json=item_body(supplier_id), headers=buyer)
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["unit_cost"] == "0.0450"
    assert item["effective_lead_time_days"] == 3  # the supplier's
    r = client.put("/api/v1/items/GLV-NIT-M/par-levels/EXAM1", json={"par_level": 7},
                   headers=buyer)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["reorder_point"] == 4  # half of 7, rounded up
    r = client.get("/api/v1/stock", params={"sku": "GLV-NIT-M"}, headers=buyer)
    assert r.json()["items"] == [
        {"sku": "GLV-NIT-M", "name": "Nitrile exam gloves, medium", "location": "EXAM1",
         "on_hand": 0, "par_level": 7, "reorder_point": 4}
    ]  # fmt: skip


def test_item_lead_time_falls_back_to_supplier_then_seven_days(client, buyer):
    sid = client.post("/api/v1/suppliers", json={"name": "No lead"}, headers=buyer).json()["id"]
    r = client.post("/api/v1/items", json=item_body(sid, gtin=None), headers=buyer)
    assert r.json()["effective_lead_time_days"] == 7
    r = client.patch("/api/v1/items/glv-nit-m", json={"lead_time_days": 2}, headers=buyer)
    assert r.status_code == 200 and r.json()["effective_lead_time_days"] == 2


def test_item_patch_changes_only_given_fields_and_can_clear_gtin(client, buyer, supplier_id):
    client.post("/api/v1/items", json=item_body(supplier_id), headers=buyer)
    r = client.patch("/api/v1/items/GLV-NIT-M", json={"unit_cost": 0.05, "gtin": None},
                     headers=buyer)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["unit_cost"] == "0.0500"
    assert r.json()["gtin"] is None
    assert r.json()["name"] == "Nitrile exam gloves, medium"


def test_supplier_patch_changes_only_given_fields_and_null_clears_optional_ones(
    client, buyer, supplier_id
):
    r = client.patch(f"/api/v1/suppliers/{supplier_id}",
                     json={"account_number": None, "email": "o@hs.example"},
                     headers=buyer)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["account_number"] is None and r.json()["email"] == "o@hs.example"
    assert r.json()["name"] == "Henry Schein" and r.json()["lead_time_days"] == 3
    named = client.patch(f"/api/v1/suppliers/{supplier_id}", json={"name": None},
                         headers=buyer)  # fmt: skip
    assert named.status_code == 200 and named.json()["name"] == "Henry Schein"


@pytest.mark.parametrize(
    "overrides",
    [
        {"unit_cost": "-1"},
        {"unit_cost": "0.00001"},
        {"unit_cost": "abc"},
        {"pack_size": 0},
        {"gtin": "12345"},
        {"gtin": "00888888000018"},
        {"sku": ""},
        {"sku": "has space"},
        {"supplier_id": 999999},
        {"unexpected": 1},
    ],
)
def test_bad_item_input_is_422_and_writes_nothing(client, buyer, supplier_id, overrides):
    r = client.post("/api/v1/items", json=item_body(supplier_id, **overrides), headers=buyer)
    assert r.status_code == 422, r.text
    assert client.get("/api/v1/items", headers=buyer).json()["total"] == 0


def test_duplicate_sku_gtin_supplier_and_location_are_409(client, buyer, supplier_id):
    client.post("/api/v1/items", json=item_body(supplier_id), headers=buyer)
    assert client.post("/api/v1/items", json=item_body(supplier_id, gtin=None),
                       headers=buyer).status_code == 409  # fmt: skip
    r = client.post("/api/v1/items", json=item_body(supplier_id, sku="OTHER"), headers=buyer)
    assert r.status_code == 409 and "GTIN" in r.json()["detail"]
    assert client.post("/api/v1/suppliers", json={"name": "henry schein"},
                       headers=buyer).status_code == 409  # fmt: skip
    client.post("/api/v1/locations", json={"code": "A", "name": "A"}, headers=buyer)
    assert client.post("/api/v1/locations", json={"code": "a", "name": "A"},
                       headers=buyer).status_code == 409  # fmt: skip


def test_reorder_point_above_par_is_422(client, buyer, supplier_id):
    client.post("/api/v1/items", json=item_body(supplier_id), headers=buyer)
    client.post("/api/v1/locations", json={"code": "EXAM1", "name": "E"}, headers=buyer)
    r = client.put("/api/v1/items/GLV-NIT-M/par-levels/EXAM1",
                   json={"par_level": 5, "reorder_point": 6}, headers=buyer)  # fmt: skip
    assert r.status_code == 422
    r = client.put("/api/v1/items/GLV-NIT-M/par-levels/NOPE", json={"par_level": 5},
                   headers=buyer)  # fmt: skip
    assert r.status_code == 404


def test_lot_tracking_cannot_change_with_stock_on_hand(client, database, users):
    inv = InventoryFactory(database)
    inv.location("SUPPLY")
    sku = inv.item()
    ma = users.headers(Role.MA)
    client.post("/api/v1/stock/movements",
                json={"kind": "receive", "sku": sku, "location": "SUPPLY", "quantity": 1},
                headers=ma)  # fmt: skip
    r = client.patch(f"/api/v1/items/{sku}", json={"lot_tracked": True},
                     headers=users.headers(Role.PURCHASING))  # fmt: skip
    assert r.status_code == 409


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_only_purchasing_and_admin_edit_the_catalogue(client, users, role, database):
    inv = InventoryFactory(database)
    inv.location("EXAM1")
    sku = inv.item()
    headers = users.headers(role)
    sid = inv.default_supplier()
    assert client.post("/api/v1/suppliers", json={"name": "X"}, headers=headers).status_code == 403
    assert client.post("/api/v1/locations", json={"code": "X", "name": "X"},
                       headers=headers).status_code == 403  # fmt: skip
    assert client.post("/api/v1/items", json=item_body(sid, sku="NEW"),
                       headers=headers).status_code == 403  # fmt: skip
    assert client.patch(f"/api/v1/items/{sku}", json={"name": "Y"},
                        headers=headers).status_code == 403  # fmt: skip
    assert client.put(f"/api/v1/items/{sku}/par-levels/EXAM1", json={"par_level": 1},
                      headers=headers).status_code == 403  # fmt: skip
    # ...but they can read it
    for path in (
        "/api/v1/suppliers",
        "/api/v1/locations",
        "/api/v1/items",
        "/api/v1/stock",
        "/api/v1/stock/expiring",
        "/api/v1/stock/movements",
        f"/api/v1/items/{sku}",
    ):
        assert client.get(path, headers=headers).status_code == 200, path  # fmt: skip


def test_admin_edits_the_catalogue(client, users):
    admin = users.headers(Role.ADMIN)
    assert client.post("/api/v1/suppliers", json={"name": "X"}, headers=admin).status_code == 201


def test_no_token_is_401(client):
    assert client.get("/api/v1/items").status_code == 401


def test_auditor_and_purchasing_cannot_take_stock(client, users, database):
    inv = InventoryFactory(database)
    inv.location("EXAM1")
    sku = inv.item()
    body = {"kind": "receive", "sku": sku, "location": "EXAM1", "quantity": 5}
    auditor = users.headers(Role.AUDITOR)
    assert client.post("/api/v1/stock/movements", json=body, headers=auditor).status_code == 403
    buyer = users.headers(Role.PURCHASING)
    assert client.post("/api/v1/stock/movements", json=body, headers=buyer).status_code == 201
    consume = body | {"kind": "consume", "quantity": 1}
    r = client.post("/api/v1/stock/movements", json=consume, headers=buyer)
    assert r.status_code == 403
    assert inv.movement_count() == 1


def test_item_list_filters(client, database, users):
    inv = InventoryFactory(database)
    inv.item("GAUZE-4X4", name="Gauze sponge 4x4", category="wound")
    inv.item("SYR-3ML", name="Syringe 3 mL", category="injection")
    headers = users.headers(Role.AUDITOR)
    r = client.get("/api/v1/items", params={"q": "gauze"}, headers=headers).json()
    assert [i["sku"] for i in r["items"]] == ["GAUZE-4X4"]
    r = client.get("/api/v1/items", params={"category": "injection"}, headers=headers).json()
    assert [i["sku"] for i in r["items"]] == ["SYR-3ML"]
    r = client.get("/api/v1/items", params={"limit": 1, "offset": 1}, headers=headers).json()
    assert r["total"] == 2 and len(r["items"]) == 1
    assert client.get("/api/v1/items", params={"limit": 0}, headers=headers).status_code in (
        400, 422,
    )  # fmt: skip


def test_a_gtin_with_a_wrong_check_digit_is_refused_on_create_and_patch(client, buyer, supplier_id):
    r = client.post("/api/v1/items", json=item_body(supplier_id, gtin="00888888000018"),
                    headers=buyer)  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "gtin"
    assert "check digit (expected 1)" in r.json()["detail"]
    assert client.post("/api/v1/items", json=item_body(supplier_id), headers=buyer).is_success
    r = client.patch("/api/v1/items/GLV-NIT-M", json={"gtin": "9506000134353"}, headers=buyer)
    assert r.status_code == 422
    assert client.get("/api/v1/items/GLV-NIT-M", headers=buyer).json()["gtin"] == ("00888888000011")
