"""`/purchasing/orders`: every order with a status filter, a draft written by hand (a
supplier and lines of SKU and quantity), one order's page (lines, deliveries received),
and its submit and receive forms (lot and expiry per line).

The rules are `inventory.purchasing`'s (the API's functions, audited). A refused form is
shown again with each error next to its field or line and every value kept; nothing is
written.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import catalogue_queries, lookups, purchasing
from inventory.models import PO_STATUSES
from inventory.pages.form_messages import refusal_detail
from inventory.pages.paging import MAX_ROW_ID
from inventory.pages.purchasing import STATUS_TAGS, render_purchasing, status_words
from inventory.po_pdf import po_pdf_response
from inventory.roles import can_purchase, can_read, keeps_catalogue
from inventory.schemas.purchasing import PoLineIn, PurchaseOrderCreate, ReceiveIn, ReceiveLineIn
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.problems import DomainError, InvalidInput, NotFound
from kernel.sites import SiteScope
from kernel.web.forms import (
    FormData,
    FormRefusal,
    convert_form,
    domain_field_errors,
    field_errors,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import render_page

ORDERS = "/purchasing/orders"
PAGE_SIZE = 100
MAX_PAGE = 10_000
DEFAULT_LINES = 8
MAX_LINES = 60
LINE_FIELD = re.compile(r"line-(\d{1,3})-(sku|quantity)")
LINE_SKU = re.compile(r"line-(\d{1,4})-sku")
RULE_LINE_FIELD = re.compile(r"lines\[(\d+)\]\.(\w+)")
RECEIVE_LABELS = {"location": "Location", "lines": "Lines", "quantity": "Quantity",
                  "lot": "Lot", "expires_on": "Expiry date"}  # fmt: skip


def status_options() -> list[tuple[str, str]]:
    return [(status, status_words(status)) for status in PO_STATUSES]


def check_po_id(po_id: int) -> None:
    if not 1 <= po_id <= MAX_ROW_ID:
        raise NotFound(f"No purchase order {purchasing.po_number(max(po_id, 0))}.")


@get(ORDERS, guards=[can_read], sync_to_thread=True)
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
        can_act=keeps_catalogue(me),
    )


# --- a draft by hand -------------------------------------------------------------------


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
        suppliers=catalogue_queries.supplier_choices(session),
        form=form or {},
        errors=errors or {},
        error=error,
        line_count=min(max(line_count, 1), MAX_LINES),
        max_lines=MAX_LINES,
        nonce=new_nonce(),
    )


@get(f"{ORDERS}/new", guards=[can_purchase], sync_to_thread=True)
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
    elif not form["supplier_id"].isdigit() or not 1 <= int(form["supplier_id"]) <= MAX_ROW_ID:
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
        key = lookups.normalize_sku(sku)
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
        if lookups.normalize_sku(line.sku) in skus:
            errors[f"line-{i}-sku"] = exc.detail
    return errors


@post(ORDERS, guards=[can_purchase], sync_to_thread=True)
def create_order(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    sites: SiteScope,
) -> Response[Any]:
    form, errors, draft, numbers = draft_from_form(data)
    line_count = max([DEFAULT_LINES, *(n + 1 for n in numbers)])
    if form_text(data, "more"):  # "More lines": the same form, longer, nothing checked yet
        shown = len([k for k in form if k.endswith("-sku")])
        return render_new_order(
            request, db_session, form=form, line_count=max(line_count, shown) + DEFAULT_LINES
        )

    def rerender(refusal: FormRefusal) -> Template:
        found = refusal.errors
        if refusal.error is not None and draft is not None:
            found = draft_refusal_errors(refusal.error, draft, numbers)
        return render_new_order(
            request, db_session, form=form, errors=found, line_count=line_count,
            error=None if found else refusal.message, status_code=refusal.status_code,
        )  # fmt: skip

    def created(po_id: int) -> tuple[str, str]:
        text = "Check it, then submit it when it is sent."
        return f"{ORDERS}/{po_id}", f"Created draft {purchasing.po_number(po_id)}. {text}"

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {ORDERS}", errors=errors,
        action=lambda: purchasing.create_po(
            db_session, actor=me.username, data=draft,  # type: ignore[arg-type]
            site_id=sites.site_for_write(form_text(data, "site") or None).id,
        ).id,
        rerender=rerender, done=created,
        again=lambda po_id: (
            f"Already created (the form was sent twice): {purchasing.po_number(po_id)}."
        ),
    )  # fmt: skip


# --- one order -------------------------------------------------------------------------


def render_order(
    request: Request[Any, Any, Any],
    session: Session,
    clock: Clock,
    po_id: int,
    *,
    me: CurrentUser,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    check_po_id(po_id)
    order = purchasing.po_out(session, purchasing.get_po(session, po_id))
    lot_tracked = {line.sku: lookups.get_item(session, line.sku).lot_tracked
                   for line in order.lines}  # fmt: skip
    locations = catalogue_queries.active_location_codes(session)
    return render_page(
        request,
        "inventory/purchase_order.html",
        status_code=status_code,
        order=order,
        lot_tracked=lot_tracked,
        location_options=[(code, code) for code in locations],
        can_receive=keeps_catalogue(me) and order.status in purchasing.OPEN_FOR_RECEIPT,
        can_submit=keeps_catalogue(me) and order.status == "draft",
        status_tags=STATUS_TAGS,
        status_words=status_words,
        error=error,
        form=form or {},
        errors=errors or {},
        receipts=purchasing.po_receipts(session, po_id),
        local_text=clock.local_text,
        nonce=new_nonce(),
        submit_nonce=new_nonce(),
    )


@get(f"{ORDERS}/{{po_id:int}}", guards=[can_read], sync_to_thread=True)
def order_page(
    request: Request[Any, Any, Any], po_id: int, db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    return render_order(request, db_session, clock, po_id, me=me)


@get(
    f"{ORDERS}/{{po_id:int}}/pdf",
    guards=[can_read],
    sync_to_thread=True,
    media_type="application/pdf",
    opt={"path_alias": f"{ORDERS}/{{po_id}}.pdf"},
)
def order_pdf_page(po_id: int, db_session: Session, state: State, clock: Clock) -> Response[bytes]:
    """The API's printable order (same function and bytes), with the session cookie."""
    check_po_id(po_id)
    return po_pdf_response(db_session, state.settings, clock, po_id)


