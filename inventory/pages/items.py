"""`/catalogue/items`: the items list (search, filters, sort, pages) and the item form
(create, edit). Purchasing and admin edit; medical assistants and auditors read.

Each field is checked against the API's own schema type (`convert_form_fields`), so a
refused form comes back with status 422, every error next to its field and every typed
value kept; nothing is written. Writes go through `inventory.catalogue` (the API's
functions), lists through `inventory.search` (the API's search).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_queries, lookups, packagings, search
from inventory.models import Item, Supplier
from inventory.pages.form_messages import HINTS, refusal_message
from inventory.pages.paging import fetch_page, page_count, page_number, query_text
from inventory.responses import unit_cost_text
from inventory.roles import can_keep_catalogue, can_read, keeps_catalogue
from inventory.schemas.catalogue import ItemCreate, ItemUpdate
from kernel.auth.service import CurrentUser
from kernel.web.forms import (
    FormData,
    FormRefusal,
    convert_form_fields,
    form_checked,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import redirect_with_flash, render_page

ITEMS_PER_PAGE = 50
SORT_LABELS = {"sku": "SKU", "name": "Name", "supplier": "Supplier", "category": "Category",
               "unit_cost": "Unit cost", "on_hand": "On hand"}  # fmt: skip
ITEM_TEXT_FIELDS = ("sku", "name", "unit", "pack_size", "supplier_id", "vendor_sku",
                    "unit_cost", "gtin", "lead_time_days", "min_order_qty", "category")  # fmt: skip
ITEM_REQUIRED = {"sku", "name", "unit", "pack_size", "supplier_id", "unit_cost", "min_order_qty"}
ITEM_LABELS = {"unit_cost": "Unit cost", "supplier_id": "Supplier", "gtin": "GTIN"}


def item_path(sku: str) -> str:
    return f"/catalogue/items/{quote(sku, safe='')}"


def field_label_detail(detail: str, field: str, label: str) -> str:
    """A domain message names the API field ("unit_cost must ..."); say it as the form."""
    return detail.replace(f"{field} ", f"{label} ", 1) if detail.startswith(field) else detail


# --- the list --------------------------------------------------------------------------


@get("/catalogue/items", guards=[can_read], sync_to_thread=True)
def items_page(request: Request[Any, Any, Any], db_session: Session, me: CurrentUser) -> Template:
    supplier_text = query_text(request, "supplier")
    supplier_id = (
        int(supplier_text) if supplier_text.isdigit() and len(supplier_text) < 10 else None
    )
    status = query_text(request, "status") or "active"
    sort = query_text(request, "sort") or "sku"
    filters = search.ItemFilter(
        q=query_text(request, "q"),
        supplier_id=supplier_id,
        category=query_text(request, "category"),
        below_reorder=query_text(request, "below") == "1",
        status=status if status in search.ITEM_STATUSES else "active",
    )
    sort = sort if sort in SORT_LABELS else "sku"
    descending = query_text(request, "dir") == "desc"
    rows, total, page = fetch_page(
        lambda limit, offset: search.search_items(
            db_session, filters, sort=sort, descending=descending, limit=limit, offset=offset
        ),
        page_number(query_text(request, "page")),
        ITEMS_PER_PAGE,
    )
    params = {
        "q": filters.q,
        "supplier": str(supplier_id or ""),
        "category": filters.category,
        "below": "1" if filters.below_reorder else "",
        "status": filters.status if filters.status != "active" else "",
        "sort": sort if sort != "sku" else "",
        "dir": "desc" if descending else "",
    }

    def url(**changes: Any) -> str:
        merged = {**params, **{k: str(v) for k, v in changes.items()}}
        query = urlencode({k: v for k, v in merged.items() if v})
        return f"/catalogue/items?{query}" if query else "/catalogue/items"

    def sort_url(column: str) -> str:
        flip = column == sort and not descending
        return url(sort=column, dir="desc" if flip else "", page="")

    return render_page(
        request,
        "inventory/catalogue/items.html",
        section="items",
        rows=rows,
        total=total,
        page=page,
        pages=page_count(total, ITEMS_PER_PAGE),
        filters=filters,
        sort=sort,
        descending=descending,
        sorts=SORT_LABELS,
        suppliers=catalogue_queries.supplier_choices(db_session),
        categories=catalogue_queries.categories(db_session),
        url=url,
        sort_url=sort_url,
        item_path=item_path,
        cost_text=unit_cost_text,
        can_edit=keeps_catalogue(me),
    )


# --- the form --------------------------------------------------------------------------


def item_values(item: Item) -> dict[str, Any]:
    """The form's text for a stored item (checkboxes as booleans)."""
    return {
        "sku": item.sku,
        "name": item.name,
        "unit": item.unit,
        "pack_size": str(item.pack_size),
        "supplier_id": str(item.supplier_id),
        "vendor_sku": item.vendor_sku or "",
        "unit_cost": unit_cost_text(item.unit_cost),
        "gtin": item.gtin or "",
        "lead_time_days": "" if item.lead_time_days is None else str(item.lead_time_days),
        "min_order_qty": str(item.min_order_qty),
        "category": item.category or "",
        "lot_tracked": item.lot_tracked,
        "active": item.active,
    }


NEW_ITEM_VALUES: dict[str, Any] = {name: "" for name in ITEM_TEXT_FIELDS} | {
    "pack_size": "1", "min_order_qty": "0", "lot_tracked": False, "active": True,
}  # fmt: skip


PACKAGING_FIELDS = ("gtin", "units", "name")


