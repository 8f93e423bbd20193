"""The purchasing page: this week's reorder suggestions per supplier, the reorder CSV
through the session cookie, drafts from the suggestions, open orders (submit) and a
delivery form per order (receive).

Handlers are thin: the figures come from `inventory.reorder`, the order rules from
`inventory.purchasing` (the same functions as the API). A refusal (over-receipt, a
missing lot) is shown on the page with its reason and nothing is written. Each form
carries a nonce used as an `Idempotency-Key`, so a double tap acts once.
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import catalogue, purchasing, reorder
from inventory.models import Location
from inventory.purchasing_schemas import ReceiveIn, ReceiveLineIn
from inventory.purchasing_views import clinic_today, reorder_csv_response
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.problems import DomainError, InvalidInput, NotFound
from kernel.web.forms import (
    FormData,
    convert_form,
    domain_field_errors,
    field_errors,
    form_text,
    new_nonce,
    run_once,
)
from kernel.web.templating import redirect_with_flash, render_page

can_read = requires_role(Role.MA, Role.PURCHASING, Role.AUDITOR)
can_purchase = requires_role(Role.PURCHASING)
OPEN_STATUSES = ("draft", "submitted", "partially_received")
MAX_OPEN_SHOWN = 200
MAX_ROW_ID = 2_147_483_647
LINE_SKU = re.compile(r"line-(\d{1,4})-sku")
STATUS_TAGS = {"draft": "info", "submitted": "warn", "partially_received": "warn",
               "received": "ok", "cancelled": "stop"}  # fmt: skip
RECEIVE_LABELS = {"location": "Location", "lines": "Lines", "quantity": "Quantity",
                  "lot": "Lot", "expires_on": "Expiry date"}  # fmt: skip


def acts(me: CurrentUser) -> bool:
    return me.role in (Role.PURCHASING, Role.ADMIN)


def status_words(status: str) -> str:
    return status.replace("_", " ")


def render_purchasing(
    request: Request[Any, Any, Any],
    session: Session,
    state: State,
    *,
    me: CurrentUser,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    df = reorder.suggestions(session, today=clinic_today(state), tz=state.settings.tz)
    rows = reorder.records(df)
    groups = [
        {"supplier": supplier, "rows": list(group)}
        for supplier, group in groupby(rows, key=lambda r: r["supplier"])
    ]
    orders = []
    for status in OPEN_STATUSES:
        found, _ = purchasing.list_pos(
            session, status=status, supplier_id=None, limit=MAX_OPEN_SHOWN, offset=0
        )
        orders.extend(found)
    orders.sort(key=lambda o: o.id, reverse=True)
    return render_page(
        request,
        "inventory/purchasing.html",
        status_code=status_code,
        groups=groups,
        suggestion_count=len(rows),
        orders=orders,
        can_act=acts(me),
        status_tags=STATUS_TAGS,
        status_words=status_words,
        error=error,
        nonces={"from_suggestions": new_nonce()} | {f"submit-{o.id}": new_nonce() for o in orders},
    )


@get("/purchasing", guards=[can_read], sync_to_thread=True)
def purchasing_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser, state: State
) -> Template:
    return render_purchasing(request, db_session, state, me=me)


@get("/purchasing/reorder.csv", guards=[can_read], sync_to_thread=True, media_type="text/csv")
def reorder_csv(db_session: Session, state: State) -> Response[bytes]:
    """The API's CSV (same function, bytes and filename), with the session cookie."""
    return reorder_csv_response(db_session, state, None, parallel=False)


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("_csrf_token", "nonce")}


@post("/purchasing/from-suggestions", guards=[can_purchase], sync_to_thread=True)
def from_suggestions(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    try:
        repeated, out = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope="page POST /purchasing/from-suggestions",
            payload=_payload(data),
            action=lambda: purchasing.create_from_suggestions(
                db_session, actor=me.username, today=clinic_today(state), tz=state.settings.tz,
                supplier_id=None,
            ),
        )  # fmt: skip
    except DomainError as exc:
        db_session.rollback()
        return render_purchasing(
            request, db_session, state, me=me, error=exc.detail, status_code=int(exc.status_code)
        )
    if repeated:
        return redirect_with_flash(
            request, "/purchasing", "Already recorded: that form was sent twice.", "info"
        )
    numbers = [po["number"] for po in out["items"]]
    if numbers:
        text = f"Created {len(numbers)} draft order{'s' if len(numbers) != 1 else ''}: "
        text += ", ".join(numbers) + ". Check them, then submit."
    else:
        text = "No new drafts: nothing to order that is not already on a draft."
    if out["skipped"]:
        text += f" Skipped (already on a draft or no supplier): {', '.join(out['skipped'])}."
    return redirect_with_flash(request, "/purchasing", text, "success" if numbers else "info")


def _check_id(po_id: int) -> None:
    if not 1 <= po_id <= MAX_ROW_ID:
        raise NotFound(f"No purchase order {purchasing.po_number(max(po_id, 0))}.")


