"""Who may use the catalogue pages (reading, writing, anonymous) and their CSRF check."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from inventory.models import Supplier
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, csrf_token_from, page_login
from tests.inventory.pages.catalogue_pages import (
    NEW_ITEM,
    audit_count,
    item_row,
)

# --- roles -----------------------------------------------------------------------------

READ_PAGES = [
    "/catalogue/items",
    "/catalogue/items/GLV%2FM",
    "/catalogue/par-levels?location=EXAM1",
    "/catalogue/suppliers",
    "/catalogue/locations",
]


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR])
def test_ma_and_auditor_read_without_forms_and_get_403_on_writes(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database,
    role: Role,
) -> None:  # fmt: skip
    page_login(client, users.create(role))
    for path in READ_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'method="post" action="/catalogue' not in page.text, path
        assert 'id="new-item"' not in page.text
    item = client.get("/catalogue/items/GLV%2FM").text
    assert 'id="item-facts"' in item and "Nitrile gloves M" in item
    assert ">Catalogue<" in client.get("/").text
    assert client.get("/catalogue/items/new").status_code == 403
    assert client.get(f"/catalogue/suppliers/{catalogue['acme']}").status_code == 403
    assert client.get("/catalogue/locations/EXAM1").status_code == 403
    token = csrf_token_from(client.get("/catalogue/items").text)
    before = audit_count(database)
    posts = {
        "/catalogue/items/new": {**NEW_ITEM, "supplier_id": str(catalogue["acme"])},
        "/catalogue/items/GLV%2FM": {"name": "Hacked", "active": "1"},
        "/catalogue/par-levels": {"location": "EXAM1", "row-0-sku": "GLV/M",
                                  "row-0-par_level": "99", "row-0-was_par_level": "10"},
        "/catalogue/suppliers": {"name": "Rogue"},
        f"/catalogue/suppliers/{catalogue['acme']}": {"name": "Rogue"},
        "/catalogue/locations": {"code": "ROGUE", "name": "Rogue"},
        "/catalogue/locations/EXAM1": {"name": "Rogue"},
    }  # fmt: skip
    for path, body in posts.items():
        refused = client.post(path, data={**body, "_csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403 and "may not do this" in refused.text, path
    assert audit_count(database) == before
    assert item_row(database, "GLV/M").name == "Nitrile gloves M"  # type: ignore[union-attr]


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient[Litestar]) -> None:
    for path in ["/catalogue/items", "/catalogue/par-levels", "/catalogue/suppliers",
                 "/catalogue/locations", "/catalogue/items/new"]:  # fmt: skip
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    posted = client.post("/catalogue/suppliers", data={"name": "X"}, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/login")


def test_catalogue_forms_need_a_csrf_token(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    refused = client.post("/catalogue/suppliers", data={"name": "No token"}, follow_redirects=False)
    assert refused.status_code == 403
    with database.session(write=False) as session:
        assert session.scalar(select(Supplier).where(Supplier.name == "No token")) is None
