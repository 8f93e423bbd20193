"""The desktop catalogue pages over real HTTP: the items list (search, filters, sort,
pages), the item form (create, edit, errors next to their fields with the typed values
kept and nothing written), the par-level grid, suppliers, locations, roles and CSRF."""

from __future__ import annotations

import html as html_lib
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, insert, select

from inventory.models import Item, Location, StockLevel, Supplier
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, csrf_token_from, page_login
from tests.inventory_factories import InventoryFactory, move
from tests.test_pages_inventory import form_post
from tests.test_pages_purchasing import assert_csp_clean


@pytest.fixture
def inv(database: Database) -> InventoryFactory:
    factory = InventoryFactory(database)
    factory.locations("EXAM1", "SUPPLY")
    return factory


@pytest.fixture
def catalogue(
    inv: InventoryFactory, client: TestClient[Litestar], users: UserFactory
) -> dict[str, int]:
    """Acme: gloves (2 on hand at EXAM1, reorder at 4: below) and gauze; Medline: a
    suture (lot-tracked, category sutures) and an inactive old mask."""
    acme = inv.supplier("Acme Medical")
    medline = inv.supplier("Medline")
    inv.item("GLV/M", name="Nitrile gloves M", unit="box", supplier_id=acme,
             vendor_sku="AC-GLV-100", category="gloves", unit_cost=Decimal("7.50"))  # fmt: skip
    inv.item("GAUZE-4", name="Gauze 4x4", unit="pack", supplier_id=acme,
             gtin="09506000134352", category="dressings")  # fmt: skip
    inv.item("SUT-4", name="Suture 4-0", unit="box", supplier_id=medline,
             lot_tracked=True, category="sutures")  # fmt: skip
    inv.item("MASK-OLD", name="Old mask", unit="each", supplier_id=medline, active=False)
    inv.par("GLV/M", "EXAM1", 10, 4)
    inv.par("GAUZE-4", "EXAM1", 6, 2)
    response = move(client, users.headers(Role.MA), kind="receive", sku="GLV/M",
                    location="EXAM1", quantity=2)  # fmt: skip
    assert response.status_code == 201, response.text
    response = move(client, users.headers(Role.MA), kind="receive", sku="GAUZE-4",
                    location="EXAM1", quantity=5)  # fmt: skip
    assert response.status_code == 201, response.text
    return {"acme": acme, "medline": medline}


def skus_listed(html: str) -> list[str]:
    table = re.search(r'<table class="table" id="items-table">.*?</table>', html, re.S)
    return re.findall(r'class="row-link" href="[^"]+">([^<]+)</a>', table.group(0)) if table else []


def item_row(database: Database, sku: str) -> Item | None:
    with database.session(write=False) as session:
        return session.scalar(select(Item).where(Item.sku == sku))


def audit_count(database: Database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def error_next_to(html: str, field: str) -> str:
    """The message the page shows under the field `field` (its `field-message`)."""
    match = re.search(rf'id="field-{field}-error">✖ ([^<]*)<', html)
    assert match, f"no error shown for {field}"
    return html_lib.unescape(match.group(1))


def value_of(html: str, field: str) -> str:
    match = re.search(rf'id="field-{field}" name="{field}" type="[a-z]+" value="([^"]*)"', html)
    assert match, f"no input {field}"
    return match.group(1)


def filled_form_post(
    client: TestClient[Litestar], path: str, form_id: str, **changes: str | None
) -> Any:
    """Submit the form as a browser would with what the page filled in (text inputs,
    the selected options, ticked boxes), `changes` typed over it (None unticks a box)."""
    html = client.get(path).text
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert form, f"no form {form_id}"
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form.group(0)):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and ('type="checkbox"' not in tag or " checked" in tag):
            fields[name.group(1)] = html_lib.unescape(value.group(1)) if value else ""
    for name, options in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form.group(0), re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = chosen.group(1) if chosen else ""
    fields["_csrf_token"] = csrf_token_from(html)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    action = re.search(r'action="([^"]+)"', form.group(0))
    assert action
    return client.post(action.group(1), data=fields, follow_redirects=False)


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
    client: TestClient[Litestar], users: UserFactory, inv: InventoryFactory, database: Database
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
    started = time.perf_counter()
    first = client.get("/catalogue/items")
    elapsed = time.perf_counter() - started
    assert first.status_code == 200
    assert "2000 items" in first.text and "Page 1 of 40" in first.text
    assert skus_listed(first.text)[0] == "BULK-00000" and len(skus_listed(first.text)) == 50
    assert elapsed < 2.0, f"items list took {elapsed:.2f}s"
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

NEW_ITEM = {
    "sku": "tape-1", "name": "Surgical tape", "unit": "roll", "pack_size": "12",
    "vendor_sku": "MT-9", "unit_cost": "3.2", "gtin": "", "lead_time_days": "5",
    "min_order_qty": "24", "category": "dressings", "lot_tracked": "1", "active": "1",
}  # fmt: skip


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


# --- par-level grid --------------------------------------------------------------------