@post(f"{ORDERS}/{{po_id:int}}/submit", guards=[can_purchase], sync_to_thread=True)
def submit_order(
    request: Request[Any, Any, Any],
    po_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    """From the order's page (`back=order`) or the purchasing page's list of open orders."""
    check_po_id(po_id)
    number = purchasing.po_number(po_id)
    from_order = form_text(data, "back") == "order"
    back = f"{ORDERS}/{po_id}" if from_order else "/purchasing"

    def rerender(refusal: FormRefusal) -> Template:
        error, status_code = refusal_detail(refusal), refusal.status_code
        if from_order:
            return render_order(
                request, db_session, clock, po_id, me=me, error=error, status_code=status_code
            )
        return render_purchasing(
            request, db_session, clock, me=me, error=error, status_code=status_code
        )

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {ORDERS}/{po_id}/submit",
        action=lambda: purchasing.submit(db_session, actor=me.username, po_id=po_id).status,
        rerender=rerender,
        done=lambda _: (back, f"Submitted {number}: its quantities now count as on order."),
        again=f"Already submitted (the form was sent twice): {number}.",
    )  # fmt: skip


def receipt_from_form(data: dict[str, Any]) -> tuple[ReceiveIn, list[int]]:
    """`location` plus `line-N-sku`, `line-N-quantity` (blank or 0: not in this delivery),
    `line-N-lot`, `line-N-expires_on`, validated with the API's `ReceiveIn`. Returns the
    receipt and, per receipt line, its form line number N. Bad fields are refused together
    (`InvalidInput` with `form_errors`: form field name → message)."""
    errors: dict[str, str] = {}
    location = form_text(data, "location")
    if not location:
        errors["location"] = "Choose the location the delivery goes to."
    lines = []
    numbers = []
    # complete lines have no fields, so the numbers have gaps
    indexes = sorted(int(m.group(1)) for key in data if (m := LINE_SKU.fullmatch(key)))
    for index in indexes:
        quantity = form_text(data, f"line-{index}-quantity")
        if quantity and quantity != "0":
            line: dict[str, Any] = {"sku": form_text(data, f"line-{index}-sku"),
                                    "quantity": quantity}  # fmt: skip
            for name in ("lot", "expires_on"):
                if value := form_text(data, f"line-{index}-{name}"):
                    line[name] = value
            for name, message in field_errors(line, ReceiveLineIn).items():
                errors[f"line-{index}-{name}"] = message
            lines.append(line)
            numbers.append(index)
    if not lines and not errors:
        raise InvalidInput("Enter the quantity received on at least one line.")
    if errors:
        raise InvalidInput("Check the highlighted fields.", extra={"form_errors": errors})
    receipt: ReceiveIn = convert_form({"location": location, "lines": lines}, ReceiveIn,
                                      RECEIVE_LABELS)  # fmt: skip
    return receipt, numbers


