"""The bin page over real HTTP: on-hand vs par, take / count / receive forms, refusals
shown on the page, CSRF, roles, double taps."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.auth.models import Role
from tests.factories import UserFactory, csrf_token_from, form_post, page_login
from tests.inventory_factories import InventoryFactory, days_from_today, move, on_hand


def stocked(inv: InventoryFactory, client: TestClient[Litestar], users: UserFactory,
            sku: str = "GLV/M", quantity: int = 5, **item: Any) -> str:  # fmt: skip
    inv.item(sku, name="Gloves M", unit="box", **item)
    inv.par(sku, "EXAM1", 10, 4)
    if quantity:
        body: dict[str, Any] = {"lot": "L1", "expires_on": days_from_today(90)}
        response = move(
            client, users.headers(Role.MA), kind="receive", sku=sku, location="EXAM1",
            quantity=quantity, **(body if item.get("lot_tracked") else {}),
        )  # fmt: skip
        assert response.status_code == 201, response.text
    return sku


BIN = "/b/EXAM1/GLV%2FM"


def test_bin_page_shows_on_hand_against_par_for_a_sku_with_a_slash(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=3)
    page_login(client, users.create(Role.MA))
    page = client.get(BIN)
    assert page.status_code == 200
    assert "Gloves M" in page.text and "GLV/M" in page.text
    assert re.search(r'id="on-hand">3<', page.text)
    assert "Below reorder point" in page.text
    assert f'action="{BIN}"' in page.text
    assert "Take 1 box" in page.text


def test_take_one_then_n_lowers_on_hand_and_says_what_is_left(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=5)
    page_login(client, users.create(Role.MA))
    response = form_post(client, BIN, "take1-form")
    assert response.status_code == 303 and response.headers["location"] == BIN
    assert "Took 1 box of Gloves M. 4 box on hand now." in client.get(BIN).text
    assert form_post(client, BIN, "take-form", quantity="3").status_code == 303
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 1
    assert inv.invariant_violations() == []


def test_taking_more_than_on_hand_is_shown_plainly_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=2)
    page_login(client, users.create(Role.MA))
    before = inv.movement_count()
    response = form_post(client, BIN, "take-form", quantity="5")
    assert response.status_code == 409
    assert "Only 2 box of GLV/M (Gloves M) at EXAM1 on hand; cannot take 5." in response.text
    assert 'value="5"' in response.text  # the form keeps what was typed
    assert inv.movement_count() == before


@pytest.mark.parametrize(
    ("quantity", "message"), [("", "Enter a quantity."), ("abc", "Quantity:"), ("0", "at least 1")]
)
def test_bad_quantities_are_refused_on_the_page(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory,
    quantity: str, message: str,
) -> None:  # fmt: skip
    stocked(inv, client, users)
    page_login(client, users.create(Role.MA))
    response = form_post(client, BIN, "take-form", quantity=quantity)
    assert response.status_code == 422
    assert message in response.text


def test_a_double_tap_on_take_one_takes_one(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=5)
    page_login(client, users.create(Role.MA))
    html = client.get(BIN).text
    form = re.search(r'<form[^>]*id="take1-form".*?</form>', html, re.S)
    assert form
    body = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    body["_csrf_token"] = csrf_token_from(html)
    assert client.post(BIN, data=body, follow_redirects=False).status_code == 303
    assert client.post(BIN, data=body, follow_redirects=False).status_code == 303
    assert "Already recorded" in client.get(BIN).text
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 4


def test_count_records_the_difference(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=5)
    page_login(client, users.create(Role.MA))
    assert form_post(client, BIN, "count-form", quantity="2").status_code == 303
    assert "Count saved: 2 box of Gloves M." in client.get(BIN).text
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 2


def test_receiving_a_lot_tracked_item_asks_for_lot_and_expiry(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, sku="SUT-4", quantity=0, lot_tracked=True)
    page_login(client, users.create(Role.MA))
    path = "/b/EXAM1/SUT-4"
    assert 'name="expires_on"' in client.get(path).text
    refused = form_post(client, path, "receive-form", quantity="4", lot="A7", expires_on="")
    assert refused.status_code == 422 and "lot-tracked" in refused.text
    expiry = days_from_today(200).isoformat()
    done = form_post(client, path, "receive-form", quantity="4", lot="A7", expires_on=expiry)
    assert done.status_code == 303
    page = client.get(path).text
    assert "Received 4 box of Gloves M (lot A7)." in page
    assert "A7" in page and expiry in page


def test_bin_forms_need_a_csrf_token(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=5)
    page_login(client, users.create(Role.MA))
    response = client.post(BIN, data={"action": "take", "quantity": "1"})
    assert response.status_code == 403 and "This form has expired" in response.text
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 5


def test_auditor_reads_the_bin_but_cannot_take(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=5)
    page_login(client, users.create(Role.AUDITOR))
    page = client.get(BIN)
    assert page.status_code == 200 and "Take 1" not in page.text and "Receive" not in page.text
    response = client.post(
        BIN, data={"_csrf_token": csrf_token_from(page.text), "action": "take", "quantity": "1"}
    )
    assert response.status_code == 403 and "may not do this" in response.text
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 5


def test_purchasing_may_receive_but_not_take(
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory
) -> None:
    stocked(inv, client, users, quantity=5)
    page_login(client, users.create(Role.PURCHASING))
    page = client.get(BIN).text
    assert "Take 1" not in page and 'id="receive-form"' in page
    assert form_post(client, BIN, "receive-form", quantity="3").status_code == 303
    token = csrf_token_from(client.get(BIN).text)
    refused = client.post(BIN, data={"_csrf_token": token, "action": "take", "quantity": "1"})
    assert refused.status_code == 403 and "may receive stock but not consume" in refused.text
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 8


def test_unknown_bin_is_an_html_404(client: TestClient[Litestar], users: UserFactory) -> None:
    page_login(client, users.create(Role.MA))
    response = client.get("/b/NOWHERE/NOTHING")
    assert response.status_code == 404 and "No item with SKU" in response.text
