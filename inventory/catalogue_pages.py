"""Desktop catalogue pages for purchasing and the administrator: items (list with search,
filters and sort; create and edit form), par levels per location as an editable grid,
suppliers and locations.

Handlers are thin: every write goes through `inventory.catalogue` (the same functions as
the API), lists through `inventory.catalogue_search`. Each field is checked against the
API's own schema type (`forms.convert_form_fields`), so a rejected form comes back with
status 422, every error next to its field and every typed value kept; nothing is
written. Medical assistants and auditors see the same pages read-only.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_search
from inventory.catalogue_search import ITEM_STATUSES, ItemFilter
from inventory.models import Item, Location, Supplier
from inventory.schemas import (
    ItemCreate,
    ItemUpdate,
    LocationCreate,
    LocationUpdate,
    ParLevelSet,
    SupplierCreate,
    SupplierUpdate,
)
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.problems import DomainError, InvalidInput, NotFound
from kernel.web.forms import (
    FormData,
    convert_form_fields,
    error_field,
    form_checked,
    form_text,
    new_nonce,
    run_once,
)
from kernel.web.templating import redirect_with_flash, render_page

can_view = requires_role(Role.MA, Role.PURCHASING, Role.AUDITOR)
can_edit = requires_role(Role.PURCHASING)

ITEMS_PER_PAGE = 50
PAR_ROWS_PER_PAGE = 100
MAX_ROW_ID = 2_147_483_647
MAX_QUERY_LENGTH = 100
ITEM_SORTS = {"sku": "SKU", "name": "Name", "supplier": "Supplier", "category": "Category",
              "unit_cost": "Unit cost", "on_hand": "On hand"}  # fmt: skip
ITEM_TEXT_FIELDS = ("sku", "name", "unit", "pack_size", "supplier_id", "vendor_sku",
                    "unit_cost", "gtin", "lead_time_days", "min_order_qty", "category")  # fmt: skip
ITEM_REQUIRED = {"sku", "name", "unit", "pack_size", "supplier_id", "unit_cost", "min_order_qty"}
HINTS = {
    "sku": "Use letters, digits and _ . - / only (up to 40).",
    "code": "Use letters, digits and _ . - only (up to 20).",
    "name": "Enter a name (no control characters).",
    "unit": "Enter a unit, like box or each.",
    "gtin": "A GTIN has 8, 12, 13 or 14 digits.",
    "email": "Enter an email address, like orders@example.com.",
    "supplier_id": "Choose a supplier.",
}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PAR_ROW_SKU = re.compile(r"row-(\d{1,4})-sku")
SUPPLIER_FIELDS = ("name", "account_number", "email", "phone", "lead_time_days")


def acts(me: CurrentUser) -> bool:
    return me.role in (Role.PURCHASING, Role.ADMIN)


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("_csrf_token", "nonce")}


def _query(request: Request[Any, Any, Any], name: str) -> str:
    """A query parameter, trimmed, without control characters (PostgreSQL refuses NUL)."""
    value = request.query_params.get(name) or ""
    return CONTROL.sub("", value).strip()[:MAX_QUERY_LENGTH]


def _page_number(text: str) -> int:
    return int(text) if text.isdigit() and 0 < len(text) < 7 else 1


def _pages(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def cost_text(cost: Decimal) -> str:
    """7.5000 → "7.50", 0.0450 → "0.045": what a person would type."""
    value = Decimal(cost)
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"


def item_path(sku: str) -> str:
    return f"/catalogue/items/{quote(sku, safe='')}"


def field_label_detail(detail: str, field: str, label: str) -> str:
    """A domain message names the API field ("unit_cost must ..."); say it as the form."""
    return detail.replace(f"{field} ", f"{label} ", 1) if detail.startswith(field) else detail


# --- items list ------------------------------------------------------------------------


@get("/catalogue/items", guards=[can_view], sync_to_thread=True)
def items_page(request: Request[Any, Any, Any], db_session: Session, me: CurrentUser) -> Template:
    supplier_text = _query(request, "supplier")
    supplier_id = (
        int(supplier_text) if supplier_text.isdigit() and len(supplier_text) < 10 else None
    )
    status = _query(request, "status") or "active"
    sort = _query(request, "sort") or "sku"
    filters = ItemFilter(
        q=_query(request, "q"),
        supplier_id=supplier_id,
        category=_query(request, "category"),
        below_reorder=_query(request, "below") == "1",
        status=status if status in ITEM_STATUSES else "active",
    )
    sort = sort if sort in ITEM_SORTS else "sku"
    descending = _query(request, "dir") == "desc"
    page = _page_number(_query(request, "page"))
    rows, total = catalogue_search.search_items(
        db_session, filters, sort=sort, descending=descending,
        limit=ITEMS_PER_PAGE, offset=(page - 1) * ITEMS_PER_PAGE,
    )  # fmt: skip
    if not rows and page > _pages(total, ITEMS_PER_PAGE):  # past the end: show the last page
        page = _pages(total, ITEMS_PER_PAGE)
        rows, total = catalogue_search.search_items(
            db_session, filters, sort=sort, descending=descending,
            limit=ITEMS_PER_PAGE, offset=(page - 1) * ITEMS_PER_PAGE,
        )  # fmt: skip
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
        pages=_pages(total, ITEMS_PER_PAGE),
        filters=filters,
        sort=sort,
        descending=descending,
        sorts=ITEM_SORTS,
        suppliers=catalogue_search.supplier_choices(db_session),
        categories=catalogue_search.categories(db_session),
        url=url,
        sort_url=sort_url,
        item_path=item_path,
        cost_text=cost_text,
        can_edit=acts(me),
    )


# --- item form -------------------------------------------------------------------------


def item_values(item: Item) -> dict[str, Any]:
    """The form's text for a stored item (checkboxes as booleans)."""
    return {
        "sku": item.sku,
        "name": item.name,
        "unit": item.unit,
        "pack_size": str(item.pack_size),
        "supplier_id": str(item.supplier_id),
        "vendor_sku": item.vendor_sku or "",
        "unit_cost": cost_text(item.unit_cost),
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
) -> Template:
    supplier_name = None
    if item is not None:
        supplier = session.get(Supplier, item.supplier_id)
        supplier_name = supplier.name if supplier else None
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
        suppliers=catalogue_search.supplier_choices(session),
        categories=catalogue_search.categories(session),
        can_edit=acts(me),
        nonce=new_nonce(),
        cost_text=cost_text,
    )