def render_item_form(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    me: CurrentUser,
    item: Item | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
    packaging: dict[str, Any] | None = None,
) -> Template:
    """The item form (or, for readers, its facts) and its packaging levels; `packaging`:
    the packaging form's values, errors and message when it was refused."""
    supplier_name = None
    levels = []
    if item is not None:
        supplier = session.get(Supplier, item.supplier_id)
        supplier_name = supplier.name if supplier else None
        levels = packagings.list_packagings(session, item.sku)
    packaging = packaging or {}
    return render_page(
        request,
        "inventory/catalogue/item_form.html",
        status_code=status_code,
        section="items",
        item=item,
        supplier_name=supplier_name,
        action="/catalogue/items/new" if item is None else item_path(item.sku),
        values=values,
        errors=errors or {},
        error=error,
        suppliers=catalogue_queries.supplier_choices(session),
        categories=catalogue_queries.categories(session),
        can_edit=keeps_catalogue(me),
        nonce=new_nonce(),
        cost_text=unit_cost_text,
        levels=levels,
        packaging_values=packaging.get("values") or dict.fromkeys(PACKAGING_FIELDS, ""),
        packaging_errors=packaging.get("errors") or {},
        packaging_error=packaging.get("error"),
        packaging_nonce=new_nonce(),
        remove_nonces={level.id: new_nonce() for level in levels},
    )


def refused_item_form(
    request: Request[Any, Any, Any],
    session: Session,
    refusal: FormRefusal,
    *,
    me: CurrentUser,
    sku: str | None,
    values: dict[str, Any],
) -> Template:
    """The form again with the refusal at its fields (the item re-read after a rollback)."""
    errors = {
        field: field_label_detail(message, field, ITEM_LABELS.get(field, ""))
        for field, message in refusal.errors.items()
    }
    return render_item_form(
        request, session, me=me, item=lookups.get_item(session, sku) if sku else None,
        values=values, errors=errors, error=refusal_message(refusal),
        status_code=refusal.status_code,
    )  # fmt: skip


def item_form_values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: form_text(data, name) for name in ITEM_TEXT_FIELDS}
    values["lot_tracked"] = form_checked(data, "lot_tracked")
    values["active"] = form_checked(data, "active")
    return values


def check_item_fields(
    values: dict[str, Any], *, new: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    text = {k: values[k] for k in ITEM_TEXT_FIELDS if new or k != "sku"}
    converted, errors = convert_form_fields(text, ItemCreate, required=ITEM_REQUIRED, hints=HINTS)
    cost = converted.get("unit_cost")
    if isinstance(cost, Decimal) and not cost.is_finite():  # "NaN" parses as a Decimal
        errors["unit_cost"] = "Enter a number, like 7.50."
    converted["lot_tracked"] = values["lot_tracked"]
    converted["active"] = values["active"]
    return converted, errors


@get("/catalogue/items/new", guards=[can_keep_catalogue], sync_to_thread=True)
def new_item_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_item_form(request, db_session, me=me, item=None, values=dict(NEW_ITEM_VALUES))


@post("/catalogue/items/new", guards=[can_keep_catalogue], sync_to_thread=True)
def create_item(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    values = item_form_values(data)
    converted, errors = check_item_fields(values, new=True)
    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /catalogue/items/new",
        errors=errors,
        action=lambda: catalogue.create_item(
            db_session, actor=me.username, data=ItemCreate(**converted)
        ).sku,
        rerender=lambda refusal: refused_item_form(
            request, db_session, refusal, me=me, sku=None, values=values
        ),
        done=lambda sku: (item_path(sku), f"Added {sku}: {converted['name']}."),
        again="Already added: that form was sent twice.",
    )  # fmt: skip


@get("/catalogue/items/{sku:path}", guards=[can_read], sync_to_thread=True)
def item_page(
    request: Request[Any, Any, Any], sku: str, db_session: Session, me: CurrentUser
) -> Template:
    item = lookups.get_item(db_session, sku.lstrip("/"))
    return render_item_form(request, db_session, me=me, item=item, values=item_values(item))


@post("/catalogue/items/{sku:path}", guards=[can_keep_catalogue], sync_to_thread=True)
def update_item(
    request: Request[Any, Any, Any], sku: str, data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    """Writes only the fields that changed (blank optional fields clear them)."""
    item = lookups.get_item(db_session, sku.lstrip("/"))
    sku, path = item.sku, item_path(item.sku)
    values = item_form_values(data) | {"sku": sku}
    converted, errors = check_item_fields(values, new=False)
    stored = item_values(item)
    changes = {
        name: value
        for name, value in converted.items()
        if not errors and value != _typed(name, stored[name])  # (a refused "sNaN" cannot compare)
    }
    if not errors and not changes:
        return redirect_with_flash(request, path, "Nothing changed.", "info")
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {path}", errors=errors,
        action=lambda: catalogue.update_item(
            db_session, actor=me.username, sku=sku, data=ItemUpdate(**changes)
        ).sku,
        rerender=lambda refusal: refused_item_form(
            request, db_session, refusal, me=me, sku=sku, values=values
        ),
        done=lambda _: (path, f"Saved {sku}: {', '.join(sorted(changes))}."),
        again="Already saved: that form was sent twice.",
    )  # fmt: skip


def _typed(name: str, text: Any) -> Any:
    """A stored value (as the form shows it) in the type the form converts to."""
    if isinstance(text, bool) or text == "":
        return text if isinstance(text, bool) else None
    if name in ("pack_size", "supplier_id", "lead_time_days", "min_order_qty"):
        return int(text)
    if name == "unit_cost":
        return Decimal(text)
    return text


page_handlers: list[Any] = [items_page, new_item_page, create_item, item_page, update_item]
