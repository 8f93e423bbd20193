"""Receiving by scanning a GS1 barcode: GTIN finds the item, AI 10/17 fill lot and expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from kernel.auth.models import Role
from tests.inventory_factories import InventoryFactory

GTIN = "07032144072622"
GS = "\x1d"


@pytest.fixture
def setup(database, users):
    inv = InventoryFactory(database)
    inv.location("SUPPLY")
    sku = inv.item("BI-VIAL", lot_tracked=True, gtin=GTIN)
    return inv, sku, users.headers(Role.PURCHASING)


def receive(client, headers, barcode, quantity=10):
    return client.post(
        "/api/v1/stock/receive-barcode",
        json={"barcode": barcode, "location": "SUPPLY", "quantity": quantity},
        headers=headers,
    )


@pytest.mark.parametrize(
    "barcode",
    [
        f"]d201{GTIN}10LOT123{GS}17270331",  # GS1 DataMatrix, FNC1 as ASCII 29
        f"]C101{GTIN}10LOT123{GS}17270331",  # GS1-128
        f"]Q301{GTIN}10LOT123{GS}17270331",  # GS1 QR
        f"01{GTIN}17270331" + "10LOT123",  # no prefix, variable-length AI last
        f"(01){GTIN}(10)LOT123(17)270331",  # human-readable
        f" (01){GTIN}(17)270331(10)LOT123 ",  # any AI order, stray whitespace
    ],
)
def test_scanned_barcode_receives_the_lot_with_its_expiry(client, setup, barcode):
    _inv, sku, headers = setup
    r = receive(client, headers, barcode)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["sku"] == sku
    assert body["lot"] == "LOT123"
    assert body["expires_on"] == dt.date(2027, 3, 31).isoformat()
    assert body["on_hand_after"] == 10


def test_unknown_gtin_is_422_naming_the_gtin(client, setup):
    inv, _, headers = setup
    r = receive(client, headers, f"]d20100000000000017{GS}10L1{GS}17270331")
    assert r.status_code == 422
    assert "00000000000017" in r.json()["detail"]
    assert inv.movement_count() == 0


@pytest.mark.parametrize(
    "barcode",
    ["hello garbage", "]d2" + "99999", "(01)123", f"]d201{GTIN}17271399", "(10)LOT-ONLY"],
)
def test_unparseable_barcode_is_422_saying_so(client, setup, barcode):
    inv, _, headers = setup
    r = receive(client, headers, barcode)
    assert r.status_code == 422, r.text
    assert "barcode" in r.json()["detail"].lower() or "GTIN" in r.json()["detail"]
    assert inv.movement_count() == 0


def test_wrong_check_digit_is_422(client, setup):
    _, _, headers = setup
    r = receive(client, headers, "(01)07032144072628(10)L(17)270331")
    assert r.status_code == 422
    assert "GTIN" in r.json()["detail"]


def test_lot_tracked_item_scanned_without_lot_is_422(client, setup):
    inv, _, headers = setup
    r = receive(client, headers, f"(01){GTIN}")
    assert r.status_code == 422
    assert inv.movement_count() == 0


def test_ma_can_receive_by_barcode_but_auditor_cannot(client, setup, users):
    _, _, _ = setup
    assert receive(client, users.headers(Role.MA), f"(01){GTIN}(10)A(17)270331").status_code == 201
    r = receive(client, users.headers(Role.AUDITOR), f"(01){GTIN}(10)A(17)270331")
    assert r.status_code == 403