def item_form_values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {name: form_text(data, name) for name in ITEM_TEXT_FIELDS}
    values["lot_tracked"] = form_checked(data, "lot_tracked")
    values["active"] = form_checked(data, "active")
    return values


def item_error_field(exc: DomainError) -> str | None:
    """Which field of the item form a refusal is about."""
    if field := error_field(exc):
        return field
    detail = exc.detail
    if "lot tracking" in detail:
        return "lot_tracked"
    if "GTIN" in detail:
        return "gtin"
    if "SKU" in detail:
        return "sku"
    return None


ITEM_LABELS = {"unit_cost": "Unit cost", "supplier_id": "Supplier", "gtin": "GTIN"}


def refused_item(
    request: Request[Any, Any, Any],
    session: Session,
    exc: DomainError,
    *,
    me: CurrentUser,
    item: Item | None,
    values: dict[str, Any],
) -> Template:
    """Roll back and show the refusal next to the field it is about (or above the form)."""
    session.rollback()
    if item is not None:
        item = catalogue.get_item(session, item.sku)
    field = item_error_field(exc)
    detail = field_label_detail(exc.detail, field or "", ITEM_LABELS.get(field or "", ""))
    return render_item_form(
        request, session, me=me, item=item, values=values,
        errors={field: detail} if field else {}, error=None if field else exc.detail,
        status_code=int(exc.status_code),
    )  # fmt: skip


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


def invalid_form(count: int) -> str:
    return f"Nothing was saved: check the {count} field{'s' if count != 1 else ''} marked below."


@get("/catalogue/items/new", guards=[can_edit], sync_to_thread=True)
def new_item_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_item_form(request, db_session, me=me, item=None, values=dict(NEW_ITEM_VALUES))


@post("/catalogue/items/new", guards=[can_edit], sync_to_thread=True)
def create_item(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    values = item_form_values(data)
    converted, errors = check_item_fields(values, new=True)
    if errors:
        return render_item_form(
            request, db_session, me=me, item=None, values=values, errors=errors,
            error=invalid_form(len(errors)), status_code=422,
        )  # fmt: skip
    try:
        repeated, sku = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope="page POST /catalogue/items/new",
            payload=_payload(data),
            action=lambda: (
                catalogue.create_item(
                    db_session, actor=me.username, data=ItemCreate(**converted)
                ).sku
            ),
        )
    except DomainError as exc:
        return refused_item(request, db_session, exc, me=me, item=None, values=values)
    if repeated:
        return redirect_with_flash(
            request, item_path(sku), "Already added: that form was sent twice.", "info"
        )
    return redirect_with_flash(request, item_path(sku), f"Added {sku}: {converted['name']}.")