def receipt_field_errors(
    exc: DomainError, receipt: ReceiveIn | None, numbers: list[int]
) -> dict[str, str]:
    """A refused delivery's errors by form field: from the form itself, the location, an
    over-receipt (on the quantity of that SKU's line), or a rule about line k (the field
    the rule names, `lines[k].lot`: its lot or expiry field, else its quantity)."""
    if "form_errors" in exc.extra:
        return dict(exc.extra["form_errors"])
    if receipt is None:
        return {}
    errors: dict[str, str] = {}
    if exc.field == "location":  # removed since the page was shown
        errors["location"] = exc.detail
    by_sku = {lookups.normalize_sku(line.sku): n
              for line, n in zip(receipt.lines, numbers, strict=True)}  # fmt: skip
    for over in exc.extra.get("lines", []):
        if isinstance(over, dict) and over.get("sku") in by_sku:
            errors[f"line-{by_sku[over['sku']]}-quantity"] = (
                f"Only {over['outstanding']} outstanding."
            )
    if exc.field and (found := RULE_LINE_FIELD.fullmatch(exc.field)):
        k, field = int(found.group(1)), found.group(2)
        if 0 <= k < len(numbers):
            cause = exc.__cause__
            reason = cause.detail if isinstance(cause, DomainError) else exc.detail
            field = field if field in ("lot", "expires_on") else "quantity"
            errors[f"line-{numbers[k]}-{field}"] = reason.removeprefix(f"Line {k + 1}: ")
    return errors


@post(f"{ORDERS}/{{po_id:int}}/receive", guards=[can_purchase], sync_to_thread=True)
def receive_order(
    request: Request[Any, Any, Any],
    po_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    check_po_id(po_id)
    purchasing.get_po(db_session, po_id)  # 404 for an unknown order
    path = f"{ORDERS}/{po_id}"
    read: dict[str, Any] = {"receipt": None, "numbers": []}

    def receive() -> Any:
        read["receipt"], read["numbers"] = receipt_from_form(data)
        return purchasing.receive(
            db_session,
            actor=me.username,
            po_id=po_id,
            data=read["receipt"],
            today=clock.today(),
            now=clock.now(),
        )

    def rerender(refusal: FormRefusal) -> Template:
        assert refusal.error is not None
        return render_order(
            request, db_session, clock, po_id, me=me, error=refusal.error.detail,
            status_code=refusal.status_code,
            form={k: form_text(data, k) for k in data if k not in ("_csrf_token", "nonce")},
            errors=receipt_field_errors(refusal.error, read["receipt"], read["numbers"]),
        )  # fmt: skip

    def received(out: dict[str, Any]) -> tuple[str, str]:
        order = out["purchase_order"]
        units = sum(m["quantity"] for m in out["movements"])
        return path, (
            f"Received {units} unit{'s' if units != 1 else ''} on {order['number']} into "
            f"{form_text(data, 'location')}; the order is now {status_words(order['status'])}."
        )

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {path}/receive",
        action=receive, rerender=rerender, done=received,
        again="Already recorded: that form was sent twice; nothing more was done.",
    )  # fmt: skip


page_handlers: list[Any] = [
    orders_page,
    new_order_page,
    create_order,
    order_page,
    order_pdf_page,
    submit_order,
    receive_order,
]
