"""Purchase orders: the state machine, receiving through the ledger, over-receipt, cancel
rules, roles and safe retries, through real HTTP on both databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from inventory.models import PurchaseOrder, PurchaseOrderLine
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from tests.inventory_factories import days_from_today, on_hand

PO = "/api/v1/purchase-orders"


def suggested(client, headers):
    r = client.get("/api/v1/reorder/suggestions", params={"limit": 1000}, headers=headers)
    assert r.status_code == 200, r.text
    return {row["sku"]: row for row in r.json()["items"]}


def make_po(client, headers, supplier_id, lines, **extra):
    r = client.post(
        PO,
        json={"supplier_id": supplier_id, "lines": [{"sku": s, "quantity": q} for s, q in lines]},
        headers=headers,
        **extra,
    )
    assert r.status_code == 201, r.text
    return r.json()


def counts(database):
    with database.session(write=False) as session:
        return (
            session.scalar(select(func.count()).select_from(PurchaseOrder)),
            session.scalar(select(func.count()).select_from(PurchaseOrderLine)),
            session.scalar(select(func.sum(PurchaseOrderLine.received_quantity))) or 0,
        )


def test_full_cycle_suggest_order_submit_receive_in_parts_then_closed(client, database, inv, buyer):
    acme = inv.supplier("Acme")
    zeta = inv.supplier("Zeta")
    gloves = inv.item("GLOVE-M", supplier_id=acme, pack_size=100, unit_cost=Decimal("0.045"))
    gauze = inv.item("GAUZE-4", supplier_id=zeta, pack_size=10, lot_tracked=True)
    inv.par(gloves, "SUPPLY", 500, 200)
    inv.par(gauze, "SUPPLY", 40, 20)

    rows = suggested(client, buyer)
    assert (rows[gloves]["suggested_qty"], rows[gauze]["suggested_qty"]) == (500, 40)

    r = client.post(f"{PO}/from-suggestions", headers=buyer)
    assert r.status_code == 201, r.text
    drafts = {po["supplier"]: po for po in r.json()["items"]}
    assert set(drafts) == {"Acme", "Zeta"}
    acme_po = drafts["Acme"]
    assert acme_po["status"] == "draft"
    assert [(ln["sku"], ln["quantity"]) for ln in acme_po["lines"]] == [(gloves, 500)]
    assert acme_po["total"] == "22.50"
    # drafts are not on order yet, and a second run makes no second set of drafts
    assert suggested(client, buyer)[gloves]["on_order"] == 0
    again = client.post(f"{PO}/from-suggestions", headers=buyer).json()
    assert again["items"] == [] and again["skipped"] == [gauze, gloves]

    for po in drafts.values():
        r = client.post(f"{PO}/{po['id']}/submit", headers=buyer)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "submitted"
    assert suggested(client, buyer) == {}  # everything needed is on order now

    r = client.post(
        f"{PO}/{acme_po['id']}/receive",
        json={"location": "SUPPLY", "lines": [{"sku": gloves, "quantity": 200}]},
        headers=buyer,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["purchase_order"]["status"] == "partially_received"
    assert body["purchase_order"]["lines"][0]["outstanding"] == 300
    assert body["movements"][0]["kind"] == "receive"
    assert body["movements"][0]["reference"] == acme_po["number"]
    assert on_hand(client, buyer, gloves, "SUPPLY") == 200
    rows = client.get("/api/v1/reorder/suggestions.csv", headers=buyer)
    assert gloves not in rows.text  # 200 + 300 on order is above the reorder point
    r = client.get(
        "/api/v1/stock/movements", params={"reference": acme_po["number"]}, headers=buyer
    )
    assert r.json()["total"] == 1

    # the on-order figure went down by what arrived (seen once stock is low again)
    r = client.get(f"{PO}/{acme_po['id']}", headers=buyer)
    assert r.json()["lines"][0]["received_quantity"] == 200

    r = client.post(
        f"{PO}/{acme_po['id']}/receive",
        json={"location": "EXAM1", "lines": [{"sku": gloves, "quantity": 300}]},
        headers=buyer,
    )
    assert r.status_code == 201, r.text
    closed = r.json()["purchase_order"]
    assert closed["status"] == "received"
    assert closed["received_at"] is not None
    assert on_hand(client, buyer, gloves, "EXAM1") == 300
    assert inv.invariant_violations() == []

    r = client.get(PO, params={"status": "received"}, headers=buyer)
    assert [(p["number"], p["total"], p["line_count"]) for p in r.json()["items"]] == [
        (acme_po["number"], "22.50", 1)
    ]
    with database.session(write=False) as session:
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "purchase_order"))
        )
    assert actions == {"purchase_order.create", "purchase_order.submit", "purchase_order.receive"}


def test_on_order_falls_as_deliveries_arrive(client, database, inv, buyer):
    sku = inv.item(pack_size=1)
    inv.par(sku, "SUPPLY", 100, 100)  # always at or below its reorder point
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 60)])
    client.post(f"{PO}/{po['id']}/submit", headers=buyer)
    row = suggested(client, buyer)[sku]
    assert (row["on_hand"], row["on_order"], row["suggested_qty"]) == (0, 60, 40)
    r = client.post(
        f"{PO}/{po['id']}/receive",
        json={"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 25}]},
        headers=buyer,
    )
    assert r.status_code == 201, r.text
    row = suggested(client, buyer)[sku]
    assert (row["on_hand"], row["on_order"], row["suggested_qty"]) == (25, 35, 40)


def test_over_receipt_is_refused_with_409_and_writes_nothing(client, database, inv, buyer):
    a, b = inv.item(), inv.item()
    po = make_po(client, buyer, inv.default_supplier(), [(a, 10), (b, 5)])
    client.post(f"{PO}/{po['id']}/submit", headers=buyer)
    before = (counts(database), inv.movement_count())
    r = client.post(
        f"{PO}/{po['id']}/receive",
        json={"location": "SUPPLY", "lines": [{"sku": a, "quantity": 10},
                                                {"sku": b, "quantity": 3},
                                                {"sku": b, "quantity": 3}]},
        headers=buyer,
    )  # fmt: skip
    assert r.status_code == 409
    problem = r.json()
    assert "Over-receipt" in problem["detail"] and b in problem["detail"]
    assert problem["lines"] == [
        {"sku": b, "ordered": 5, "received": 0, "outstanding": 5, "receiving": 6}
    ]
    assert (counts(database), inv.movement_count()) == before


def test_receiving_a_lot_tracked_item_follows_the_ledger_rules(client, inv, buyer):
    sku = inv.item(lot_tracked=True)
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 10)])
    client.post(f"{PO}/{po['id']}/submit", headers=buyer)
    r = client.post(
        f"{PO}/{po['id']}/receive",
        json={"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 4}]},
        headers=buyer,
    )
    assert r.status_code == 422
    assert "lot" in r.json()["detail"]
    assert inv.movement_count() == 0
    expiry = days_from_today(300).isoformat()
    r = client.post(
        f"{PO}/{po['id']}/receive",
        json={"location": "SUPPLY", "lines": [
            {"sku": sku, "quantity": 4, "lot": "A1", "expires_on": expiry},
            {"sku": sku, "quantity": 6, "lot": "B2", "expires_on": expiry},
        ]},
        headers=buyer,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["purchase_order"]["status"] == "received"
    assert [m["lot"] for m in r.json()["movements"]] == ["A1", "B2"]


def test_receiving_needs_a_submitted_order_a_known_location_and_skus_on_the_order(
    client, inv, buyer
):
    sku, other = inv.item(), inv.item()
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 10)])
    receipt = {"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 1}]}
    r = client.post(f"{PO}/{po['id']}/receive", json=receipt, headers=buyer)
    assert r.status_code == 409 and "submit it first" in r.json()["detail"]
    client.post(f"{PO}/{po['id']}/submit", headers=buyer)
    r = client.post(
        f"{PO}/{po['id']}/receive",
        json={"location": "SUPPLY", "lines": [{"sku": other, "quantity": 1}]},
        headers=buyer,
    )
    assert r.status_code == 422 and "not on" in r.json()["detail"]
    r = client.post(
        f"{PO}/{po['id']}/receive",
        json={"location": "NOWHERE", "lines": [{"sku": sku, "quantity": 1}]},
        headers=buyer,
    )
    assert r.status_code == 404
    bad = {"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 0}]}
    assert client.post(f"{PO}/{po['id']}/receive", json=bad, headers=buyer).status_code == 422
    assert client.post(f"{PO}/9999/receive", json=receipt, headers=buyer).status_code == 404
    assert inv.movement_count() == 0


def test_submit_only_once_and_only_a_draft(client, inv, buyer):
    sku = inv.item()
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 1)])
    assert client.post(f"{PO}/{po['id']}/submit", headers=buyer).status_code == 200
    r = client.post(f"{PO}/{po['id']}/submit", headers=buyer)
    assert r.status_code == 409
    assert "only a draft" in r.json()["detail"]


@pytest.mark.parametrize(
    "steps, reason, status, final",
    [
        ([], None, 200, "cancelled"),  # a draft: no reason needed
        (["submit"], None, 422, "submitted"),  # sent to the supplier: say why
        (["submit"], "supplier out of stock", 200, "cancelled"),
        (["submit", "receive:4"], "backordered, closing short", 200, "cancelled"),
        (["submit", "receive:10"], "too late", 409, "received"),
        (["cancel"], "again", 409, "cancelled"),
    ],
    ids=["draft", "submitted-no-reason", "submitted", "partial", "received", "cancelled"],
)
def test_cancel_rules(client, inv, buyer, steps, reason, status, final):
    sku = inv.item()
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 10)])
    url = f"{PO}/{po['id']}"
    for step in steps:
        if step.startswith("receive:"):
            qty = int(step.split(":")[1])
            body = {"location": "SUPPLY", "lines": [{"sku": sku, "quantity": qty}]}
            assert client.post(f"{url}/receive", json=body, headers=buyer).status_code == 201
        else:
            assert client.post(f"{url}/{step}", headers=buyer).status_code == 200
    r = client.post(f"{url}/cancel", json={"reason": reason}, headers=buyer)
    assert r.status_code == status, r.text
    assert client.get(url, headers=buyer).json()["status"] == final
    if final == "cancelled":
        assert sku not in suggested(client, buyer) or suggested(client, buyer)[sku]["on_order"] == 0


def test_a_cancelled_order_no_longer_counts_as_on_order(client, inv, buyer):
    sku = inv.item()
    inv.par(sku, "SUPPLY", 10)
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 10)])
    client.post(f"{PO}/{po['id']}/submit", headers=buyer)
    assert sku not in suggested(client, buyer)
    r = client.post(f"{PO}/{po['id']}/cancel", json={"reason": "wrong item"}, headers=buyer)
    assert r.status_code == 200
    assert suggested(client, buyer)[sku]["on_order"] == 0


@pytest.mark.parametrize(
    "lines, fragment",
    [
        ([("NOPE", 1)], "No item"),
        ([("{a}", 1), ("{a}", 2)], "twice"),
        ([("{other}", 1)], "not supplied by"),
    ],
    ids=["unknown-sku", "duplicate", "other-supplier"],
)
def test_bad_purchase_orders_are_refused_and_write_nothing(
    client, database, inv, buyer, lines, fragment
):
    a = inv.item()
    other = inv.item(supplier_id=inv.supplier())
    body = {
        "supplier_id": inv.default_supplier(),
        "lines": [{"sku": s.format(a=a, other=other), "quantity": q} for s, q in lines],
    }
    r = client.post(PO, json=body, headers=buyer)
    assert r.status_code == 422, r.text
    assert fragment in r.json()["detail"]
    assert counts(database) == (0, 0, 0)


def test_malformed_orders_get_4xx(client, database, inv, buyer):
    sku = inv.item()
    for body in [
        {"supplier_id": inv.default_supplier(), "lines": []},
        {"supplier_id": inv.default_supplier(), "lines": [{"sku": sku, "quantity": -1}]},
        {"supplier_id": 999, "lines": [{"sku": sku, "quantity": 1}]},
        {"supplier_id": inv.default_supplier(), "lines": [{"sku": sku, "quantity": 1}], "x": 1},
    ]:
        r = client.post(PO, json=body, headers=buyer)
        assert 400 <= r.status_code < 500, (body, r.text)
    assert counts(database) == (0, 0, 0)


def test_idempotency_key_makes_creating_and_receiving_safe_to_retry(client, database, inv, buyer):
    sku = inv.item()
    body = {"supplier_id": inv.default_supplier(), "lines": [{"sku": sku, "quantity": 8}]}
    key = {"Idempotency-Key": "po-create-1", **buyer}
    first = client.post(PO, json=body, headers=key)
    second = client.post(PO, json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert counts(database)[0] == 1
    po_id = first.json()["id"]
    client.post(f"{PO}/{po_id}/submit", headers=buyer)
    receipt = {"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 5}]}
    key = {"Idempotency-Key": "delivery-77", **buyer}
    for _ in range(2):
        r = client.post(f"{PO}/{po_id}/receive", json=receipt, headers=key)
        assert r.status_code == 201, r.text
    assert on_hand(client, buyer, sku, "SUPPLY") == 5
    other = {"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 1}]}
    assert client.post(f"{PO}/{po_id}/receive", json=other, headers=key).status_code == 409


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_only_purchasing_and_admin_write_purchase_orders(client, inv, users, buyer, role):
    sku = inv.item()
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 3)])
    headers = users.headers(role)
    body = {"supplier_id": inv.default_supplier(), "lines": [{"sku": sku, "quantity": 1}]}
    assert client.post(PO, json=body, headers=headers).status_code == 403
    assert client.post(f"{PO}/from-suggestions", headers=headers).status_code == 403
    for action in ("submit", "cancel"):
        assert client.post(f"{PO}/{po['id']}/{action}", headers=headers).status_code == 403
    receipt = {"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 1}]}
    r = client.post(f"{PO}/{po['id']}/receive", json=receipt, headers=headers)
    assert r.status_code == 403
    # but they may read
    assert client.get(PO, headers=headers).status_code == 200
    assert client.get(f"{PO}/{po['id']}", headers=headers).status_code == 200
    admin = users.headers(Role.ADMIN)
    assert client.post(f"{PO}/{po['id']}/submit", headers=admin).status_code == 200


def test_a_draft_can_be_cancelled_without_a_body_and_is_audited(client, database, inv, buyer):
    po = make_po(client, buyer, inv.default_supplier(), [(inv.item(), 2)])
    r = client.post(f"{PO}/{po['id']}/cancel", headers=buyer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["cancelled_at"]
    with database.session(write=False) as session:
        assert (
            session.scalar(select(func.count()).where(AuditEntry.action == "purchase_order.cancel"))
            == 1
        )


def test_two_people_booking_the_same_delivery_at_once_only_one_succeeds(client, inv, buyer):
    sku = inv.item()
    po = make_po(client, buyer, inv.default_supplier(), [(sku, 10)])
    client.post(f"{PO}/{po['id']}/submit", headers=buyer)
    receipt = {"location": "SUPPLY", "lines": [{"sku": sku, "quantity": 10}]}
    barrier = threading.Barrier(4)

    def book(_: int) -> int:
        barrier.wait()
        return client.post(f"{PO}/{po['id']}/receive", json=receipt, headers=buyer).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(book, range(4)))
    assert statuses == [201, 409, 409, 409]
    assert on_hand(client, buyer, sku, "SUPPLY") == 10
    assert inv.invariant_violations() == []


def test_a_double_tapped_submit_submits_once(client, database, inv, buyer):
    po = make_po(client, buyer, inv.default_supplier(), [(inv.item(), 2)])
    barrier = threading.Barrier(2)

    def submit(_: int) -> int:
        barrier.wait()
        return client.post(f"{PO}/{po['id']}/submit", headers=buyer).status_code

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(submit, range(2))) == [200, 409]
    with database.session(write=False) as session:
        assert (
            session.scalar(select(func.count()).where(AuditEntry.action == "purchase_order.submit"))
            == 1
        )
