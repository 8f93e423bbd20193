"""Purchase orders on the desktop: every order with a status filter, and a draft written
by hand (a supplier and lines of SKU and quantity).

The order's own page (lines, submit, receive with lot and expiry, deliveries received)
is in `inventory.purchasing_pages`. Handlers are thin: the rules are
`purchasing.list_pos` and `purchasing.create_po` (the API's functions, audited). A
refused draft is shown again with each error next to its field or line and every value
kept; nothing is written.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import catalogue, purchasing
from inventory.models import Supplier
from inventory.purchasing_models import PO_STATUSES
from inventory.purchasing_pages import STATUS_TAGS, acts, can_purchase, can_read, status_words
from inventory.purchasing_schemas import PoLineIn, PurchaseOrderCreate
from kernel.auth.service import CurrentUser
from kernel.problems import DomainError, InvalidInput
from kernel.web.forms import (
    FormData,
    domain_field_errors,
    field_errors,
    form_text,
    new_nonce,
    run_once,
)
from kernel.web.templating import redirect_with_flash, render_page

PAGE_SIZE = 100
MAX_PAGE = 10_000
DEFAULT_LINES = 8
MAX_LINES = 60
LINE_FIELD = re.compile(r"line-(\d{1,3})-(sku|quantity)")


def status_options() -> list[tuple[str, str]]:
    return [(status, status_words(status)) for status in PO_STATUSES]


@get("/purchasing/orders", guards=[can_read], sync_to_thread=True)
def orders_page(
    request: Request[Any, Any, Any],
    db_session: Session,
    me: CurrentUser,
    status: str = "",
    page: int = 1,
) -> Template:
    if status and status not in PO_STATUSES:
        raise InvalidInput(f"Unknown status {status[:40]!r}; choose one from the list.")
    page = min(max(page, 1), MAX_PAGE)
    orders, total = purchasing.list_pos(
        db_session, status=status or None, supplier_id=None, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    return render_page(
        request,
        "inventory/purchase_orders.html",
        orders=orders,
        total=total,
        status=status,
        page=page,
        has_next=page * PAGE_SIZE < total,
        status_options=status_options(),
        status_tags=STATUS_TAGS,
        status_words=status_words,
        can_act=acts(me),
    )


# A draft by hand ------------------------------------------------------------------------


def supplier_options(session: Session) -> list[tuple[int, str]]:
    return [(s.id or 0, s.name) for s in session.scalars(select(Supplier).order_by(Supplier.name))]


def render_new_order(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    line_count: int = DEFAULT_LINES,
    status_code: int = 200,
) -> Template:
    return render_page(
        request,
        "inventory/purchase_order_new.html",
        status_code=status_code,
        suppliers=supplier_options(session),
        form=form or {},
        errors=errors or {},
        error=error,
        line_count=min(max(line_count, 1), MAX_LINES),
        max_lines=MAX_LINES,
        nonce=new_nonce(),
    )


@get("/purchasing/orders/new", guards=[can_purchase], sync_to_thread=True)
def new_order_page(
    request: Request[Any, Any, Any], db_session: Session, lines: int = DEFAULT_LINES
) -> Template:
    return render_new_order(request, db_session, line_count=lines)


def draft_from_form(
    data: dict[str, Any],
) -> tuple[dict[str, str], dict[str, str], PurchaseOrderCreate | None, list[int]]:
    """The form's values (to show again), the errors by field, the draft (None when
    refused) and, per draft line, its form line number."""
    indexes = sorted({int(m.group(1)) for key in data if (m := LINE_FIELD.fullmatch(key))})
    indexes = [i for i in indexes if i < MAX_LINES]
    form = {k: form_text(data, k) for k in ("supplier_id", "notes")}
    errors: dict[str, str] = {}
    if not form["supplier_id"]:
        errors["supplier_id"] = "Choose a supplier."
    elif not form["supplier_id"].isdigit() or not 1 <= int(form["supplier_id"]) <= 2**31 - 1:
        errors["supplier_id"] = "Choose a supplier from the list."
    if len(form["notes"]) > 500:
        errors["notes"] = "At most 500 characters."
    lines: list[dict[str, str]] = []
    numbers: list[int] = []
    first_line: dict[str, int] = {}
    for i in indexes:
        sku, quantity = form_text(data, f"line-{i}-sku"), form_text(data, f"line-{i}-quantity")
        form[f"line-{i}-sku"], form[f"line-{i}-quantity"] = sku, quantity
        if not sku and not quantity:
            continue
        line = {k: v for k, v in (("sku", sku), ("quantity", quantity)) if v}
        for name, message in field_errors(line, PoLineIn).items():
            errors[f"line-{i}-{name}"] = message
        key = catalogue.normalize_sku(sku)
        if sku and f"line-{i}-sku" not in errors:
            if key in first_line:
                errors[f"line-{i}-sku"] = (
                    f"Already on line {first_line[key] + 1}; combine the two lines."
                )
            first_line.setdefault(key, i)
        lines.append(line)
        numbers.append(i)
    if not lines:
        errors[f"line-{indexes[0] if indexes else 0}-sku"] = "Enter at least one line."
    if errors:
        return form, errors, None, numbers
    draft = PurchaseOrderCreate(
        supplier_id=int(form["supplier_id"]),
        lines=[PoLineIn(sku=line["sku"], quantity=int(line["quantity"])) for line in lines],
        notes=form["notes"] or None,
    )
    return form, errors, draft, numbers


def draft_refusal_errors(
    exc: DomainError, draft: PurchaseOrderCreate, numbers: list[int]
) -> dict[str, str]:
    """A refused draft's errors by field: the supplier, or the lines of the SKUs named."""
    errors = domain_field_errors(exc)  # an unknown supplier: "supplier_id"
    skus = set(exc.extra.get("skus", []))
    for line, i in zip(draft.lines, numbers, strict=True):
        if catalogue.normalize_sku(line.sku) in skus:
            errors[f"line-{i}-sku"] = exc.detail
    return errors


@post("/purchasing/orders", guards=[can_purchase], sync_to_thread=True)
def create_order(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    form, errors, draft, numbers = draft_from_form(data)
    line_count = max([DEFAULT_LINES, *(n + 1 for n in numbers)])
    if form_text(data, "more"):  # "More lines": the same form, longer, nothing checked yet
        shown = len([k for k in form if k.endswith("-sku")])
        return render_new_order(
            request, db_session, form=form, line_count=max(line_count, shown) + DEFAULT_LINES
        )
    if draft is None:
        return render_new_order(
            request, db_session, form=form, errors=errors, line_count=line_count, status_code=422
        )
    try:
        repeated, po_id = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope="page POST /purchasing/orders",
            payload={k: v for k, v in data.items() if k not in ("_csrf_token", "nonce")},
            action=lambda: purchasing.create_po(db_session, actor=me.username, data=draft).id,
        )
    except DomainError as exc:
        db_session.rollback()
        found = draft_refusal_errors(exc, draft, numbers)
        return render_new_order(
            request, db_session, form=form, errors=found, line_count=line_count,
            error=None if found else exc.detail, status_code=int(exc.status_code),
        )  # fmt: skip
    number = purchasing.po_number(po_id)
    path = f"/purchasing/orders/{po_id}"
    if repeated:
        return redirect_with_flash(
            request, path, f"Already created (the form was sent twice): {number}.", "info"
        )
    return redirect_with_flash(
        request, path, f"Created draft {number}. Check it, then submit it when it is sent."
    )


page_handlers: list[Any] = [orders_page, new_order_page, create_order]
