"""The locations list and form."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from inventory.models import Location
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, form_post, page_login
from tests.inventory.pages.catalogue_pages import (
    error_next_to,
    filled_form_post,
    value_of,
)


def test_locations_add_and_rename(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.ADMIN))
    page = client.get("/catalogue/locations")
    assert page.status_code == 200 and "EXAM1" in page.text and 'id="location-form"' in page.text
    bad = form_post(client, "/catalogue/locations", "location-form", code="exam 2", name="")
    assert bad.status_code == 422
    assert error_next_to(bad.text, "code") == "Use letters, digits and _ . - only (up to 20)."
    assert error_next_to(bad.text, "name") == "Required."
    assert value_of(bad.text, "code") == "exam 2"
    taken = form_post(client, "/catalogue/locations", "location-form", code="exam1", name="Again")
    assert taken.status_code == 409 and "already exists" in error_next_to(taken.text, "code")
    added = form_post(client, "/catalogue/locations", "location-form", code="exam2", name="Exam 2")
    assert added.status_code == 303
    assert "Added location EXAM2." in client.get("/catalogue/locations").text
    renamed = filled_form_post(client, "/catalogue/locations/EXAM2", "location-form",
                               name="Exam room 2")  # fmt: skip
    assert renamed.status_code == 303
    with database.session(write=False) as session:
        loc = session.scalar(select(Location).where(Location.code == "EXAM2"))
    assert loc is not None and (loc.name, loc.active) == ("Exam room 2", True)
