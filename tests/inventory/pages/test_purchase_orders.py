"""Purchase orders on the desktop over real HTTP: the list with a status filter, a draft
by hand (errors next to the supplier and the lines, values kept, nothing written),
submit from the order page, receiving against the order with lot and expiry (partial
deliveries, errors next to the line), the deliveries received, roles and the login
redirect."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from inventory import catalogue
from inventory.schemas.catalogue import ItemUpdate
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, assert_csp_clean, csrf_token_from, form_post, page_login
from tests.inventory.reorder_factories import on_order, po_count, po_statuses
from tests.inventory_factories import InventoryFactory, days_from_today, on_hand
from tests.kernel.test_pages_admin_users import field_error, input_value

NEW = "/purchasing/orders/new"


@pytest.fixture
def acme(inv: InventoryFactory) -> int:
    """Acme supplies GLV/M (7.50 a box) and SUT-4 (lot-tracked); Henry supplies GAUZE;
    OLD is Acme's but inactive."""
    supplier = inv.supplier("Acme Medical")
    inv.item("GLV/M", name="Gloves M", unit="box", supplier_id=supplier, unit_cost="7.50")
    inv.item("SUT-4", name="Suture 4-0", unit="box", supplier_id=supplier, lot_tracked=True)
    inv.item("OLD", name="Old thing", unit="each", supplier_id=supplier)
    with inv.database.session() as session:
        catalogue.update_item(session, actor="test", sku="OLD", data=ItemUpdate(active=False))
    henry = inv.supplier("Henry Schein")
    inv.item("GAUZE", name="Gauze", unit="pack", supplier_id=henry)
    return supplier


@pytest.fixture
def buyer_login(client: TestClient[Litestar], users: UserFactory) -> str:
    username = users.create(Role.PURCHASING)
    assert page_login(client, username).status_code == 303
    return username


def test_purchasing_writes_a_draft_by_hand_then_submits_it_from_its_page(
    client: TestClient[Litestar], buyer_login: str, acme: int, database: Database
) -> None:
    page = client.get(NEW)
    assert page.status_code == 200 and "Acme Medical" in page.text
    assert_csp_clean(page)
    response = form_post(
        client, NEW, "new-order-form", supplier_id=str(acme), notes="Monthly gloves",
        **{"line-0-sku": "glv/m", "line-0-quantity": "20", "line-2-sku": "SUT-4",
           "line-2-quantity": "6"},
    )  # fmt: skip
    assert response.status_code == 303
    (po_id,) = po_statuses(database)
    path = f"/purchasing/orders/{po_id}"
    assert response.headers["location"] == path
    order = client.get(path)
    assert f"Created draft PO-{po_id:06d}" in order.text
    assert "Monthly gloves" in order.text and "Total 153.00" in order.text
    assert "Gloves M" in order.text and "Suture 4-0" in order.text
    assert 'id="receive-form"' not in order.text and 'id="submit-form"' in order.text
    assert "Nothing received on this order yet." in order.text
    assert_csp_clean(order)
    submitted = form_post(client, path, "submit-form")
    assert submitted.status_code == 303 and submitted.headers["location"] == path
    order = client.get(path).text
    assert f"Submitted PO-{po_id:06d}" in order and 'id="receive-form"' in order
    assert po_statuses(database) == {po_id: "submitted"}


def test_a_rejected_draft_shows_errors_next_to_the_fields_and_keeps_every_value(
    client: TestClient[Litestar], buyer_login: str, acme: int, database: Database
) -> None:
    response = form_post(
        client, NEW, "new-order-form", supplier_id="", notes="keep me",
        **{"line-0-sku": "GLV/M", "line-0-quantity": "0", "line-1-sku": "",
           "line-1-quantity": "5", "line-2-sku": "bad sku!", "line-2-quantity": "two",
           "line-3-sku": "glv/m", "line-3-quantity": "1"},
    )  # fmt: skip
    assert response.status_code == 422
    html = response.text
    assert field_error(html, "field-supplier_id") == "Choose a supplier."
    assert field_error(html, "field-line-0-quantity") == "Must be at least 1."
    assert field_error(html, "field-line-1-sku") == "Required."
    assert field_error(html, "field-line-2-sku") == "Contains characters that are not allowed."
    assert field_error(html, "field-line-2-quantity") == "Must be a whole number."
    assert field_error(html, "field-line-3-sku") == "Already on line 1; combine the two lines."
    assert input_value(html, "field-notes") == "keep me"
    assert input_value(html, "field-line-2-sku") == "bad sku!"
    assert input_value(html, "field-line-2-quantity") == "two"
    assert input_value(html, "field-line-1-quantity") == "5"
    assert po_count(database) == 0
    assert_csp_clean(response)


