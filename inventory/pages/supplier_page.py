"""One supplier's page: its form and its order file layout (with a preview when one was
asked for). Rendered by the supplier form's handlers (`inventory.pages.suppliers`) and the
layout's (`inventory.pages.order_formats`)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import lookups, order_formats
from inventory.models import Supplier
from inventory.order_formats import DELIMITER_NAMES
from inventory.pages.paging import MAX_ROW_ID
from inventory.schemas.purchasing import OrderFormatOut
from kernel.problems import NotFound
from kernel.web.forms import new_nonce
from kernel.web.templating import render_page

SUPPLIER_FIELDS = ("name", "account_number", "email", "phone", "lead_time_days")
MIN_ROWS = 8


def supplier_or_404(session: Session, supplier_id: int) -> Supplier:
    if not 1 <= supplier_id <= MAX_ROW_ID:
        raise NotFound(f"No supplier with id {supplier_id}.")
    return lookups.get_supplier(session, supplier_id)


def supplier_values(supplier: Supplier | None) -> dict[str, str]:
    if supplier is None:
        return {name: "" for name in SUPPLIER_FIELDS}
    return {
        name: "" if getattr(supplier, name) is None else str(getattr(supplier, name))
        for name in SUPPLIER_FIELDS
    }


def stored_format(session: Session, supplier_id: int) -> OrderFormatOut | None:
    try:
        return order_formats.get_order_format(session, supplier_id)
    except NotFound:
        return None


def format_values(stored: OrderFormatOut | None) -> dict[str, Any]:
    """The layout form's values for a stored layout (or a new one)."""
    columns = stored.columns if stored else []
    values: dict[str, Any] = {
        "quantity_in": stored.quantity_in if stored else "units",
        "delimiter": DELIMITER_NAMES[stored.delimiter] if stored else "comma",
        "header_row": stored.header_row if stored else True,
        "rows": max(MIN_ROWS, len(columns) + 3),
    }
    for i, column in enumerate(columns):
        values[f"column-{i}-header"] = column.header
        values[f"column-{i}-field"] = column.field
    return values


def field_choices() -> list[tuple[str, str]]:
    return [(name, f"{name}: {text}") for name, text in order_formats.ORDER_FIELDS.items()]


def render_supplier(
    request: Request[Any, Any, Any],
    session: Session,
    supplier: Supplier,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    order_format: dict[str, Any] | None = None,
) -> Template:
    """The supplier's form and its order file layout; `order_format`: the layout form's
    values, errors, message and preview after a post."""
    stored = stored_format(session, supplier.id or 0)
    layout = order_format or {"values": format_values(stored), "errors": {}, "error": None,
                              "preview": None}  # fmt: skip
    return render_page(
        request,
        "inventory/catalogue/supplier_form.html",
        status_code=status_code,
        section="suppliers",
        supplier=supplier,
        values=values or supplier_values(supplier),
        errors=errors or {},
        error=error,
        nonce=new_nonce(),
        layout=layout,
        has_layout=stored is not None,
        layout_nonce=new_nonce(),
        remove_nonce=new_nonce(),
        field_choices=field_choices(),
        delimiters=[(name, name) for name in DELIMITER_NAMES.values()],
    )