@get("/catalogue/items/{sku:path}", guards=[can_view], sync_to_thread=True)
def item_page(
    request: Request[Any, Any, Any], sku: str, db_session: Session, me: CurrentUser
) -> Template:
    item = catalogue.get_item(db_session, sku.lstrip("/"))
    return render_item_form(request, db_session, me=me, item=item, values=item_values(item))


@post("/catalogue/items/{sku:path}", guards=[can_edit], sync_to_thread=True)
def update_item(
    request: Request[Any, Any, Any], sku: str, data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    """Writes only the fields that changed (blank optional fields clear them)."""
    item = catalogue.get_item(db_session, sku.lstrip("/"))
    path = item_path(item.sku)
    values = item_form_values(data) | {"sku": item.sku}
    converted, errors = check_item_fields(values, new=False)
    if errors:
        return render_item_form(
            request, db_session, me=me, item=item, values=values, errors=errors,
            error=invalid_form(len(errors)), status_code=422,
        )  # fmt: skip
    stored = item_values(item)
    changes = {
        name: value for name, value in converted.items() if value != _typed(name, stored[name])
    }
    if not changes:
        return redirect_with_flash(request, path, "Nothing changed.", "info")
    try:
        repeated, _ = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope=f"page POST {path}",
            payload=_payload(data),
            action=lambda: (
                catalogue.update_item(
                    db_session, actor=me.username, sku=item.sku, data=ItemUpdate(**changes)
                ).sku
            ),
        )
    except DomainError as exc:
        return refused_item(request, db_session, exc, me=me, item=item, values=values)
    if repeated:
        return redirect_with_flash(
            request, path, "Already saved: that form was sent twice.", "info"
        )
    return redirect_with_flash(request, path, f"Saved {item.sku}: {', '.join(sorted(changes))}.")


def _typed(name: str, text: Any) -> Any:
    """A stored value (as the form shows it) in the type the form converts to."""
    if isinstance(text, bool) or text == "":
        return text if isinstance(text, bool) else None
    if name in ("pack_size", "supplier_id", "lead_time_days", "min_order_qty"):
        return int(text)
    if name == "unit_cost":
        return Decimal(text)
    return text


# --- par levels ------------------------------------------------------------------------


