"""The purchasing page over real HTTP: suggestions per supplier, the CSV through the
session cookie, drafts from suggestions, submit, receive (and a refused over-receipt),
CSRF and roles."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, assert_csp_clean, csrf_token_from, form_post, page_login
from tests.inventory.reorder_factories import on_order, po_count, po_statuses, receive
from tests.inventory_factories import InventoryFactory, days_from_today, on_hand


@pytest.fixture
def acme(inv: InventoryFactory, database: Database) -> int:
    """Acme supplies GLV/M (on hand 2, par 10, reorder at 4: suggest 8) and SUT-4
    (lot-tracked, nothing on hand, par 6)."""
    supplier = inv.supplier("Acme Medical")
    inv.item("GLV/M", name="Gloves M", unit="box", supplier_id=supplier)
    inv.item("SUT-4", name="Suture 4-0", unit="box", supplier_id=supplier, lot_tracked=True)
    inv.par("GLV/M", "EXAM1", 10, 4)
    inv.par("SUT-4", "SUPPLY", 6, 2)
    receive(database, "GLV/M", "EXAM1", 2)
    return supplier


def test_page_lists_suggestions_by_supplier_with_the_reason_and_the_csv_link(
    client: TestClient[Litestar], users: UserFactory, acme: int
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    page = client.get("/purchasing")
    assert page.status_code == 200
    assert "<h3>Acme Medical</h3>" in page.text
    assert "GLV/M" in page.text and "SUT-4" in page.text
    assert "below reorder point 4: on hand 2 + on order 0; 8 to reach par 10" in page.text
    assert 'href="/purchasing/reorder.csv"' in page.text
    assert 'id="from-suggestions-form"' in page.text
    assert 'href="/purchasing"' in page.text  # in the navigation
    assert_csp_clean(page)


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_read_only_roles_see_suggestions_but_no_order_buttons(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database, role: Role
) -> None:
    draft = on_order(database, acme, {"GLV/M": 8})
    page_login(client, users.create(role))
    page = client.get("/purchasing")
    assert page.status_code == 200 and "SUT-4" in page.text and f"PO-{draft:06d}" in page.text
    assert 'id="from-suggestions-form"' not in page.text and "Submit" not in page.text
    order = client.get(f"/purchasing/orders/{draft}")
    assert order.status_code == 200 and 'id="receive-form"' not in order.text
    token = csrf_token_from(page.text)
    refused = client.post("/purchasing/from-suggestions", data={"_csrf_token": token})
    assert refused.status_code == 403 and "may not do this" in refused.text
    assert po_count(database) == 1


def test_the_page_csv_is_the_api_csv_with_the_same_filename(
    client: TestClient[Litestar], users: UserFactory, acme: int
) -> None:
    api = client.get("/api/v1/reorder/suggestions.csv", headers=users.headers(Role.PURCHASING))
    assert api.status_code == 200
    page_login(client, users.create(Role.AUDITOR))
    page = client.get("/purchasing/reorder.csv")
    assert page.status_code == 200
    assert page.content == api.content and b"GLV/M" in page.content
    for header in ("content-type", "content-disposition", "cache-control"):
        assert page.headers[header] == api.headers[header]


def test_the_page_csv_needs_a_session(client: TestClient[Litestar], acme: int) -> None:
    response = client.get("/purchasing/reorder.csv", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_create_drafts_from_suggestions_once_even_when_tapped_twice(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    html = client.get("/purchasing").text
    form = re.search(r'<form[^>]*id="from-suggestions-form".*?</form>', html, re.S)
    assert form
    body = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    first = client.post("/purchasing/from-suggestions", data=body, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/purchasing"
    assert client.post("/purchasing/from-suggestions", data=body).status_code == 200
    assert list(po_statuses(database).values()) == ["draft"]
    page = client.get("/purchasing").text
    assert "PO-" in page and "draft" in page and "Submit" in page
    # a second run (a new form) skips what is already on the draft
    again = form_post(client, "/purchasing", "from-suggestions-form")
    assert again.status_code == 303
    page = client.get("/purchasing").text
    assert 'class="flash flash-info"' in page and "No new drafts" in page  # nothing done
    assert po_count(database) == 1


def test_submit_a_draft_then_it_counts_as_on_order(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    assert form_post(client, "/purchasing", "from-suggestions-form").status_code == 303
    (po_id,) = po_statuses(database)
    response = form_post(client, "/purchasing", f"submit-{po_id}-form")
    assert response.status_code == 303
    page = client.get("/purchasing").text
    assert f"Submitted PO-{po_id:06d}" in page
    assert po_statuses(database) == {po_id: "submitted"}
    assert "<h3>Acme Medical</h3>" not in page  # everything suggested is on order now


def test_submitting_twice_from_a_stale_page_is_refused_plainly(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    assert form_post(client, "/purchasing", "from-suggestions-form").status_code == 303
    (po_id,) = po_statuses(database)
    html = client.get("/purchasing").text
    token = csrf_token_from(html)
    path = f"/purchasing/orders/{po_id}/submit"
    assert client.post(path, data={"_csrf_token": token, "nonce": "a"}).status_code == 200
    refused = client.post(path, data={"_csrf_token": token, "nonce": "b"})
    assert refused.status_code == 409
    assert "only a draft can be submitted" in refused.text and 'id="action-error"' in refused.text


def test_receive_on_the_order_page_updates_on_hand_and_the_order(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database
) -> None:
    po_id = on_order(database, acme, {"GLV/M": 8, "SUT-4": 6})
    page_login(client, users.create(Role.PURCHASING))
    path = f"/purchasing/orders/{po_id}"
    response = client.get(path)
    assert_csp_clean(response)
    page = response.text
    assert "Outstanding" in page and 'name="line-1-lot"' in page and 'name="line-0-lot"' not in page
    expiry = days_from_today(300).isoformat()
    done = form_post(
        client, path, "receive-form", location="EXAM1",
        **{"line-0-quantity": "8", "line-1-quantity": "2", "line-1-lot": "L9",
           "line-1-expires_on": expiry},
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == path
    page = client.get(path).text
    assert "Received 10 units on PO-" in page and "partially received" in page
    headers = users.headers(Role.PURCHASING)
    assert on_hand(client, headers, "GLV/M", "EXAM1") == 10
    assert on_hand(client, headers, "SUT-4", "EXAM1") == 2
    assert po_statuses(database) == {po_id: "partially_received"}
    # GLV/M is complete now: only SUT-4's 4 are left, under its own line number
    assert 'name="line-0-quantity"' not in page and 'name="line-1-quantity"' in page
    rest = form_post(
        client, path, "receive-form", location="EXAM1",
        **{"line-1-quantity": "4", "line-1-lot": "L9", "line-1-expires_on": expiry},
    )  # fmt: skip
    assert rest.status_code == 303
    assert po_statuses(database) == {po_id: "received"}
    assert on_hand(client, headers, "SUT-4", "EXAM1") == 6
    assert "Nothing more can be received" in client.get(path).text


def test_over_receipt_is_shown_plainly_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database,
    inv: InventoryFactory,
) -> None:  # fmt: skip
    po_id = on_order(database, acme, {"GLV/M": 8})
    page_login(client, users.create(Role.PURCHASING))
    before = inv.movement_count()
    path = f"/purchasing/orders/{po_id}"
    refused = form_post(client, path, "receive-form", location="EXAM1", **{"line-0-quantity": "9"})
    assert refused.status_code == 409
    assert "Over-receipt on PO-" in refused.text and "8 outstanding" in refused.text
    assert 'id="action-error"' in refused.text and 'value="9"' in refused.text
    assert inv.movement_count() == before
    assert po_statuses(database) == {po_id: "submitted"}
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 2


def test_lot_tracked_line_without_lot_is_refused_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database,
    inv: InventoryFactory,
) -> None:  # fmt: skip
    po_id = on_order(database, acme, {"SUT-4": 6})
    page_login(client, users.create(Role.ADMIN))
    before = inv.movement_count()
    path = f"/purchasing/orders/{po_id}"
    refused = form_post(client, path, "receive-form", location="SUPPLY", **{"line-0-quantity": "6"})
    assert refused.status_code == 422 and "lot-tracked" in refused.text
    empty = form_post(client, path, "receive-form", location="SUPPLY")
    assert empty.status_code == 422 and "at least one line" in empty.text
    assert inv.movement_count() == before


def test_a_draft_cannot_be_received_yet(
    client: TestClient[Litestar], users: UserFactory, acme: int
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    assert form_post(client, "/purchasing", "from-suggestions-form").status_code == 303
    page = client.get("/purchasing").text
    po_id = int(re.search(r'href="/purchasing/orders/(\d+)"', page).group(1))  # type: ignore[union-attr]
    order = client.get(f"/purchasing/orders/{po_id}").text
    assert 'id="receive-form"' not in order and "Submit this draft" in order


def test_purchasing_forms_need_a_csrf_token(
    client: TestClient[Litestar], users: UserFactory, acme: int, database: Database
) -> None:
    po_id = on_order(database, acme, {"GLV/M": 8})
    page_login(client, users.create(Role.PURCHASING))
    for path, data in [
        ("/purchasing/from-suggestions", {}),
        (f"/purchasing/orders/{po_id}/submit", {}),
        (f"/purchasing/orders/{po_id}/receive", {"location": "EXAM1", "line-0-sku": "GLV/M",
                                                 "line-0-quantity": "1"}),
    ]:  # fmt: skip
        response = client.post(path, data=data)
        assert response.status_code == 403 and "This form has expired" in response.text
    assert po_count(database) == 1 and po_statuses(database) == {po_id: "submitted"}
    assert on_hand(client, users.headers(Role.MA), "GLV/M", "EXAM1") == 2


def test_unknown_order_is_an_html_404(client: TestClient[Litestar], users: UserFactory) -> None:
    page_login(client, users.create(Role.PURCHASING))
    response = client.get("/purchasing/orders/999")
    assert response.status_code == 404 and "No purchase order PO-000999" in response.text
