"""Packaging levels on the item page (`/catalogue/items/{sku}`): add one (its GTIN, units
and name) or remove one nothing was received in. Purchasing and admin; the rules are
`inventory.packagings`' (the API's functions). A refused form comes back on the item page
with the error at its field; nothing is written.

The forms post to `/catalogue/packagings[...]` with the SKU as a field: the item page's
own path takes every path below `/catalogue/items/` (SKUs may hold a `/`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from sqlalchemy.orm import Session

from inventory import lookups, packagings
from inventory.pages.form_messages import HINTS, refusal_message
from inventory.pages.items import PACKAGING_FIELDS, item_path, item_values, render_item_form
from inventory.pages.paging import MAX_ROW_ID
from inventory.roles import can_keep_catalogue
from inventory.schemas.catalogue import PackagingCreate
from kernel.auth.service import CurrentUser
from kernel.problems import NotFound
from kernel.web.forms import FormData, FormRefusal, convert_form_fields, form_text, submit_form

PACKAGING_LABELS = {"gtin": "GTIN", "units": "Units", "name": "Name"}
PACKAGING_HINTS = HINTS | {"units": "A whole number of units, at least 1.",
                           "name": "A name like box or case (up to 40 characters)."}  # fmt: skip


def _item(session: Session, data: dict[str, Any]) -> Any:
    sku = form_text(data, "sku")
    if not sku:
        raise NotFound("No item given.")
    return lookups.get_item(session, sku)


@post("/catalogue/packagings", guards=[can_keep_catalogue], sync_to_thread=True)
def add_packaging(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    item = _item(db_session, data)
    sku, path = item.sku, item_path(item.sku)
    values = {name: form_text(data, name) for name in PACKAGING_FIELDS}
    converted, errors = convert_form_fields(
        values, PackagingCreate, required=set(PACKAGING_FIELDS), hints=PACKAGING_HINTS
    )

    def rerender(refusal: FormRefusal) -> Any:
        again = lookups.get_item(db_session, sku)
        return render_item_form(
            request, db_session, me=me, item=again, values=item_values(again),
            status_code=refusal.status_code,
            packaging={"values": values, "errors": refusal.errors,
                       "error": refusal_message(refusal)},
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /catalogue/packagings",
        errors=errors,
        action=lambda: packagings.add_packaging(
            db_session, actor=me.username, sku=sku, data=PackagingCreate(**converted)
        ).gtin,
        rerender=rerender,
        done=lambda gtin: (path, f"Added the {converted['name'].strip()} of "
                                 f"{converted['units']} (GTIN {gtin}) to {sku}."),
        again="Already added: that form was sent twice.",
    )  # fmt: skip


@post("/catalogue/packagings/{packaging_id:int}/remove", guards=[can_keep_catalogue],
      sync_to_thread=True)  # fmt: skip
def remove_packaging(
    request: Request[Any, Any, Any],
    packaging_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    if not 1 <= packaging_id <= MAX_ROW_ID:
        raise NotFound(f"No packaging level {packaging_id}.")
    item = _item(db_session, data)
    sku, path = item.sku, item_path(item.sku)

    def rerender(refusal: FormRefusal) -> Any:
        again = lookups.get_item(db_session, sku)
        return render_item_form(
            request, db_session, me=me, item=again, values=item_values(again),
            status_code=refusal.status_code,
            packaging={"error": refusal.error.detail if refusal.error else refusal.message},
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data,
        scope=f"page POST /catalogue/packagings/{packaging_id}/remove",
        action=lambda: packagings.remove_packaging(
            db_session, actor=me.username, sku=sku, packaging_id=packaging_id
        ),
        rerender=rerender,
        done=lambda _: (path, f"Removed the packaging level from {sku}."),
        again="Already removed: that form was sent twice.",
    )  # fmt: skip


page_handlers: list[Any] = [add_packaging, remove_packaging]