@post("/purchasing/orders/{po_id:int}/submit", guards=[can_purchase], sync_to_thread=True)
def submit_order(
    request: Request[Any, Any, Any],
    po_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    _check_id(po_id)
    number = purchasing.po_number(po_id)
    try:
        repeated, _ = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope=f"page POST /purchasing/orders/{po_id}/submit",
            payload=_payload(data),
            action=lambda: purchasing.submit(db_session, actor=me.username, po_id=po_id).status,
        )
    except DomainError as exc:
        db_session.rollback()
        if form_text(data, "back") == "order":
            return render_order(request, db_session, po_id, me=me, error=exc.detail,
                                status_code=int(exc.status_code))  # fmt: skip
        return render_purchasing(
            request, db_session, state, me=me, error=exc.detail, status_code=int(exc.status_code)
        )
    back = f"/purchasing/orders/{po_id}" if form_text(data, "back") == "order" else "/purchasing"
    if repeated:
        return redirect_with_flash(
            request, back, f"Already submitted (the form was sent twice): {number}.", "info"
        )
    return redirect_with_flash(
        request, back, f"Submitted {number}: its quantities now count as on order."
    )


# One order: lines and the delivery form -------------------------------------------


def render_order(
    request: Request[Any, Any, Any],
    session: Session,
    po_id: int,
    *,
    me: CurrentUser,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    _check_id(po_id)
    order = purchasing.po_out(session, purchasing.get_po(session, po_id))
    lot_tracked = {line.sku: catalogue.get_item(session, line.sku).lot_tracked
                   for line in order.lines}  # fmt: skip
    locations = list(
        session.scalars(
            select(Location.code).where(Location.active.is_(True)).order_by(Location.code)
        )
    )
    return render_page(
        request,
        "inventory/purchase_order.html",
        status_code=status_code,
        order=order,
        lot_tracked=lot_tracked,
        location_options=[(code, code) for code in locations],
        can_receive=acts(me) and order.status in purchasing.OPEN_FOR_RECEIPT,
        can_submit=acts(me) and order.status == "draft",
        status_tags=STATUS_TAGS,
        status_words=status_words,
        error=error,
        form=form or {},
        errors=errors or {},
        receipts=purchasing.po_receipts(session, po_id),
        local_text=lambda at: at.astimezone(request.app.state.settings.tz).strftime(
            "%Y-%m-%d %H:%M"
        ),
        nonce=new_nonce(),
        submit_nonce=new_nonce(),
    )


@get("/purchasing/orders/{po_id:int}", guards=[can_read], sync_to_thread=True)
def order_page(
    request: Request[Any, Any, Any], po_id: int, db_session: Session, me: CurrentUser
) -> Template:
    return render_order(request, db_session, po_id, me=me)


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


LINE_OF_DETAIL = re.compile(r"^Line (\d+)\b")


def receipt_field_errors(
    exc: DomainError, receipt: ReceiveIn | None, numbers: list[int]
) -> dict[str, str]:
    """A refused delivery's errors by form field: from the form itself, an over-receipt
    (on the quantity of that SKU's line), or a ledger rule about line k (its lot or expiry
    field, else its quantity)."""
    if "form_errors" in exc.extra:
        return dict(exc.extra["form_errors"])
    if receipt is None:
        return {}
    errors: dict[str, str] = {}
    if exc.detail.startswith("No location"):  # removed since the page was shown
        errors["location"] = exc.detail
    by_sku = {catalogue.normalize_sku(line.sku): n
              for line, n in zip(receipt.lines, numbers, strict=True)}  # fmt: skip
    for over in exc.extra.get("lines", []):
        if isinstance(over, dict) and over.get("sku") in by_sku:
            errors[f"line-{by_sku[over['sku']]}-quantity"] = (
                f"Only {over['outstanding']} outstanding."
            )
    if found := LINE_OF_DETAIL.match(exc.detail):
        k = int(found.group(1)) - 1
        if 0 <= k < len(numbers):
            field = next(iter(domain_field_errors(exc)), "quantity")
            field = field if field in ("lot", "expires_on") else "quantity"
            errors[f"line-{numbers[k]}-{field}"] = exc.detail.split(": ", 1)[-1].removesuffix(
                " Nothing from this delivery was recorded."
            )
    return errors


@post("/purchasing/orders/{po_id:int}/receive", guards=[can_purchase], sync_to_thread=True)
def receive_order(
    request: Request[Any, Any, Any],
    po_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    _check_id(po_id)
    purchasing.get_po(db_session, po_id)  # 404 for an unknown order
    path = f"/purchasing/orders/{po_id}"
    receipt: ReceiveIn | None = None
    numbers: list[int] = []
    try:
        receipt, numbers = receipt_from_form(data)
        repeated, out = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope=f"page POST {path}/receive",
            payload=_payload(data),
            action=lambda: purchasing.receive(
                db_session, actor=me.username, po_id=po_id, data=receipt,  # type: ignore[arg-type]
                today=clinic_today(state),
            ),
        )  # fmt: skip
    except DomainError as exc:
        db_session.rollback()
        return render_order(
            request,
            db_session,
            po_id,
            me=me,
            error=exc.detail,
            status_code=int(exc.status_code),
            form={k: form_text(data, k) for k in data if k not in ("_csrf_token", "nonce")},
            errors=receipt_field_errors(exc, receipt, numbers),
        )
    if repeated:
        return redirect_with_flash(
            request, path, "Already recorded: that form was sent twice; nothing more was done.",
            "info",
        )  # fmt: skip
    order = out["purchase_order"]
    units = sum(m["quantity"] for m in out["movements"])
    text = (
        f"Received {units} unit{'s' if units != 1 else ''} on {order['number']} into "
        f"{receipt.location}; the order is now {status_words(order['status'])}."
    )
    return redirect_with_flash(request, path, text)


page_handlers: list[Any] = [
    purchasing_page,
    reorder_csv,
    from_suggestions,
    submit_order,
    order_page,
    receive_order,
]