def test_skus_the_supplier_does_not_supply_are_flagged_on_their_own_lines(
    client: TestClient[Litestar], buyer_login: str, acme: int, database: Database
) -> None:
    cases = [
        ("NOPE", "No item with SKU NOPE."),
        ("OLD", "OLD inactive; reactivate before ordering."),
        ("GAUZE", "GAUZE not supplied by Acme Medical"),
    ]
    for sku, message in cases:
        response = form_post(
            client, NEW, "new-order-form", supplier_id=str(acme),
            **{"line-0-sku": "GLV/M", "line-0-quantity": "2", "line-1-sku": sku,
               "line-1-quantity": "3"},
        )  # fmt: skip
        assert response.status_code == 422, sku
        assert field_error(response.text, "field-line-1-sku").startswith(message)
        assert field_error(response.text, "field-line-0-sku") == ""
        assert input_value(response.text, "field-line-1-quantity") == "3"
        assert f'<option value="{acme}" selected>' in response.text
    unknown = form_post(client, NEW, "new-order-form", supplier_id="99999",
                        **{"line-0-sku": "GLV/M", "line-0-quantity": "2"})  # fmt: skip
    assert unknown.status_code == 422
    assert "No supplier" in field_error(unknown.text, "field-supplier_id")
    empty = form_post(client, NEW, "new-order-form", supplier_id=str(acme))
    assert empty.status_code == 422
    assert field_error(empty.text, "field-line-0-sku") == "Enter at least one line."
    assert po_count(database) == 0


def test_more_lines_keeps_what_was_typed_and_writes_nothing(
    client: TestClient[Litestar], buyer_login: str, acme: int, database: Database
) -> None:
    response = form_post(client, NEW, "new-order-form", supplier_id=str(acme), more="1",
                         **{"line-7-sku": "GLV/M", "line-7-quantity": "4"})  # fmt: skip
    assert response.status_code == 200
    assert input_value(response.text, "field-line-7-sku") == "GLV/M"
    assert 'id="field-line-15-sku"' in response.text
    assert po_count(database) == 0


def test_orders_list_filters_by_status(
    client: TestClient[Litestar], buyer_login: str, acme: int, database: Database
) -> None:
    submitted = on_order(database, acme, {"GLV/M": 5})
    created = form_post(client, NEW, "new-order-form", supplier_id=str(acme),
                        **{"line-0-sku": "SUT-4", "line-0-quantity": "2"})  # fmt: skip
    assert created.status_code == 303
    draft = max(po_statuses(database))
    everything = client.get("/purchasing/orders")
    assert everything.status_code == 200
    assert f'id="order-{submitted}"' in everything.text and f'id="order-{draft}"' in everything.text
    assert_csp_clean(everything)
    drafts = client.get("/purchasing/orders", params={"status": "draft"}).text
    assert f'id="order-{draft}"' in drafts and f'id="order-{submitted}"' not in drafts
    assert '<option value="draft" selected>' in drafts
    received = client.get("/purchasing/orders", params={"status": "received"}).text
    assert "No received purchase orders." in received
    bad = client.get("/purchasing/orders", params={"status": "lost"})
    assert bad.status_code == 422 and "Unknown status" in bad.text


