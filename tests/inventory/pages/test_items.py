"""The items list (search, filters, sort, pages) and the item form (create, edit, errors
next to their fields with the typed values kept and nothing written), over real HTTP."""

from __future__ import annotations

import re
from decimal import Decimal

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, insert, select

from inventory.models import Item
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, assert_csp_clean, csrf_token_from, form_post, page_login
from tests.inventory.pages.catalogue_pages import (
    NEW_ITEM,
    audit_count,
    error_next_to,
    filled_form_post,
    item_row,
    skus_listed,
    value_of,
)
from tests.inventory_factories import InventoryFactory
from tests.statement_log import StatementLog

# --- items list ------------------------------------------------------------------------


def test_items_list_searches_filters_and_sorts(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int]
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    page = client.get("/catalogue/items")
    assert page.status_code == 200
    assert skus_listed(page.text) == ["GAUZE-4", "GLV/M", "SUT-4"]  # active ones, by SKU
    assert 'href="/catalogue/items/GLV%2FM"' in page.text
    assert 'href="/catalogue/items"' in page.text and ">Catalogue<" in page.text  # nav
    assert 'id="new-item"' in page.text
    assert_csp_clean(page)

    def listed(**params: str) -> list[str]:
        response = client.get("/catalogue/items", params=params)
        assert response.status_code == 200
        return skus_listed(response.text)

    assert listed(q="nitrile") == ["GLV/M"]  # name
    assert listed(q="ac-glv") == ["GLV/M"]  # vendor SKU
    assert listed(q="9506000134352") == ["GAUZE-4"]  # GTIN without its leading zero
    assert listed(q="sut") == ["SUT-4"]  # SKU
    assert listed(q="100%") == []  # LIKE wildcards are literal
    assert listed(q="glv\x00") == ["GLV/M"]  # control characters dropped (PG refuses NUL)
    assert listed(supplier=str(catalogue["medline"])) == ["SUT-4"]
    assert listed(supplier=str(catalogue["medline"]), status="all") == ["MASK-OLD", "SUT-4"]
    assert listed(status="inactive") == ["MASK-OLD"]
    assert listed(category="dressings") == ["GAUZE-4"]
    assert listed(below="1") == ["GLV/M"]  # 2 on hand, reorder at 4
    assert listed(sort="on_hand", dir="desc") == ["GAUZE-4", "GLV/M", "SUT-4"]
    assert listed(sort="supplier", dir="desc")[0] == "SUT-4"
    assert listed(sort="name") == ["GAUZE-4", "GLV/M", "SUT-4"]
    # Nonsense in the query string falls back to defaults instead of failing.
    assert listed(supplier="abc", status="weird", sort="drop table", page="-3") == [
        "GAUZE-4", "GLV/M", "SUT-4",
    ]  # fmt: skip


def test_items_list_pages_through_a_large_catalogue_in_the_database(
    client: TestClient[Litestar],
    users: UserFactory,
    inv: InventoryFactory,
    database: Database,
    statements: StatementLog,
) -> None:
    supplier = inv.supplier("Bulk Supply")
    with database.session() as session:  # 2,000 items, inserted in one statement
        session.execute(
            insert(Item),
            [
                {"sku": f"BULK-{n:05d}", "name": f"Bulk item {n}", "unit": "each",
                 "supplier_id": supplier, "unit_cost": Decimal("1.25"),
                 "category": "even" if n % 2 == 0 else "odd"}
                for n in range(2000)
            ],
        )  # fmt: skip
    page_login(client, users.create(Role.ADMIN))
    statements.reset()
    first = client.get("/catalogue/items")
    assert first.status_code == 200
    assert "2000 items" in first.text and "Page 1 of 40" in first.text
    assert skus_listed(first.text)[0] == "BULK-00000" and len(skus_listed(first.text)) == 50
    # one page of rows and a count (plus the login, the user's sites for the site scope,
    # the filters' choices and the header bell's unread count), not a walk
    assert statements.count <= 10, statements.statements
    last = client.get("/catalogue/items", params={"category": "odd", "page": "20"})
    assert "Page 20 of 20" in last.text and skus_listed(last.text)[-1] == "BULK-01999"
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    beyond = client.get("/catalogue/items", params={"page": "999"})
    assert "Page 40 of 40" in beyond.text and skus_listed(beyond.text)[-1] == "BULK-01999"
    grid = client.get("/catalogue/par-levels", params={"location": "EXAM1", "page": "3"})
    assert grid.status_code == 200 and "2000 items" in grid.text and "Page 3 of 20" in grid.text
    grid_end = client.get("/catalogue/par-levels", params={"location": "EXAM1", "page": "77"})
    assert "Page 20 of 20" in grid_end.text and "BULK-01999" in grid_end.text


