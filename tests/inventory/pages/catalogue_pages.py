"""Reading the catalogue pages in tests: the SKUs a list shows, the message at a field,
a field's value, a form posted as a browser fills it in; and the rows behind them."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from inventory.models import Item
from kernel.audit.models import AuditEntry
from kernel.db import Database
from tests.factories import csrf_token_from

# A new item as the item form posts it.
NEW_ITEM = {
    "sku": "tape-1", "name": "Surgical tape", "unit": "roll", "pack_size": "12",
    "vendor_sku": "MT-9", "unit_cost": "3.2", "gtin": "", "lead_time_days": "5",
    "min_order_qty": "24", "category": "dressings", "lot_tracked": "1", "active": "1",
}  # fmt: skip


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