def test_receive_in_parts_with_lot_and_expiry_and_see_the_deliveries(
    client: TestClient[Litestar],
    buyer_login: str,
    acme: int,
    database: Database,
    users: UserFactory,
) -> None:
    po_id = on_order(database, acme, {"GLV/M": 10, "SUT-4": 6})
    path = f"/purchasing/orders/{po_id}"
    expiry = days_from_today(400).isoformat()
    first = form_post(client, path, "receive-form", location="SUPPLY",
                      **{"line-1-quantity": "4", "line-1-lot": "L77",
                         "line-1-expires_on": expiry})  # fmt: skip
    assert first.status_code == 303
    assert po_statuses(database) == {po_id: "partially_received"}
    page = client.get(path).text
    receipts = re.search(r'<section class="card" id="receipts">.*?</section>', page, re.S)
    assert receipts and "L77" in receipts.group(0) and expiry in receipts.group(0)
    assert "SUPPLY" in receipts.group(0) and buyer_login in receipts.group(0)
    second = form_post(client, path, "receive-form", location="SUPPLY",
                       **{"line-0-quantity": "10", "line-1-quantity": "2", "line-1-lot": "L78",
                          "line-1-expires_on": expiry})  # fmt: skip
    assert second.status_code == 303
    assert po_statuses(database) == {po_id: "received"}
    headers = users.headers(Role.MA)
    assert on_hand(client, headers, "SUT-4", "SUPPLY") == 6
    assert on_hand(client, headers, "GLV/M", "SUPPLY") == 10
    listed = client.get("/purchasing/orders", params={"status": "received"}).text
    assert f'id="order-{po_id}"' in listed


def test_receive_errors_are_shown_next_to_the_line_and_nothing_is_written(
    client: TestClient[Litestar], buyer_login: str, acme: int, database: Database,
    inv: InventoryFactory,
) -> None:  # fmt: skip
    po_id = on_order(database, acme, {"GLV/M": 8, "SUT-4": 6})
    path = f"/purchasing/orders/{po_id}"
    before = inv.movement_count()
    bad = form_post(client, path, "receive-form", location="",
                    **{"line-0-quantity": "-2", "line-1-quantity": "3", "line-1-lot": "L1",
                       "line-1-expires_on": "31/12/2027"})  # fmt: skip
    assert bad.status_code == 422
    assert field_error(bad.text, "field-location") == "Choose the location the delivery goes to."
    assert field_error(bad.text, "field-line-0-quantity") == "Must be at least 1."
    assert field_error(bad.text, "field-line-1-expires_on") == "Must be a date (YYYY-MM-DD)."
    assert input_value(bad.text, "field-line-1-lot") == "L1"
    no_lot = form_post(client, path, "receive-form", location="SUPPLY",
                       **{"line-0-quantity": "2", "line-1-quantity": "3"})  # fmt: skip
    assert no_lot.status_code == 422
    assert field_error(no_lot.text, "field-line-1-lot") == (
        "SUT-4 is lot-tracked: receiving needs its lot and expiry date."
    )
    assert input_value(no_lot.text, "field-line-0-quantity") == "2"
    assert '<option value="SUPPLY" selected>' in no_lot.text
    over = form_post(client, path, "receive-form", location="SUPPLY",
                     **{"line-0-quantity": "9"})  # fmt: skip
    assert over.status_code == 409
    assert field_error(over.text, "field-line-0-quantity") == "Only 8 outstanding."
    gone = form_post(client, path, "receive-form", location="GONE",
                     **{"line-0-quantity": "1"})  # fmt: skip
    assert gone.status_code == 404
    assert "No location with code" in field_error(gone.text, "field-location")
    assert inv.movement_count() == before
    assert po_statuses(database) == {po_id: "submitted"}


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_read_only_roles_see_orders_but_cannot_write_them(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database, role: Role
) -> None:
    po_id = on_order(database, acme, {"GLV/M": 5})
    page_login(client, users.create(role))
    listed = client.get("/purchasing/orders")
    assert listed.status_code == 200 and f'id="order-{po_id}"' in listed.text
    assert 'id="new-order"' not in listed.text
    order = client.get(f"/purchasing/orders/{po_id}").text
    assert 'id="receive-form"' not in order and 'id="submit-form"' not in order
    assert client.get(NEW).status_code == 403
    refused = client.post(
        "/purchasing/orders",
        data={"_csrf_token": csrf_token_from(listed.text), "supplier_id": str(acme),
              "line-0-sku": "GLV/M", "line-0-quantity": "1"},
    )  # fmt: skip
    assert refused.status_code == 403 and "may not do this" in refused.text
    assert po_count(database) == 1


def test_admin_may_write_orders(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database
) -> None:
    page_login(client, users.create(Role.ADMIN))
    response = form_post(client, NEW, "new-order-form", supplier_id=str(acme),
                         **{"line-0-sku": "GLV/M", "line-0-quantity": "1"})  # fmt: skip
    assert response.status_code == 303 and po_count(database) == 1


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient[Litestar]) -> None:
    for path in ("/purchasing/orders", NEW):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/purchasing/orders")