# --- item form -------------------------------------------------------------------------


def test_purchasing_creates_an_item_through_the_form(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    form = client.get("/catalogue/items/new")
    assert form.status_code == 200 and 'id="item-form"' in form.text
    assert_csp_clean(form)
    fields = {**NEW_ITEM, "supplier_id": str(catalogue["acme"])}
    response = form_post(client, "/catalogue/items/new", "item-form", **fields)
    assert response.status_code == 303
    assert response.headers["location"] == "/catalogue/items/TAPE-1"
    page = client.get("/catalogue/items/TAPE-1")
    assert "Added TAPE-1: Surgical tape." in page.text
    item = item_row(database, "TAPE-1")
    assert item is not None
    assert (item.name, item.unit, item.pack_size, item.vendor_sku) == (
        "Surgical tape",
        "roll",
        12,
        "MT-9",
    )
    assert (item.unit_cost, item.lead_time_days, item.min_order_qty) == (Decimal("3.2"), 5, 24)
    assert (item.category, item.lot_tracked, item.active, item.gtin) == (
        "dressings",
        True,
        True,
        None,
    )
    assert value_of(page.text, "unit_cost") == "3.20"


def test_rejected_item_form_shows_each_error_next_to_its_field_and_keeps_the_values(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    before = audit_count(database)
    fields = {
        **NEW_ITEM, "supplier_id": str(catalogue["acme"]), "name": "  ", "pack_size": "0",
        "unit_cost": "lots", "gtin": "12345", "lead_time_days": "400", "sku": "bad sku",
    }  # fmt: skip
    response = form_post(client, "/catalogue/items/new", "item-form", **fields)
    assert response.status_code == 422
    html = response.text
    assert error_next_to(html, "sku") == "Use letters, digits and _ . - / only (up to 40)."
    assert error_next_to(html, "name") == "Required."
    assert error_next_to(html, "pack_size") == "Must be at least 1."
    assert error_next_to(html, "unit_cost") == "Enter a number, like 7.50."
    assert error_next_to(html, "gtin") == "A GTIN has 8, 12, 13 or 14 digits."
    assert error_next_to(html, "lead_time_days") == "Must be at most 365."
    assert "check the 6 fields marked below" in html
    # every value as typed, the supplier still chosen, the boxes still ticked
    assert value_of(html, "sku") == "bad sku" and value_of(html, "unit_cost") == "lots"
    assert value_of(html, "vendor_sku") == "MT-9" and value_of(html, "min_order_qty") == "24"
    assert value_of(html, "category") == "dressings"
    assert f'<option value="{catalogue["acme"]}" selected>' in html
    assert re.search(r'id="field-lot_tracked"[^>]*checked', html)
    assert 'aria-invalid="true" aria-describedby="field-gtin-error"' in html
    assert item_row(database, "BAD SKU") is None and audit_count(database) == before
    assert_csp_clean(response)


def test_domain_refusals_land_next_to_the_field_they_are_about(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    before = audit_count(database)
    base = {**NEW_ITEM, "supplier_id": str(catalogue["acme"])}
    duplicate = form_post(client, "/catalogue/items/new", "item-form", **{**base, "sku": "glv/m"})
    assert duplicate.status_code == 409
    assert "An item with SKU 'GLV/M' already exists." in error_next_to(duplicate.text, "sku")
    assert value_of(duplicate.text, "sku") == "glv/m"
    taken = form_post(
        client, "/catalogue/items/new", "item-form", **{**base, "gtin": "9506000134352"}
    )
    assert taken.status_code == 409
    assert "already belongs to item GAUZE-4" in error_next_to(taken.text, "gtin")
    cost = form_post(
        client, "/catalogue/items/new", "item-form", **{**base, "unit_cost": "1.23456"}
    )
    assert cost.status_code == 422
    assert error_next_to(cost.text, "unit_cost") == "Unit cost may have at most 4 decimal places."
    nan = filled_form_post(client, "/catalogue/items/GLV%2FM", "item-form", unit_cost="sNaN")
    assert nan.status_code == 422
    assert error_next_to(nan.text, "unit_cost") == "Enter a number, like 7.50."
    gone = form_post(
        client, "/catalogue/items/new", "item-form", **{**base, "supplier_id": "999999"}
    )
    assert gone.status_code == 422 and "No supplier with id 999999" in error_next_to(
        gone.text, "supplier_id"
    )
    # lot tracking cannot change with stock on hand (GLV/M has 2)
    edit = filled_form_post(client, "/catalogue/items/GLV%2FM", "item-form", lot_tracked="1")
    assert edit.status_code == 409
    assert "lot tracking can only change at zero stock" in error_next_to(edit.text, "lot_tracked")
    assert audit_count(database) == before
    assert item_row(database, "TAPE-1") is None
    assert item_row(database, "GLV/M").lot_tracked is False  # type: ignore[union-attr]


def test_editing_an_item_writes_only_what_changed_and_clears_blank_optional_fields(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    page = client.get("/catalogue/items/GLV%2FM")
    assert page.status_code == 200 and 'id="item-form"' in page.text
    assert (
        value_of(page.text, "unit_cost") == "7.50"
        and value_of(page.text, "vendor_sku") == "AC-GLV-100"
    )
    saved = filled_form_post(
        client, "/catalogue/items/GLV%2FM", "item-form",
        name="Nitrile gloves, medium", unit_cost="7.95", vendor_sku="",
    )  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == "/catalogue/items/GLV%2FM"
    assert "Saved GLV/M: name, unit_cost, vendor_sku." in client.get(saved.headers["location"]).text
    item = item_row(database, "GLV/M")
    assert item is not None
    assert (item.name, item.unit_cost, item.vendor_sku, item.category) == (
        "Nitrile gloves, medium", Decimal("7.95"), None, "gloves",
    )  # fmt: skip
    with database.session(write=False) as session:
        event = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "item.update")
            .order_by(AuditEntry.seq.desc())
        ).first()
    assert event is not None and event.entity_id == "GLV/M"
    unchanged = filled_form_post(client, "/catalogue/items/GLV%2FM", "item-form")
    assert unchanged.status_code == 303
    assert "Nothing changed." in client.get(unchanged.headers["location"]).text
    # untick Active: the item leaves the active list
    off = filled_form_post(client, "/catalogue/items/GLV%2FM", "item-form", active=None)
    assert off.status_code == 303 and item_row(database, "GLV/M").active is False  # type: ignore[union-attr]


def test_a_double_tap_on_add_item_adds_one(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    html = client.get("/catalogue/items/new").text
    nonce = re.search(r'name="nonce" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    body = {**NEW_ITEM, "supplier_id": str(catalogue["acme"]), "nonce": nonce,
            "_csrf_token": csrf_token_from(html)}  # fmt: skip
    first = client.post("/catalogue/items/new", data=body, follow_redirects=False)
    second = client.post("/catalogue/items/new", data=body, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert "Already added" in client.get(second.headers["location"]).text
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).where(Item.sku == "TAPE-1")) == 1
