"""The pages of section 13: packaging levels on the item page, the order file layout with
its preview on the supplier page, the order file and PDF links; every refusal shown at its
field, nothing written."""

from __future__ import annotations

import html as html_lib
import re

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from inventory.models import ItemPackaging, SupplierOrderFormat
from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, assert_csp_clean, form_post, page_login
from tests.inventory.pages.catalogue_pages import filled_form_post

BOX = "10614141000019"
CASE = "20614141000016"


def message_at(html: str, input_id: str) -> str:
    match = re.search(rf'id="{input_id}-error">✖ ([^<]*)<', html)
    assert match, f"no error shown at {input_id}"
    return html_lib.unescape(match.group(1))


def count(database: Database, model: type) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_packaging_levels_are_added_refused_and_removed_on_the_item_page(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    path = "/catalogue/items/GLV%2FM"
    page = client.get(path)
    assert page.status_code == 200 and 'id="packaging-form"' in page.text
    assert "No packaging levels" in page.text
    assert_csp_clean(page)

    bad = form_post(client, path, "packaging-form", gtin=BOX, units="0", name="")
    assert bad.status_code == 422
    assert message_at(bad.text, "packaging-units")
    assert message_at(bad.text, "packaging-name") == "Required."
    assert count(database, ItemPackaging) == 0

    taken = form_post(client, path, "packaging-form", gtin="09506000134352", units="10",
                      name="box")  # GAUZE-4's own GTIN  # fmt: skip
    assert taken.status_code == 409
    assert "already belongs to item GAUZE-4" in message_at(taken.text, "packaging-gtin")

    added = form_post(client, path, "packaging-form", gtin=BOX, units="100", name="box")
    assert added.status_code == 303
    page = client.get(path)
    assert "Added the box of 100 (GTIN 10614141000019) to GLV/M." in page.text
    assert re.search(r'id="packaging-levels".*?box.*?10614141000019.*?100 box', page.text, re.S)

    level_id = re.search(r'id="remove-packaging-(\d+)"', page.text)
    assert level_id
    removed = form_post(client, path, f"remove-packaging-{level_id.group(1)}")
    assert removed.status_code == 303 and count(database, ItemPackaging) == 0


def test_readers_see_the_levels_without_the_forms(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int]
) -> None:
    buyer = users.headers(Role.PURCHASING)
    case = {"gtin": CASE, "units": 1000, "name": "case"}
    added = client.post("/api/v1/items/GAUZE-4/packagings", json=case, headers=buyer)
    assert added.status_code == 201, added.text
    page_login(client, users.create(Role.MA))
    page = client.get("/catalogue/items/GAUZE-4")
    assert CASE in page.text and "case" in page.text
    assert 'id="packaging-form"' not in page.text and "remove-packaging" not in page.text


def test_an_order_file_layout_is_previewed_refused_saved_and_removed(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], database: Database
) -> None:
    page_login(client, users.create(Role.PURCHASING))
    path = f"/catalogue/suppliers/{catalogue['acme']}"
    page = client.get(path)
    assert page.status_code == 200 and 'id="order-format-form"' in page.text
    assert_csp_clean(page)
    layout = {"column-0-header": "Item Number", "column-0-field": "vendor_sku",
              "column-1-header": "Qty", "column-1-field": "quantity",
              "quantity_in": "packs", "delimiter": "semicolon"}  # fmt: skip

    preview = filled_form_post(client, path, "order-format-form", op="preview", **layout)
    assert preview.status_code == 200, preview.text
    text = html_lib.unescape(re.search(r'id="layout-preview-text">([^<]*)<', preview.text)[1])
    assert text.replace("\r\n", "\n") == "Item Number;Qty\nAC-GLV-100;8\n"
    assert count(database, SupplierOrderFormat) == 0  # a preview saves nothing

    unknown = filled_form_post(client, path, "order-format-form", op="save",
                               **{**layout, "column-1-field": "price"})  # fmt: skip
    assert unknown.status_code == 422
    assert "unknown field 'price'" in message_at(unknown.text, "field-column-1-field")
    missing = filled_form_post(client, path, "order-format-form", op="save",
                               **{**layout, "column-1-header": ""})  # fmt: skip
    assert missing.status_code == 422 and message_at(missing.text, "field-column-1-header")
    assert count(database, SupplierOrderFormat) == 0

    saved = filled_form_post(client, path, "order-format-form", op="save", **layout)
    assert saved.status_code == 303 and count(database, SupplierOrderFormat) == 1
    page = client.get(path)
    assert "Saved the order file layout of Acme Medical." in page.text
    assert 'value="Item Number"' in page.text and 'id="order-file-link"' in page.text

    purchasing = client.get("/purchasing")
    link = f'href="/purchasing/reorder.csv?supplier_id={catalogue["acme"]}&amp;format=supplier"'
    assert link in purchasing.text
    download = client.get(html_lib.unescape(link[6:-1]))
    assert download.status_code == 200 and download.text == "Item Number;Qty\r\nAC-GLV-100;8\r\n"

    removed = form_post(client, path, "remove-layout-form", op="remove")
    assert removed.status_code == 303 and count(database, SupplierOrderFormat) == 0


def test_a_preview_with_nothing_to_order_shows_sample_rows(
    client: TestClient[Litestar], users: UserFactory, catalogue: dict[str, int], inv
) -> None:
    inv.par("SUT-4", "EXAM1", 0)  # kept, nothing to order
    page_login(client, users.create(Role.PURCHASING))
    path = f"/catalogue/suppliers/{catalogue['medline']}"
    preview = filled_form_post(
        client, path, "order-format-form", op="preview",
        **{"column-0-header": "SKU", "column-0-field": "sku",
           "column-1-header": "Qty", "column-1-field": "quantity"},
    )  # fmt: skip
    assert preview.status_code == 200
    assert "nothing to order now, so one pack of the first items as a sample" in preview.text
    assert "SKU,Qty\r\nSUT-4,1\r\n" in preview.text
