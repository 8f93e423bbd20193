"""`/purchasing`: this week's reorder suggestions per supplier, the reorder CSV through the
session cookie, drafts from the suggestions, and the open orders (each with a submit
button; the order pages are `inventory.pages.purchase_orders`).

The figures come from `inventory.reorder`, the order rules from `inventory.purchasing`
(the API's functions). A refusal is shown on the page with its reason and nothing is
written; each form carries a nonce used as an `Idempotency-Key`, so a double tap acts once.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import order_formats, purchasing, reorder
from inventory.api.params import SupplierFilter
from inventory.api.reorder import FileFormat, reorder_csv
from inventory.pages.form_messages import refusal_detail
from inventory.roles import can_purchase, can_read, keeps_catalogue
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.sites import SiteScope
from kernel.web.forms import FormData, form_text, new_nonce, submit_form
from kernel.web.templating import render_page

OPEN_STATUSES = ("draft", "submitted", "partially_received")
MAX_OPEN_SHOWN = 200
STATUS_TAGS = {"draft": "info", "submitted": "warn", "partially_received": "warn",
               "received": "ok", "cancelled": "stop"}  # fmt: skip


def status_words(status: str) -> str:
    return status.replace("_", " ")


def render_purchasing(
    request: Request[Any, Any, Any],
    session: Session,
    clock: Clock,
    *,
    me: CurrentUser,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    df = reorder.suggestions(session, today=clock.today(), zone=clock.zone)
    rows = reorder.records(df)
    groups = [
        {"supplier": supplier, "rows": list(group)}
        for supplier, group in groupby(rows, key=lambda r: r["supplier"])
    ]
    with_layout = order_formats.has_order_format(
        session, [g["rows"][0]["supplier_id"] for g in groups if g["rows"][0]["supplier_id"]]
    )
    for group in groups:
        supplier_id = group["rows"][0]["supplier_id"]
        group["supplier_id"] = supplier_id
        group["order_file"] = supplier_id in with_layout
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
        can_act=keeps_catalogue(me),
        status_tags=STATUS_TAGS,
        status_words=status_words,
        error=error,
        nonces={"from_suggestions": new_nonce()} | {f"submit-{o.id}": new_nonce() for o in orders},
    )


@get("/purchasing", guards=[can_read], sync_to_thread=True)
def purchasing_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    return render_purchasing(request, db_session, clock, me=me)


@get("/purchasing/reorder.csv", guards=[can_read], sync_to_thread=True, media_type="text/csv")
def download_reorder_csv_page(
    db_session: Session,
    clock: Clock,
    supplier_id: SupplierFilter = None,
    file_format: FileFormat = "standard",
) -> Response[bytes]:
    """The API's CSV or a supplier's order file (same function, bytes and filename), with
    the session cookie."""
    return reorder_csv(db_session, clock, supplier_id, file_format=file_format, parallel=False)


def drafts_created(out: dict[str, Any]) -> tuple[str, str, str]:
    numbers = [po["number"] for po in out["items"]]
    if numbers:
        text = f"Created {len(numbers)} draft order{'s' if len(numbers) != 1 else ''}: "
        text += ", ".join(numbers) + ". Check them, then submit."
    else:
        text = "No new drafts: nothing to order that is not already on a draft."
    if out["skipped"]:
        text += f" Skipped (already on a draft or no supplier): {', '.join(out['skipped'])}."
    return "/purchasing", text, "success" if numbers else "info"


@post("/purchasing/from-suggestions", guards=[can_purchase], sync_to_thread=True)
def create_drafts_from_suggestions(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
    sites: SiteScope,
) -> Response[Any]:
    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /purchasing/from-suggestions",
        action=lambda: purchasing.create_from_suggestions(
            db_session, actor=me.username, today=clock.today(), zone=clock.zone,
            supplier_id=None, site_id=sites.site_for_write(form_text(data, "site") or None).id,
        ),
        rerender=lambda refusal: render_purchasing(
            request, db_session, clock, me=me, error=refusal_detail(refusal),
            status_code=refusal.status_code,
        ),
        done=drafts_created,
        again="Already recorded: that form was sent twice.",
    )  # fmt: skip


page_handlers: list[Any] = [
    purchasing_page,
    download_reorder_csv_page,
    create_drafts_from_suggestions,
]
