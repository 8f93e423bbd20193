"""Packaging levels: a GTIN names one packaging level of one item, receiving by barcode
counts packages of the scanned level in units, and GTINs are unique across items' own
GTINs and every level (spec section 13), through real HTTP on both databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from inventory.gs1 import with_check_digit
from inventory.models import ItemPackaging
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from tests.inventory.reorder_factories import on_order
from tests.inventory_factories import InventoryFactory, days_from_today, on_hand

EACH = with_check_digit("0061414100001")  # the item's own GTIN: one glove
BOX = with_check_digit("1061414100001")  # a box of 100
CASE = with_check_digit("2061414100001")  # a case of 10 boxes
OTHER = with_check_digit("0061414100002")  # another item's own GTIN


@pytest.fixture
def gloves(inv: InventoryFactory) -> str:
    inv.item("GAUZE", gtin=OTHER)
    return inv.item("GLV-M", name="Nitrile gloves M", pack_size=100, gtin=EACH)


def add_level(client, headers, sku, gtin, units, name):
    return client.post(
        f"/api/v1/items/{sku}/packagings",
        json={"gtin": gtin, "units": units, "name": name},
        headers=headers,
    )


def scan(client, headers, barcode, quantity, **extra):
    return client.post(
        "/api/v1/stock/receive-barcode",
        json={"barcode": barcode, "location": "SUPPLY", "quantity": quantity, **extra},
        headers=headers,
    )


def level_count(database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(ItemPackaging)) or 0


def test_scanning_a_case_barcode_receives_the_cases_units(client, inv, buyer, gloves):
    assert add_level(client, buyer, gloves, BOX, 100, "box").status_code == 201
    assert add_level(client, buyer, gloves, CASE, 1000, "case").status_code == 201

    r = scan(client, buyer, f"(01){CASE}", 2)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["quantity"] == 2000 and body["on_hand_after"] == 2000
    assert body["packaging"] == {"gtin": CASE, "name": "case", "units": 1000, "packages": 2}

    r = scan(client, buyer, f"(01){BOX}", 3)
    assert r.status_code == 201 and r.json()["quantity"] == 300
    r = scan(client, buyer, f"(01){EACH}", 5)  # the item's own GTIN: single gloves
    assert r.status_code == 201 and r.json()["quantity"] == 5 and r.json()["packaging"] is None
    assert on_hand(client, buyer, gloves, "SUPPLY") == 2305

    ledger = client.get("/api/v1/stock/movements", params={"sku": gloves}, headers=buyer).json()
    rows = [(m["quantity"], m["packaging_gtin"], m["packages"]) for m in ledger["items"]]
    assert rows == [(5, None, None), (300, BOX, 3), (2000, CASE, 2)]
    levels = client.get(f"/api/v1/items/{gloves}/packagings", headers=buyer).json()
    assert [(p["name"], p["units"], p["receipts"]) for p in levels["items"]] == [
        ("box", 100, 1), ("case", 1000, 1),
    ]  # fmt: skip
    assert inv.invariant_violations() == []


def test_a_gtin_is_unique_across_items_and_packaging_levels(client, database, buyer, gloves):
    assert add_level(client, buyer, gloves, BOX, 100, "box").status_code == 201
    for gtin, owner in [(EACH, "item GLV-M"), (OTHER, "item GAUZE"),
                        (BOX, "the box (100) of item GLV-M")]:  # fmt: skip
        r = add_level(client, buyer, "GAUZE", gtin, 10, "pack")
        assert r.status_code == 409, r.text
        assert r.json()["detail"] == f"GTIN {gtin} already belongs to {owner}."
        assert r.json()["errors"][0]["field"] == "gtin"
    # ... and an item cannot take a packaging level's GTIN as its own.
    r = client.patch("/api/v1/items/GAUZE", json={"gtin": BOX}, headers=buyer)
    assert r.status_code == 409 and "the box (100) of item GLV-M" in r.json()["detail"]
    r = client.post(
        "/api/v1/items",
        json={"sku": "NEW", "name": "New", "unit": "each", "supplier_id": 1,
              "unit_cost": "1", "gtin": BOX[1:]},  # the GTIN-13 form of the same number
        headers=buyer,
    )  # fmt: skip
    assert r.status_code in (409, 422)
    assert level_count(database) == 1


def test_a_packaging_with_zero_units_is_refused_naming_units(client, database, buyer, gloves):
    r = add_level(client, buyer, gloves, BOX, 0, "box")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "units"
    assert level_count(database) == 0


def test_a_packaging_gtin_with_a_wrong_check_digit_is_refused(client, database, buyer, gloves):
    wrong = BOX[:-1] + str((int(BOX[-1]) + 1) % 10)
    r = add_level(client, buyer, gloves, wrong, 100, "box")
    assert r.status_code == 422 and "check digit" in r.json()["detail"]
    assert level_count(database) == 0


def test_a_level_receipts_were_counted_in_keeps_its_units_and_stays(client, buyer, gloves):
    level = add_level(client, buyer, gloves, CASE, 1000, "case").json()
    assert scan(client, buyer, f"(01){CASE}", 1).status_code == 201
    path = f"/api/v1/items/{gloves}/packagings/{level['id']}"
    r = client.patch(path, json={"units": 1200}, headers=buyer)
    assert r.status_code == 409 and "add it as a new level" in r.json()["detail"]
    assert client.delete(path, headers=buyer).status_code == 409
    r = client.patch(path, json={"name": "carton"}, headers=buyer)
    assert r.status_code == 200 and r.json()["name"] == "carton" and r.json()["units"] == 1000
    assert client.get(path, headers=buyer).json()["receipts"] == 1


def test_an_unused_level_can_be_corrected_or_removed_and_is_audited(
    client, database, buyer, gloves
):
    level = add_level(client, buyer, gloves, BOX, 10, "box").json()
    path = f"/api/v1/items/{gloves}/packagings/{level['id']}"
    assert client.patch(path, json={"units": 100}, headers=buyer).json()["units"] == 100
    assert client.delete(path, headers=buyer).status_code == 204
    assert client.get(path, headers=buyer).status_code == 404
    with database.session(write=False) as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("item.packaging%"))
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == ["item.packaging_add", "item.packaging_update", "item.packaging_remove"]


def test_a_level_is_found_only_under_its_own_item(client, buyer, gloves):
    level = add_level(client, buyer, gloves, BOX, 100, "box").json()
    assert (
        client.get(f"/api/v1/items/GAUZE/packagings/{level['id']}", headers=buyer).status_code
        == 404
    )
    assert client.get("/api/v1/items/NOPE/packagings", headers=buyer).status_code == 404


def test_packages_beyond_one_receipts_limit_are_refused(client, inv, buyer, gloves):
    add_level(client, buyer, gloves, CASE, 1000, "case")
    r = scan(client, buyer, f"(01){CASE}", 1001)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "quantity"
    assert inv.movement_count() == 0


def test_a_scanned_receipt_can_be_booked_on_its_purchase_order(
    client, database, inv, buyer, ma, gloves
):
    add_level(client, buyer, gloves, CASE, 1000, "case")
    inv.par(gloves, "SUPPLY", 3000, 1000)
    po = on_order(database, inv.default_supplier(), {gloves: 3000})
    refused = scan(client, ma, f"(01){CASE}(10)L7(17)280101", 2, purchase_order_id=po)
    assert refused.status_code == 403  # booking on an order is purchasing's
    r = scan(client, buyer, f"(01){CASE}(10)L7(17)280101", 2, purchase_order_id=po)
    assert r.status_code == 201, r.text
    assert r.json()["reference"] == f"PO-{po:06d}" and r.json()["packaging"]["packages"] == 2
    order = client.get(f"/api/v1/purchase-orders/{po}", headers=buyer).json()
    assert order["status"] == "partially_received" and order["lines"][0]["outstanding"] == 1000
    row = client.get("/api/v1/reorder/suggestions", headers=buyer).json()["items"]
    assert row == []  # 2000 on hand + 1000 on order reaches the par

    over = scan(client, buyer, f"(01){CASE}(10)L7(17)280101", 2, purchase_order_id=po)
    assert over.status_code == 409  # 2000 more than the 1000 outstanding
    assert "GAUZE" not in over.text
    r = client.post(
        "/api/v1/stock/receive-barcode",
        json={"barcode": f"(01){OTHER}", "location": "SUPPLY", "quantity": 1,
              "purchase_order_id": po},
        headers=buyer,
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "purchase_order_id"
    assert on_hand(client, buyer, gloves, "SUPPLY") == 2000


def test_a_scanned_case_shows_the_item_and_its_package(client, users, buyer, gloves):
    add_level(client, buyer, gloves, CASE, 1000, "case")
    r = client.get("/api/v1/scan", params={"code": f"(01){CASE}(10)L1(17)280101"},
                   headers=users.headers(Role.MA))  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["sku"], body["package_units"], body["package_name"]) == (gloves, 1000, "case")
    found = client.get("/api/v1/items", params={"q": CASE[-6:]}, headers=buyer).json()
    assert [i["sku"] for i in found["items"]] == [gloves]


@pytest.mark.postgres
def test_two_people_giving_one_gtin_to_two_items_at_once_only_one_wins(
    client, database, buyer, gloves, backend
):
    """A box level of one item and the own GTIN of another, at the same moment: the GTIN
    lock makes the second see the first."""
    barrier = threading.Barrier(2)

    def add_box() -> int:
        barrier.wait()
        return add_level(client, buyer, gloves, BOX, 100, "box").status_code

    def give_item() -> int:
        barrier.wait()
        return client.patch("/api/v1/items/GAUZE", json={"gtin": BOX}, headers=buyer).status_code

    with ThreadPoolExecutor(2) as pool:
        results = sorted(f.result() for f in [pool.submit(add_box), pool.submit(give_item)])
    assert results in ([200, 409], [201, 409])
    with database.session(write=False) as session:
        owners = session.scalar(
            select(func.count()).select_from(ItemPackaging).where(ItemPackaging.gtin == BOX)
        ) + (1 if client.get("/api/v1/items/GAUZE", headers=buyer).json()["gtin"] == BOX else 0)
    assert owners == 1


def test_a_lot_tracked_case_scan_needs_lot_and_expiry(client, inv, buyer):
    sku = inv.item("SUT", lot_tracked=True, pack_size=12)
    add_level(client, buyer, sku, CASE, 144, "case")
    assert scan(client, buyer, f"(01){CASE}", 1).status_code == 422
    r = scan(client, buyer, f"(01){CASE}(10)S1(17){days_from_today(90):%y%m%d}", 1)
    assert r.status_code == 201 and r.json()["lot"] == "S1" and r.json()["quantity"] == 144
