"""The suppliers list and form."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from inventory.models import Supplier
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, assert_csp_clean, form_post, page_login
from tests.inventory.pages.catalogue_pages import (
    error_next_to,
    filled_form_post,
    value_of,
)


def test_suppliers_add_edit_and_clear_with_errors_next_to_fields(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    page = client.get("/catalogue/suppliers")
    assert (
        page.status_code == 200
        and "Acme Medical" in page.text
        and 'id="supplier-form"' in page.text
    )
    assert_csp_clean(page)
    bad = form_post(client, "/catalogue/suppliers", "supplier-form", name="Henry Schein",
                    email="not-an-email", lead_time_days="x")  # fmt: skip
    assert bad.status_code == 422
    assert error_next_to(bad.text, "email") == "Enter an email address, like orders@example.com."
    assert error_next_to(bad.text, "lead_time_days") == "Must be a whole number."
    assert value_of(bad.text, "name") == "Henry Schein"
    duplicate = form_post(client, "/catalogue/suppliers", "supplier-form", name="acme medical")
    assert duplicate.status_code == 409 and "already exists" in error_next_to(
        duplicate.text, "name"
    )
    added = form_post(
        client, "/catalogue/suppliers", "supplier-form", name="Henry Schein",
        email="orders@schein.example", phone="555-0100", lead_time_days="3",
    )  # fmt: skip
    assert added.status_code == 303
    assert "Added supplier Henry Schein." in client.get("/catalogue/suppliers").text
    with database.session(write=False) as session:
        schein = session.scalar(select(Supplier).where(Supplier.name == "Henry Schein"))
    assert schein is not None and schein.lead_time_days == 3
    path = f"/catalogue/suppliers/{schein.id}"
    edited = filled_form_post(client, path, "supplier-form", name="Henry Schein Inc.",
                              email="", lead_time_days="4")  # fmt: skip
    assert edited.status_code == 303
    with database.session(write=False) as session:
        schein = session.get(Supplier, schein.id)
    assert schein is not None
    assert (schein.name, schein.email, schein.lead_time_days) == ("Henry Schein Inc.", None, 4)
    assert client.get("/catalogue/suppliers/99999").status_code == 404
