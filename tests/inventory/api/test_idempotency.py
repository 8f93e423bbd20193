"""`Idempotency-Key`: a retried movement writes once; a reused key with another body is 409."""

from __future__ import annotations

import threading

import pytest

from kernel.auth.models import Role
from tests.inventory_factories import InventoryFactory


@pytest.fixture
def setup(database, users):
    inv = InventoryFactory(database)
    inv.location("EXAM1")
    sku = inv.item()
    ma = users.headers(Role.MA)
    return inv, sku, ma


def test_retried_request_with_the_same_key_writes_one_movement(client, setup):
    inv, sku, ma = setup
    body = {"kind": "receive", "sku": sku, "location": "EXAM1", "quantity": 5}
    headers = ma | {"Idempotency-Key": "tablet-3-0001"}
    first = client.post("/api/v1/stock/movements", json=body, headers=headers)
    second = client.post("/api/v1/stock/movements", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert inv.movement_count() == 1
    assert inv.invariant_violations() == []


def test_same_key_with_a_different_body_is_409_and_writes_nothing(client, setup):
    inv, sku, ma = setup
    headers = ma | {"Idempotency-Key": "k1"}
    body = {"kind": "receive", "sku": sku, "location": "EXAM1", "quantity": 5}
    assert client.post("/api/v1/stock/movements", json=body, headers=headers).status_code == 201
    r = client.post("/api/v1/stock/movements", json=body | {"quantity": 6}, headers=headers)
    assert r.status_code == 409
    assert "Idempotency-Key" in r.json()["detail"]
    assert inv.movement_count() == 1


def test_keys_are_scoped_per_user(client, setup, users):
    inv, sku, ma = setup
    other = users.headers(Role.ADMIN)
    body = {"kind": "receive", "sku": sku, "location": "EXAM1", "quantity": 1}
    for headers in (ma, other):
        r = client.post("/api/v1/stock/movements", json=body,
                        headers=headers | {"Idempotency-Key": "same"})  # fmt: skip
        assert r.status_code == 201
        assert "idempotent-replayed" not in r.headers
    assert inv.movement_count() == 2


def test_a_failed_request_is_not_stored_so_its_retry_runs_again(client, setup):
    inv, sku, ma = setup
    headers = ma | {"Idempotency-Key": "k2"}
    body = {"kind": "consume", "sku": sku, "location": "EXAM1", "quantity": 1}
    assert client.post("/api/v1/stock/movements", json=body, headers=headers).status_code == 409
    receive = {"kind": "receive", "sku": sku, "location": "EXAM1", "quantity": 1}
    assert client.post("/api/v1/stock/movements", json=receive, headers=ma).status_code == 201
    assert client.post("/api/v1/stock/movements", json=body, headers=headers).status_code == 201
    assert inv.movement_count() == 2


def test_overlong_key_is_422(client, setup):
    _, sku, ma = setup
    body = {"kind": "receive", "sku": sku, "location": "EXAM1", "quantity": 1}
    r = client.post("/api/v1/stock/movements", json=body,
                    headers=ma | {"Idempotency-Key": "x" * 201})  # fmt: skip
    assert r.status_code == 422


def test_concurrent_retries_with_one_key_write_once(client, setup):
    inv, sku, ma = setup
    body = {"kind": "receive", "sku": sku, "location": "EXAM1", "quantity": 2}
    headers = ma | {"Idempotency-Key": "burst"}
    statuses: list[int] = []
    bodies: list[dict] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        barrier.wait()
        r = client.post("/api/v1/stock/movements", json=body, headers=headers)
        statuses.append(r.status_code)
        bodies.append(r.json())

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 8
    assert len({b["id"] for b in bodies}) == 1
    assert inv.movement_count() == 1
