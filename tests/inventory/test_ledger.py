"""Stock movements and their rules from the spec, through real HTTP on both databases."""

from __future__ import annotations

import pytest

from kernel.auth.models import Role
from tests.inventory_factories import days_from_today, move, on_hand


def test_receive_then_consume_updates_on_hand_and_ledger(client, inv, ma):
    sku = inv.item()
    r = move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=10)
    assert r.status_code == 201, r.text
    assert r.json()["on_hand_after"] == 10
    r = move(client, ma, kind="consume", sku=sku, location="SUPPLY", quantity=3)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["on_hand_after"] == 7
    assert body["lots"] == [
        {"location": "SUPPLY", "lot": None, "expires_on": None, "quantity": -3, "used": 3}
    ]
    assert body["used"] == 3
    assert on_hand(client, ma, sku, "SUPPLY") == 7
    assert inv.invariant_violations() == []


def test_receiving_a_lot_tracked_item_needs_lot_and_expiry(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    r = move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=5)
    assert r.status_code == 422
    assert "lot" in r.json()["detail"]
    r = move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=5, lot="L1")
    assert r.status_code == 422
    assert inv.movement_count() == 0
    r = move(
        client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=5, lot="L1",
        expires_on=days_from_today(90),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["lot"] == "L1"


def test_consume_takes_earliest_expiring_unexpired_lot_first_and_spans_lots(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    for lot, days, qty in [("LATE", 200, 5), ("SOON", 20, 3), ("OLD", -2, 4), ("MID", 60, 2)]:
        r = move(
            client, ma, kind="receive", sku=sku, location="EXAM1", quantity=qty, lot=lot,
            expires_on=days_from_today(days),
        )  # fmt: skip
        assert r.status_code == 201, r.text
    r = move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=4)
    assert r.status_code == 201, r.text
    taken = [(c["lot"], c["quantity"]) for c in r.json()["lots"]]
    assert taken == [("SOON", -3), ("MID", -1)]  # the expired lot OLD is skipped
    assert r.json()["on_hand_after"] == 10
    assert inv.invariant_violations() == []


def test_consuming_only_expired_stock_is_refused_with_a_message_that_says_so(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    move(
        client, ma, kind="receive", sku=sku, location="EXAM1", quantity=4, lot="OLD",
        expires_on=days_from_today(-1),
    )  # fmt: skip
    r = move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1)
    assert r.status_code == 409
    body = r.json()
    assert "expired" in body["detail"]
    assert body["on_hand"] == 4 and body["usable"] == 0
    # naming the expired lot is refused too
    r = move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1, lot="OLD")
    assert r.status_code == 409 and "expired" in r.json()["detail"]
    assert on_hand(client, ma, sku, "EXAM1") == 4


def test_lot_expiring_today_is_still_usable(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    move(
        client, ma, kind="receive", sku=sku, location="EXAM1", quantity=1, lot="TODAY",
        expires_on=days_from_today(0),
    )  # fmt: skip
    r = move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=1)
    assert r.status_code == 201, r.text


def test_consume_more_than_on_hand_is_refused_with_on_hand_and_writes_nothing(client, inv, ma):
    sku = inv.item()
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=3)
    before = inv.movement_count()
    r = move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=5)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Only 3" in r.json()["detail"]
    assert r.json()["on_hand"] == 3
    assert inv.movement_count() == before
    assert on_hand(client, ma, sku, "EXAM1") == 3


def test_consume_at_a_location_with_no_stock_is_409(client, inv, ma):
    sku = inv.item()
    r = move(client, ma, kind="consume", sku=sku, location="EXAM2", quantity=1)
    assert r.status_code == 409
    assert r.json()["on_hand"] == 0


def test_transfer_writes_two_movements_and_moves_the_lot(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    exp = days_from_today(100)
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=10, lot="A1",
         expires_on=exp)  # fmt: skip
    r = move(client, ma, kind="transfer", sku=sku, location="SUPPLY", to_location="EXAM1",
             quantity=4)  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["on_hand_after"] == 6 and body["to_on_hand_after"] == 4
    assert [(c["location"], c["lot"], c["quantity"]) for c in body["lots"]] == [
        ("SUPPLY", "A1", -4),
        ("EXAM1", "A1", 4),
    ]
    ledger = client.get(
        "/api/v1/stock/movements", params={"reference": body["reference"]}, headers=ma
    ).json()
    assert ledger["total"] == 2
    assert {m["expires_on"] for m in ledger["items"]} == {exp.isoformat()}
    assert inv.invariant_violations() == []


def test_transfer_needs_a_different_to_location(client, inv, ma):
    sku = inv.item()
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=1)
    r = move(client, ma, kind="transfer", sku=sku, location="SUPPLY", quantity=1)
    assert r.status_code == 422
    r = move(client, ma, kind="transfer", sku=sku, location="SUPPLY", to_location="supply",
             quantity=1)  # fmt: skip
    assert r.status_code == 422
    r = move(client, ma, kind="transfer", sku=sku, location="SUPPLY", to_location="NOWHERE",
             quantity=1)  # fmt: skip
    assert r.status_code == 404


def test_count_records_the_difference_to_the_counted_total(client, inv, ma):
    sku = inv.item()
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=10)
    r = move(client, ma, kind="count", sku=sku, location="EXAM1", quantity=7)
    assert r.status_code == 201, r.text
    assert r.json()["lots"][0]["quantity"] == -3
    assert r.json()["on_hand_after"] == 7
    r = move(client, ma, kind="count", sku=sku, location="EXAM1", quantity=9)
    assert r.json()["lots"][0]["quantity"] == 2
    r = move(client, ma, kind="count", sku=sku, location="EXAM1", quantity=9)
    assert r.status_code == 201
    assert r.json()["lots"][0]["quantity"] == 0  # a count that matches is still recorded
    assert on_hand(client, ma, sku, "EXAM1") == 9
    assert inv.invariant_violations() == []


