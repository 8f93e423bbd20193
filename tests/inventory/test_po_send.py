"""`POST /api/v1/purchase-orders/{id}/send`: the order's PDF e-mailed to the supplier
through the notification outbox, against a real SMTP server process."""

from __future__ import annotations

import pytest
from pypdfium2 import PdfDocument

from kernel.auth.models import Role
from tests.live_server import free_port
from tests.notification_factories import run_notifications
from tests.smtp_server import start_smtp_server

PO = "/api/v1/purchase-orders"


@pytest.fixture
def smtp(app, tmp_path):
    server = start_smtp_server(tmp_path, free_port())
    app.state.settings.smtp_url = f"smtp://127.0.0.1:{server.port}"
    app.state.settings.clinic_name = "Maple Street Clinic"
    app.state.settings.mail_from = "orders@maple.example"
    yield server
    server.stop()


def submitted_po(client, inv, buyer, *, email: str | None = "orders@supplier.example") -> dict:
    supplier = inv.supplier(email=email, account_number="ACC-77") if email else inv.supplier()
    sku = inv.item(supplier_id=supplier)
    body = {"supplier_id": supplier, "lines": [{"sku": sku, "quantity": 12}]}
    po = client.post(PO, json=body, headers=buyer).json()
    assert client.post(f"{PO}/{po['id']}/submit", headers=buyer).status_code == 200
    return po


def test_a_submitted_order_is_e_mailed_to_the_supplier_with_its_pdf(app, client, inv, buyer, smtp):
    po = submitted_po(client, inv, buyer)
    queued = client.post(f"{PO}/{po['id']}/send", headers=buyer)
    assert queued.status_code == 202, queued.text
    number = f"PO-{po['id']:06d}"
    assert queued.json()["to"] == "orders@supplier.example"
    assert queued.json()["status"] == "pending"
    assert run_notifications(app).sent == 1
    [(message, meta)] = smtp.messages()
    assert meta["rcpt_tos"] == ["orders@supplier.example"]
    assert message["Subject"] == f"Purchase order {number} from Maple Street Clinic"
    assert "orders@maple.example" in message["From"]
    assert "ACC-77" in message.get_body(("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{number}.pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF")
    text = PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert number in text
    run_notifications(app)
    assert len(smtp.messages()) == 1  # sent once


def test_a_draft_a_supplier_without_address_or_no_smtp_is_refused(app, client, inv, buyer, smtp):
    supplier = inv.supplier(email="x@supplier.example")
    sku = inv.item(supplier_id=supplier)
    draft = client.post(
        PO, json={"supplier_id": supplier, "lines": [{"sku": sku, "quantity": 1}]}, headers=buyer
    ).json()
    refused = client.post(f"{PO}/{draft['id']}/send", headers=buyer)
    assert refused.status_code == 409 and "submit it" in refused.json()["detail"]
    no_address = submitted_po(client, inv, buyer, email=None)
    refused = client.post(f"{PO}/{no_address['id']}/send", headers=buyer)
    assert refused.status_code == 409 and "no e-mail address" in refused.json()["detail"]
    app.state.settings.smtp_url = ""
    po = submitted_po(client, inv, buyer)
    refused = client.post(f"{PO}/{po['id']}/send", headers=buyer)
    assert refused.status_code == 409 and "STERISTOCK_SMTP_URL" in refused.json()["detail"]
    assert client.post(f"{PO}/999999/send", headers=buyer).status_code == 404
    run_notifications(app)
    assert smtp.messages() == []


def test_only_purchasing_sends_orders(client, inv, buyer, users, smtp):
    po = submitted_po(client, inv, buyer)
    for role in (Role.MA, Role.AUDITOR):
        assert client.post(f"{PO}/{po['id']}/send", headers=users.headers(role)).status_code == 403