def grid_fields(html: str) -> dict[str, str]:
    """The grid form's inputs with the values the page filled in (row index → field)."""
    form = re.search(r'<form method="post" action="/catalogue/par-levels".*?</form>', html, re.S)
    assert form, "no grid form"
    return dict(
        re.findall(
            r'name="(row-[^"]+|location|q|only|page|nonce)"[^>]*?value="([^"]*)"', form.group(0)
        )
    )


def row_index(fields: dict[str, str], sku: str) -> str:
    return next(k.split("-")[1] for k, v in fields.items() if k.endswith("-sku") and v == sku)


def levels(database: Database, location: str = "EXAM1") -> dict[str, tuple[int | None, int | None]]:
    with database.session(write=False) as session:
        rows = session.execute(
            select(Item.sku, StockLevel.par_level, StockLevel.reorder_point)
            .join(StockLevel, StockLevel.item_id == Item.id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Location.code == location)
        )
        return {sku: (par, point) for sku, par, point in rows}


def post_grid(client: TestClient[Litestar], path: str, **changes: str) -> Any:
    html = client.get(path).text
    fields = grid_fields(html)
    for key, value in changes.items():
        sku, name = key.rsplit(":", 1)
        fields[f"row-{row_index(fields, sku)}-{name}"] = value
    fields["_csrf_token"] = csrf_token_from(html)
    return client.post("/catalogue/par-levels", data=fields, follow_redirects=False)


def test_par_grid_saves_only_the_changed_rows(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    page = client.get("/catalogue/par-levels", params={"location": "EXAM1"})
    assert page.status_code == 200 and 'id="par-grid"' in page.text
    assert_csp_clean(page)
    fields = grid_fields(page.text)
    glv = row_index(fields, "GLV/M")
    assert (fields[f"row-{glv}-par_level"], fields[f"row-{glv}-reorder_point"]) == ("10", "4")
    assert "MASK-OLD" not in page.text  # inactive items are not on the grid
    before = audit_count(database)
    response = post_grid(
        client, "/catalogue/par-levels?location=EXAM1",
        **{"GLV/M:par_level": "12", "SUT-4:par_level": "7", "SUT-4:reorder_point": ""},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/catalogue/par-levels?location=EXAM1"
    assert "Saved 2 par levels at EXAM1." in client.get(response.headers["location"]).text
    # GLV/M keeps its reorder point 4; SUT-4 gets half of 7 rounded up; GAUZE-4 untouched
    assert levels(database) == {"GLV/M": (12, 4), "GAUZE-4": (6, 2), "SUT-4": (7, 4)}
    assert audit_count(database) == before + 2
    nothing = post_grid(client, "/catalogue/par-levels?location=EXAM1")
    assert nothing.status_code == 303
    assert "Nothing changed." in client.get(nothing.headers["location"]).text


def test_par_grid_rejects_bad_rows_in_place_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    before, audited = levels(database), audit_count(database)
    bad_format = post_grid(
        client, "/catalogue/par-levels?location=EXAM1",
        **{"GLV/M:par_level": "20", "GAUZE-4:par_level": "-3", "SUT-4:par_level": "many"},
    )  # fmt: skip
    assert bad_format.status_code == 422
    html = bad_format.text
    fields = grid_fields(html)
    gauze, sut, glv = (row_index(fields, s) for s in ("GAUZE-4", "SUT-4", "GLV/M"))
    assert f'id="row-{gauze}-par_level-error">✖ Must be at least 0.<' in html
    assert f'id="row-{sut}-par_level-error">✖ Must be a whole number.<' in html
    assert "check the 2 rows marked below" in html
    assert fields[f"row-{glv}-par_level"] == "20"  # a good row keeps its typed value too
    assert fields[f"row-{sut}-par_level"] == "many"
    # a rule of the domain: a reorder point above the par level
    above = post_grid(
        client, "/catalogue/par-levels?location=EXAM1",
        **{"GLV/M:par_level": "20", "GAUZE-4:reorder_point": "9"},
    )  # fmt: skip
    assert above.status_code == 422
    fields = grid_fields(above.text)
    assert (
        f'id="row-{gauze}-reorder_point-error">✖ The reorder point (9) cannot be above the par '
        "level (6).<"
    ) in above.text
    assert fields[f"row-{gauze}-reorder_point"] == "9" and fields[f"row-{glv}-par_level"] == "20"
    assert levels(database) == before and audit_count(database) == audited  # GLV/M not saved


def test_par_grid_filters_switch_location_and_unknown_location_is_404(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int]
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    only = client.get("/catalogue/par-levels", params={"location": "exam1", "only": "1"})
    assert only.status_code == 200
    listed = sorted(v for k, v in grid_fields(only.text).items() if k.endswith("-sku"))
    assert listed == ["GAUZE-4", "GLV/M"]
    supply = client.get("/catalogue/par-levels", params={"location": "SUPPLY", "only": "1"})
    assert "No items match." in supply.text
    assert '<option value="SUPPLY" selected>' in supply.text
    search = client.get("/catalogue/par-levels", params={"location": "EXAM1", "q": "gauze"})
    assert [v for k, v in grid_fields(search.text).items() if k.endswith("-sku")] == ["GAUZE-4"]
    assert client.get("/catalogue/par-levels", params={"location": "NOPE"}).status_code == 404


# --- suppliers and locations -----------------------------------------------------------


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