def test_count_finding_more_of_a_lot_tracked_item_needs_the_lot(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=2, lot="L",
         expires_on=days_from_today(30))  # fmt: skip
    r = move(client, ma, kind="count", sku=sku, location="EXAM1", quantity=5)
    assert r.status_code == 422
    r = move(client, ma, kind="count", sku=sku, location="EXAM1", quantity=5, lot="L")
    assert r.status_code == 201
    assert r.json()["on_hand_after"] == 5


def test_adjust_and_discard_require_a_reason(client, inv, ma):
    sku = inv.item()
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=5)
    for kind, qty in [("adjust", -1), ("discard", 1)]:
        r = move(client, ma, kind=kind, sku=sku, location="EXAM1", quantity=qty)
        assert r.status_code == 422
        assert "reason" in r.json()["detail"]
        r = move(client, ma, kind=kind, sku=sku, location="EXAM1", quantity=qty, reason="  ")
        assert r.status_code == 422
    r = move(client, ma, kind="adjust", sku=sku, location="EXAM1", quantity=-2, reason="found torn")
    assert r.status_code == 201 and r.json()["on_hand_after"] == 3
    r = move(client, ma, kind="adjust", sku=sku, location="EXAM1", quantity=4, reason="found box")
    assert r.status_code == 201 and r.json()["on_hand_after"] == 7
    r = move(client, ma, kind="discard", sku=sku, location="EXAM1", quantity=2, reason="wet")
    assert r.status_code == 201 and r.json()["on_hand_after"] == 5
    r = move(client, ma, kind="adjust", sku=sku, location="EXAM1", quantity=-6, reason="x")
    assert r.status_code == 409


def test_discard_takes_expired_lots_first(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=2, lot="NEW",
         expires_on=days_from_today(100))  # fmt: skip
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=3, lot="OLD",
         expires_on=days_from_today(-10))  # fmt: skip
    r = move(client, ma, kind="discard", sku=sku, location="EXAM1", quantity=3, reason="expired")
    assert r.status_code == 201
    assert r.json()["lot"] == "OLD"


def test_a_lot_keeps_one_expiry_date(client, inv, ma):
    sku = inv.item(lot_tracked=True)
    move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=2, lot="L9",
         expires_on=days_from_today(100))  # fmt: skip
    r = move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=2, lot="L9",
             expires_on=days_from_today(101))  # fmt: skip
    assert r.status_code == 422
    assert "recorded as expiring" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "steal", "quantity": 1},
        {"kind": "consume", "quantity": 0},
        {"kind": "consume", "quantity": -1},
        {"kind": "receive", "quantity": 10_000_000},
        {"kind": "receive", "quantity": "ten"},
        {"kind": "receive", "quantity": 1, "colour": "red"},
        {"kind": "count", "quantity": -1},
        {"kind": "adjust", "quantity": 0, "reason": "x"},
        {"kind": "consume", "quantity": 1, "to_location": "EXAM2"},
        {"kind": "receive", "quantity": 1, "expires_on": "2030-01-01"},
        {"kind": "receive", "quantity": 1, "lot": "L", "expires_on": "not-a-date"},
        {"kind": "receive", "quantity": 1, "lot": ""},
    ],
)
def test_bad_movement_input_is_422_and_writes_nothing(client, inv, ma, body):
    sku = inv.item()
    r = move(client, ma, sku=sku, location="EXAM1", **body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert inv.movement_count() == 0


def test_unknown_sku_or_location_is_404(client, inv, ma):
    sku = inv.item()
    assert (
        move(client, ma, kind="receive", sku="NOPE", location="EXAM1", quantity=1).status_code
        == 404
    )
    assert move(client, ma, kind="receive", sku=sku, location="NOPE", quantity=1).status_code == 404
    assert inv.movement_count() == 0


def test_every_movement_is_in_the_audit_trail(client, inv, ma, users):
    sku = inv.item()
    move(client, ma, kind="receive", sku=sku, location="EXAM1", quantity=5)
    move(client, ma, kind="consume", sku=sku, location="EXAM1", quantity=2)
    admin = users.headers(Role.ADMIN)
    r = client.get("/api/v1/audit", params={"entity": "item"}, headers=admin)
    assert r.status_code == 200, r.text
    actions = [e["action"] for e in r.json()["items"]]
    assert "stock.receive" in actions and "stock.consume" in actions
    assert client.get("/api/v1/audit/verify", headers=admin).json()["ok"] is True


def test_movements_are_sealed_as_stored_from_what_their_insert_returned(client, inv, ma, database):
    """The commit seals a movement from its INSERT ... RETURNING row (not read again):
    the seal must match the row as verify reads it, on both databases."""
    from sqlalchemy import select

    from inventory.models import StockMovement
    from kernel.audit.evidence import verify_records
    from kernel.audit.seal_models import RecordSeal

    sku = inv.item(lot_tracked=True)
    r = move(client, ma, kind="receive", sku=sku, location="SUPPLY", quantity=5, lot="L1",
             expires_on=days_from_today(30))  # fmt: skip
    assert r.status_code == 201, r.text
    r = move(client, ma, kind="consume", sku=sku, location="SUPPLY", quantity=2)
    assert r.status_code == 201, r.text
    with database.session(write=False) as session:
        ids = session.scalars(select(StockMovement.id)).all()
        sealed = session.scalars(
            select(RecordSeal.row_key).where(RecordSeal.table_name == "stock_movements")
        ).all()
        report = verify_records(session)
    assert sorted(sealed) == sorted(str(i) for i in ids) and len(ids) == 2
    assert report.ok, report.problems
