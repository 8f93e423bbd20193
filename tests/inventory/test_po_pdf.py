"""The printable purchase order (`GET /api/v1/purchase-orders/{id}.pdf`, spec section 13):
the clinic's name and address from the settings, the supplier, the lines with vendor item
numbers and packs, the total; read back with a real PDF text extractor (pypdfium2)."""

from __future__ import annotations

from decimal import Decimal

import pypdfium2 as pdfium
import pytest

from kernel.auth.models import Role
from tests.factories import page_login
from tests.inventory.reorder_factories import on_order
from tests.inventory_factories import InventoryFactory


def pdf_text(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


@pytest.fixture
def clinic(app):
    app.state.settings.clinic_name = "Springfield Family Clinic"
    app.state.settings.clinic_address = "12 Main St|Suite 4|Springfield, IL 62701"


@pytest.fixture
def order(database, inv: InventoryFactory, client, buyer) -> int:
    supplier = inv.supplier("Henry Schein", account_number="HS-448812",
                            phone="800-772-4346")  # fmt: skip
    inv.item("GLV-M", name="Nitrile gloves, medium", supplier_id=supplier,
             vendor_sku="112-4432", pack_size=100, unit_cost=Decimal("0.045"))  # fmt: skip
    gauze = "Gauze 4x4 \u2013 sterile, \u0141\u00f3d\u017a"  # Ł is not in the PDF font
    inv.item("GAUZE", name=gauze, supplier_id=supplier, vendor_sku="100-2211", pack_size=10,
             unit_cost=Decimal("0.30"), unit="pad")  # fmt: skip
    client.post(
        "/api/v1/items/GLV-M/packagings",
        json={"gtin": "10614141000019", "units": 100, "name": "box"},
        headers=buyer,
    )
    return on_order(database, supplier, {"GLV-M": 1200, "GAUZE": 25})


def test_the_po_pdf_has_clinic_supplier_lines_with_packs_and_the_total(
    client, buyer, clinic, order
):
    r = client.get(f"/api/v1/purchase-orders/{order}.pdf", headers=buyer)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert f'filename="PO-{order:06d}.pdf"' in r.headers["content-disposition"]
    text = pdf_text(r.content)
    for expected in [
        "Springfield Family Clinic", "12 Main St", "Suite 4", "Springfield, IL 62701",
        "PURCHASE ORDER", f"Number: PO-{order:06d}", "Status: submitted",
        "Henry Schein", "Our account: HS-448812", "800-772-4346",
        "112-4432", "GLV-M", "Nitrile gloves, medium", "12 x box (100)", "1200", "0.045", "54.00",
        "100-2211", "Gauze 4x4 \u2013 sterile, ?\u00f3dz", "2 x pack of 10 + 5 pad", "25",
        "0.30", "7.50",
        "2 lines, 1225 units", "Order total", "61.50", "Page 1 of 1",
    ]:  # fmt: skip
        assert expected in text, expected
    assert "DRAFT" not in text
    # the same document at the route's own path
    same = client.get(f"/api/v1/purchase-orders/{order}/pdf", headers=buyer)
    assert pdf_text(same.content) == text


def test_a_draft_or_cancelled_order_says_so_across_the_page(client, buyer, clinic, inv):
    supplier = inv.supplier("Acme")
    inv.item("X1", supplier_id=supplier)
    draft = client.post(
        "/api/v1/purchase-orders",
        json={"supplier_id": supplier, "lines": [{"sku": "X1", "quantity": 3}]},
        headers=buyer,
    ).json()["id"]
    assert "DRAFT - NOT AN ORDER" in pdf_text(
        client.get(f"/api/v1/purchase-orders/{draft}.pdf", headers=buyer).content
    )
    client.post(f"/api/v1/purchase-orders/{draft}/cancel", headers=buyer)
    assert "CANCELLED" in pdf_text(
        client.get(f"/api/v1/purchase-orders/{draft}.pdf", headers=buyer).content
    )


def test_a_long_order_continues_on_numbered_pages(client, database, buyer, clinic, inv):
    supplier = inv.supplier("Medline")
    lines = {}
    for n in range(70):
        lines[inv.item(f"ITEM-{n:03d}", supplier_id=supplier, vendor_sku=f"ML-{n}")] = n + 1
    po = on_order(database, supplier, lines)
    text = pdf_text(client.get(f"/api/v1/purchase-orders/{po}.pdf", headers=buyer).content)
    assert "Page 1 of 3" in text and "Page 3 of 3" in text and "(continued)" in text
    assert "ITEM-069" in text and "70 lines" in text


def test_an_unknown_order_is_404_and_readers_may_print(client, users, order):
    auditor = users.headers(Role.AUDITOR)
    assert client.get("/api/v1/purchase-orders/999999.pdf", headers=auditor).status_code == 404
    assert client.get(f"/api/v1/purchase-orders/{order}.pdf", headers=auditor).status_code == 200
    assert client.get(f"/api/v1/purchase-orders/{order}.pdf").status_code == 401


def test_the_order_page_prints_the_same_pdf(client, users, buyer, clinic, order):
    page_login(client, users.create(Role.MA))
    page = client.get(f"/purchasing/orders/{order}")
    assert f'href="/purchasing/orders/{order}.pdf"' in page.text
    printed = client.get(f"/purchasing/orders/{order}.pdf")
    assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
    api = client.get(f"/api/v1/purchase-orders/{order}.pdf", headers=buyer)
    assert (
        pdf_text(printed.content).split("printed")[0] == pdf_text(api.content).split("printed")[0]
    )