def render_par_levels(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    me: CurrentUser,
    code: str,
    q: str,
    only_set: bool,
    page: int,
    typed: dict[str, dict[str, str]] | None = None,
    row_errors: dict[str, dict[str, str]] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    locations = list(session.scalars(select(Location).order_by(Location.code)))
    location = catalogue.get_location(session, code) if code else None
    if location is None and locations:
        active = [loc for loc in locations if loc.active]
        location = (active or locations)[0]
    rows: list[catalogue_search.ParRow] = []
    total = 0
    if location is not None:
        for _ in range(2):  # past the end: show the last page
            rows, total = catalogue_search.par_grid(
                session, location, q=q, only_set=only_set,
                limit=PAR_ROWS_PER_PAGE, offset=(page - 1) * PAR_ROWS_PER_PAGE,
            )  # fmt: skip
            if rows or page <= _pages(total, PAR_ROWS_PER_PAGE):
                break
            page = _pages(total, PAR_ROWS_PER_PAGE)
    params = {
        "location": location.code if location else "",
        "q": q,
        "only": "1" if only_set else "",
    }

    def url(**changes: Any) -> str:
        merged = {**params, **{k: str(v) for k, v in changes.items()}}
        return "/catalogue/par-levels?" + urlencode({k: v for k, v in merged.items() if v})

    return render_page(
        request,
        "inventory/catalogue/par_levels.html",
        status_code=status_code,
        section="par-levels",
        locations=locations,
        location=location,
        rows=rows,
        total=total,
        page=page,
        pages=_pages(total, PAR_ROWS_PER_PAGE),
        q=q,
        only_set=only_set,
        url=url,
        item_path=item_path,
        typed=typed or {},
        row_errors=row_errors or {},
        error=error,
        can_edit=acts(me),
        nonce=new_nonce(),
    )


@get("/catalogue/par-levels", guards=[can_view], sync_to_thread=True)
def par_levels_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_par_levels(
        request, db_session, me=me, code=_query(request, "location"), q=_query(request, "q"),
        only_set=_query(request, "only") == "1", page=_page_number(_query(request, "page")),
    )  # fmt: skip


class RowsRefused(InvalidInput):
    """Some rows of the grid were refused by the domain: nothing of the grid is saved."""


def changed_par_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(sku, par level, reorder point) of the rows whose inputs differ from what the page
    showed (the `was_` fields)."""
    changed = []
    indexes = sorted(int(m.group(1)) for key in data if (m := PAR_ROW_SKU.fullmatch(key)))
    for i in indexes:
        par, point = (
            form_text(data, f"row-{i}-par_level"),
            form_text(data, f"row-{i}-reorder_point"),
        )
        was_par = form_text(data, f"row-{i}-was_par_level")
        was_point = form_text(data, f"row-{i}-was_reorder_point")
        if (par, point) != (was_par, was_point):
            changed.append((form_text(data, f"row-{i}-sku"), par, point))
    return changed


@post("/catalogue/par-levels", guards=[can_edit], sync_to_thread=True)
def save_par_levels(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    """One post for the grid: only changed rows are written, each through
    `catalogue.set_par_level` (PUT: a blank reorder point is half the par, rounded up).
    One bad row rejects the post, so the grid is saved whole or not at all."""
    location = catalogue.get_location(db_session, form_text(data, "location"))
    q, only_set = (
        CONTROL.sub("", form_text(data, "q"))[:MAX_QUERY_LENGTH],
        form_text(data, "only") == "1",
    )
    page = _page_number(form_text(data, "page"))
    changed = changed_par_rows(data)
    typed = {sku: {"par_level": par, "reorder_point": point} for sku, par, point in changed}
    row_errors: dict[str, dict[str, str]] = {}
    checked: list[tuple[str, dict[str, Any]]] = []
    for sku, par, point in changed:
        values, errors = convert_form_fields(
            {"par_level": par, "reorder_point": point}, ParLevelSet, required={"par_level"}
        )
        if errors:
            row_errors[sku] = errors
        checked.append((sku, values))

    def refused(message: str) -> Template:
        return render_par_levels(
            request, db_session, me=me, code=location.code, q=q, only_set=only_set, page=page,
            typed=typed, row_errors=row_errors, error=message, status_code=422,
        )  # fmt: skip

    def rows_message() -> str:
        count = len(row_errors)
        return f"Nothing was saved: check the {count} row{'s' if count != 1 else ''} marked below."

    if row_errors:
        return refused(rows_message())
    back = par_levels_url(location.code, q, only_set, page)
    if not changed:
        return redirect_with_flash(request, back, "Nothing changed.", "info")

    def save() -> int:
        for sku, values in checked:
            try:
                catalogue.set_par_level(
                    db_session, actor=me.username, sku=sku, location_code=location.code,
                    par_level=values["par_level"], reorder_point=values["reorder_point"],
                )  # fmt: skip
            except DomainError as exc:
                field = error_field(exc) or "par_level"
                row_errors[sku] = {field: exc.detail}
        if row_errors:
            raise RowsRefused(rows_message())
        return len(checked)

    try:
        repeated, count = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope="page POST /catalogue/par-levels",
            payload=_payload(data),
            action=save,
        )
    except DomainError as exc:
        db_session.rollback()
        return refused(exc.detail)
    if repeated:
        return redirect_with_flash(
            request, back, "Already saved: that form was sent twice.", "info"
        )
    text = f"Saved {count} par level{'s' if count != 1 else ''} at {location.code}."
    return redirect_with_flash(request, back, text)


def par_levels_url(code: str, q: str, only_set: bool, page: int) -> str:
    params = {
        "location": code,
        "q": q,
        "only": "1" if only_set else "",
        "page": page if page > 1 else "",
    }
    return "/catalogue/par-levels?" + urlencode({k: v for k, v in params.items() if v})


# --- suppliers -------------------------------------------------------------------------


def supplier_values(supplier: Supplier | None) -> dict[str, str]:
    if supplier is None:
        return {name: "" for name in SUPPLIER_FIELDS}
    return {
        name: "" if getattr(supplier, name) is None else str(getattr(supplier, name))
        for name in SUPPLIER_FIELDS
    }


def render_suppliers(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    me: CurrentUser,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    suppliers = list(session.scalars(select(Supplier).order_by(Supplier.name)))
    return render_page(
        request,
        "inventory/catalogue/suppliers.html",
        status_code=status_code,
        section="suppliers",
        suppliers=suppliers,
        item_counts=catalogue_search.supplier_item_counts(session),
        values=values or supplier_values(None),
        errors=errors or {},
        error=error,
        can_edit=acts(me),
        nonce=new_nonce(),
    )


def render_supplier(
    request: Request[Any, Any, Any],
    session: Session,
    supplier: Supplier,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
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
    )


def supplier_error_field(exc: DomainError) -> str | None:
    return error_field(exc) or ("name" if "supplier named" in exc.detail else None)


@get("/catalogue/suppliers", guards=[can_view], sync_to_thread=True)
def suppliers_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_suppliers(request, db_session, me=me)


@post("/catalogue/suppliers", guards=[can_edit], sync_to_thread=True)
def create_supplier(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    values = {name: form_text(data, name) for name in SUPPLIER_FIELDS}
    converted, errors = convert_form_fields(values, SupplierCreate, required={"name"}, hints=HINTS)
    if errors:
        return render_suppliers(
            request, db_session, me=me, values=values, errors=errors,
            error=invalid_form(len(errors)), status_code=422,
        )  # fmt: skip
    try:
        repeated, _ = run_once(
            db_session, me=me, nonce=form_text(data, "nonce"),
            scope="page POST /catalogue/suppliers", payload=_payload(data),
            action=lambda: catalogue.create_supplier(
                db_session, actor=me.username, data=SupplierCreate(**converted)
            ).id,
        )  # fmt: skip
    except DomainError as exc:
        db_session.rollback()
        field = supplier_error_field(exc)
        return render_suppliers(
            request, db_session, me=me, values=values,
            errors={field: exc.detail} if field else {}, error=None if field else exc.detail,
            status_code=int(exc.status_code),
        )  # fmt: skip
    if repeated:
        return redirect_with_flash(
            request, "/catalogue/suppliers", "Already added: that form was sent twice.", "info"
        )
    return redirect_with_flash(
        request, "/catalogue/suppliers", f"Added supplier {converted['name'].strip()}."
    )


def _supplier(session: Session, supplier_id: int) -> Supplier:
    if not 1 <= supplier_id <= MAX_ROW_ID:
        raise NotFound(f"No supplier with id {supplier_id}.")
    return catalogue.get_supplier(session, supplier_id)


@get("/catalogue/suppliers/{supplier_id:int}", guards=[can_edit], sync_to_thread=True)
def supplier_page(
    request: Request[Any, Any, Any], supplier_id: int, db_session: Session
) -> Template:
    return render_supplier(request, db_session, _supplier(db_session, supplier_id))


@post("/catalogue/suppliers/{supplier_id:int}", guards=[can_edit], sync_to_thread=True)
def update_supplier(
    request: Request[Any, Any, Any],
    supplier_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    supplier = _supplier(db_session, supplier_id)
    path = f"/catalogue/suppliers/{supplier.id}"
    values = {name: form_text(data, name) for name in SUPPLIER_FIELDS}
    converted, errors = convert_form_fields(values, SupplierCreate, required={"name"}, hints=HINTS)
    if errors:
        return render_supplier(
            request, db_session, supplier, values=values, errors=errors,
            error=invalid_form(len(errors)), status_code=422,
        )  # fmt: skip
    stored = supplier_values(supplier)
    changes = {k: v for k, v in converted.items() if values[k] != stored[k]}
    if not changes:
        return redirect_with_flash(request, "/catalogue/suppliers", "Nothing changed.", "info")
    try:
        repeated, _ = run_once(
            db_session, me=me, nonce=form_text(data, "nonce"), scope=f"page POST {path}",
            payload=_payload(data),
            action=lambda: catalogue.update_supplier(
                db_session, actor=me.username, supplier_id=supplier_id,
                data=SupplierUpdate(**changes),
            ).id,
        )  # fmt: skip
    except DomainError as exc:
        db_session.rollback()
        field = supplier_error_field(exc)
        return render_supplier(
            request, db_session, _supplier(db_session, supplier_id), values=values,
            errors={field: exc.detail} if field else {}, error=None if field else exc.detail,
            status_code=int(exc.status_code),
        )  # fmt: skip
    if repeated:
        return redirect_with_flash(
            request, "/catalogue/suppliers", "Already saved: that form was sent twice.", "info"
        )
    return redirect_with_flash(
        request,
        "/catalogue/suppliers",
        f"Saved supplier {supplier.name}: {', '.join(sorted(changes))}.",
    )


# --- locations -------------------------------------------------------------------------


def render_locations(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    me: CurrentUser,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    return render_page(
        request,
        "inventory/catalogue/locations.html",
        status_code=status_code,
        section="locations",
        locations=list(session.scalars(select(Location).order_by(Location.code))),
        par_counts=catalogue_search.location_par_counts(session),
        values=values or {"code": "", "name": ""},
        errors=errors or {},
        error=error,
        can_edit=acts(me),
        nonce=new_nonce(),
        quote=quote,
    )


@get("/catalogue/locations", guards=[can_view], sync_to_thread=True)
def locations_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_locations(request, db_session, me=me)


@post("/catalogue/locations", guards=[can_edit], sync_to_thread=True)
def create_location(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    values = {"code": form_text(data, "code"), "name": form_text(data, "name")}
    converted, errors = convert_form_fields(
        values, LocationCreate, required={"code", "name"}, hints=HINTS
    )
    if errors:
        return render_locations(
            request, db_session, me=me, values=values, errors=errors,
            error=invalid_form(len(errors)), status_code=422,
        )  # fmt: skip
    try:
        repeated, code = run_once(
            db_session, me=me, nonce=form_text(data, "nonce"),
            scope="page POST /catalogue/locations", payload=_payload(data),
            action=lambda: catalogue.create_location(
                db_session, actor=me.username, data=LocationCreate(**converted)
            ).code,
        )  # fmt: skip
    except DomainError as exc:
        db_session.rollback()
        return render_locations(
            request, db_session, me=me, values=values, errors={"code": exc.detail},
            status_code=int(exc.status_code),
        )  # fmt: skip
    if repeated:
        return redirect_with_flash(
            request, "/catalogue/locations", "Already added: that form was sent twice.", "info"
        )
    return redirect_with_flash(request, "/catalogue/locations", f"Added location {code}.")


def render_location(
    request: Request[Any, Any, Any],
    location: Location,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    return render_page(
        request,
        "inventory/catalogue/location_form.html",
        status_code=status_code,
        section="locations",
        location=location,
        values=values or {"name": location.name, "active": location.active},
        errors=errors or {},
        error=error,
        nonce=new_nonce(),
        quote=quote,
    )


@get("/catalogue/locations/{code:str}", guards=[can_edit], sync_to_thread=True)
def location_page(request: Request[Any, Any, Any], code: str, db_session: Session) -> Template:
    return render_location(request, catalogue.get_location(db_session, code))


@post("/catalogue/locations/{code:str}", guards=[can_edit], sync_to_thread=True)
def update_location(
    request: Request[Any, Any, Any], code: str, data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    """Rename, or take out of (back into) use."""
    location = catalogue.get_location(db_session, code)
    values: dict[str, Any] = {
        "name": form_text(data, "name"),
        "active": form_checked(data, "active"),
    }
    converted, errors = convert_form_fields(
        {"name": values["name"]}, LocationUpdate, required={"name"}, hints=HINTS
    )
    if errors:
        return render_location(
            request, location, values=values, errors=errors, error=invalid_form(len(errors)),
            status_code=422,
        )  # fmt: skip
    changes: dict[str, Any] = {}
    if converted["name"] != location.name:
        changes["name"] = converted["name"]
    if values["active"] != location.active:
        changes["active"] = values["active"]
    if not changes:
        return redirect_with_flash(request, "/catalogue/locations", "Nothing changed.", "info")
    try:
        repeated, _ = run_once(
            db_session, me=me, nonce=form_text(data, "nonce"),
            scope=f"page POST /catalogue/locations/{location.code}", payload=_payload(data),
            action=lambda: catalogue.update_location(
                db_session, actor=me.username, code=location.code, data=LocationUpdate(**changes)
            ).code,
        )  # fmt: skip
    except DomainError as exc:
        db_session.rollback()
        return render_location(
            request, catalogue.get_location(db_session, code), values=values,
            error=exc.detail, status_code=int(exc.status_code),
        )  # fmt: skip
    if repeated:
        return redirect_with_flash(
            request, "/catalogue/locations", "Already saved: that form was sent twice.", "info"
        )
    return redirect_with_flash(request, "/catalogue/locations", f"Saved location {location.code}.")


page_handlers: list[Any] = [
    items_page,
    new_item_page,
    create_item,
    item_page,
    update_item,
    par_levels_page,
    save_par_levels,
    suppliers_page,
    create_supplier,
    supplier_page,
    update_supplier,
    locations_page,
    create_location,
    location_page,
    update_location,
]
