"""`/b/{location}/{sku}`: the tablet page a bin label opens (take, count, receive).

The rules (stock never negative, expired lots never taken, lot and expiry on receipt of a
lot-tracked item) live in `inventory.ledger`; a refusal is shown on the bin page with its
reason and nothing is written. Each form carries a nonce used as an `Idempotency-Key`, so
a double tap on "Take 1" takes one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import ledger, lookups, stock_queries
from inventory.pages.form_messages import refusal_detail
from inventory.roles import can_move_stock, check_kind_allowed
from inventory.schemas.stock import MovementIn
from kernel.auth.guards import any_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.problems import InvalidInput
from kernel.web.forms import FormData, convert_form, form_text, new_nonce, submit_form
from kernel.web.templating import render_page

ACTIONS = {"take": "consume", "count": "count", "receive": "receive"}
LABELS = {
    "quantity": "Quantity",
    "lot": "Lot",
    "expires_on": "Expiry date",
    "sku": "SKU",
    "location": "Location",
}
ALREADY_RECORDED = "Already recorded: that form was sent twice; nothing more was done."


def bin_path(location: str, sku: str) -> str:
    """The bin's URL; a `/` in a SKU is percent-quoted (see docs/pages.md)."""
    return f"/b/{quote(location, safe='')}/{quote(sku, safe='')}"


def render_bin(
    request: Request[Any, Any, Any],
    session: Session,
    clock: Clock,
    *,
    location: str,
    sku: str,
    me: CurrentUser,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Template:
    item = lookups.get_item(session, sku)
    loc = lookups.get_location(session, location)
    rows, _ = stock_queries.stock_rows(
        session, location=loc.code, sku=item.sku, below_reorder=False, limit=1, offset=0
    )
    level = rows[0] if rows else None
    lots = stock_queries.lots_in_bin(session, sku=item.sku, location=loc.code, today=clock.today())
    on_hand = level.on_hand if level else 0
    expired = sum(lot.quantity for lot in lots if lot.expired)
    reorder_point = level.reorder_point if level else None
    return render_page(
        request,
        "inventory/bin.html",
        status_code=status_code,
        item=item,
        location=loc,
        on_hand=on_hand,
        expired=expired,
        par_level=level.par_level if level else None,
        reorder_point=reorder_point,
        below_reorder=reorder_point is not None and on_hand <= reorder_point,
        lots=lots,
        path=bin_path(loc.code, item.sku),
        can_take=me.role in (Role.MA, Role.ADMIN),
        can_receive=me.role in (Role.MA, Role.PURCHASING, Role.ADMIN),
        error=error,
        form=form or {},
        nonces={name: new_nonce() for name in ("take1", "take", "count", "receive")},
    )


@get("/b/{location:str}/{sku:path}", guards=[any_role], sync_to_thread=True)
def bin_page(
    request: Request[Any, Any, Any],
    location: str,
    sku: str,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Template:
    return render_bin(request, db_session, clock, location=location, sku=sku.lstrip("/"), me=me)


def movement_from_form(data: dict[str, Any], *, action: str, sku: str, location: str) -> MovementIn:
    """The stock action a bin form asks for, checked against the API's schema."""
    if action not in ACTIONS:
        raise InvalidInput("Choose Take, Count or Receive.")
    quantity = form_text(data, "quantity")
    if not quantity:
        raise InvalidInput("Enter a quantity.")
    values: dict[str, Any] = {
        "kind": ACTIONS[action], "sku": sku, "location": location, "quantity": quantity,
    }  # fmt: skip
    lot, expires_on = form_text(data, "lot"), form_text(data, "expires_on")
    if lot:
        values["lot"] = lot
    if expires_on:
        values["expires_on"] = expires_on
    movement: MovementIn = convert_form(values, MovementIn, LABELS)
    return movement


def done_message(action: str, out: dict[str, Any], unit: str, name: str) -> str:
    left = f"{out['on_hand_after']} {unit} on hand now."
    if action == "take":
        return f"Took {out['quantity']} {unit} of {name}. {left}"
    if action == "receive":
        lot = f" (lot {out['lot']})" if out["lot"] else ""
        return f"Received {out['quantity']} {unit} of {name}{lot}. {left}"
    return f"Count saved: {out['on_hand_after']} {unit} of {name}."


@post("/b/{location:str}/{sku:path}", guards=[can_move_stock], sync_to_thread=True)
def record_bin_action(
    request: Request[Any, Any, Any],
    location: str,
    sku: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    """One form post: `action` is take, count or receive."""
    item = lookups.get_item(db_session, sku.lstrip("/"))  # 404 for an unknown bin
    loc = lookups.get_location(db_session, location)
    action = form_text(data, "action")
    path = bin_path(loc.code, item.sku)

    def record() -> Any:
        movement = movement_from_form(data, action=action, sku=item.sku, location=loc.code)
        check_kind_allowed(me, movement.kind)
        return ledger.record_movement(
            db_session, actor=me.username, data=movement, today=clock.today(), now=clock.now()
        )

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {path}", action=record,
        rerender=lambda refusal: render_bin(
            request, db_session, clock, location=loc.code, sku=item.sku, me=me,
            error=refusal_detail(refusal),
            status_code=refusal.status_code,
            form={"action": action}
            | {k: form_text(data, k) for k in ("quantity", "lot", "expires_on")},
        ),
        done=lambda out: (path, done_message(action, out, item.unit, item.name)),
        again=ALREADY_RECORDED,
    )  # fmt: skip


page_handlers: list[Any] = [bin_page, record_bin_action]
