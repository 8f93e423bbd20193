"""`/catalogue/suppliers`: the suppliers list with an add form, and one supplier's form."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_queries
from inventory.pages.form_messages import HINTS, refusal_message
from inventory.pages.supplier_page import (
    SUPPLIER_FIELDS,
    render_supplier,
    supplier_or_404,
    supplier_values,
)
from inventory.roles import can_keep_catalogue, can_read, keeps_catalogue
from inventory.schemas.catalogue import SupplierCreate, SupplierUpdate
from kernel.auth.service import CurrentUser
from kernel.web.forms import FormData, convert_form_fields, form_text, new_nonce, submit_form
from kernel.web.templating import redirect_with_flash, render_page

LIST = "/catalogue/suppliers"


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
    suppliers, _ = catalogue_queries.list_suppliers(session)
    return render_page(
        request,
        "inventory/catalogue/suppliers.html",
        status_code=status_code,
        section="suppliers",
        suppliers=suppliers,
        item_counts=catalogue_queries.supplier_item_counts(session),
        values=values or supplier_values(None),
        errors=errors or {},
        error=error,
        can_edit=keeps_catalogue(me),
        nonce=new_nonce(),
    )


@get(LIST, guards=[can_read], sync_to_thread=True)
def suppliers_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_suppliers(request, db_session, me=me)


@post(LIST, guards=[can_keep_catalogue], sync_to_thread=True)
def create_supplier(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    values = {name: form_text(data, name) for name in SUPPLIER_FIELDS}
    converted, errors = convert_form_fields(values, SupplierCreate, required={"name"}, hints=HINTS)
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {LIST}", errors=errors,
        action=lambda: catalogue.create_supplier(
            db_session, actor=me.username, data=SupplierCreate(**converted)
        ).id,
        rerender=lambda refusal: render_suppliers(
            request, db_session, me=me, values=values, errors=refusal.errors,
            error=refusal_message(refusal), status_code=refusal.status_code,
        ),
        done=lambda _: (LIST, f"Added supplier {converted['name'].strip()}."),
        again="Already added: that form was sent twice.",
    )  # fmt: skip


@get(f"{LIST}/{{supplier_id:int}}", guards=[can_keep_catalogue], sync_to_thread=True)
def supplier_page(
    request: Request[Any, Any, Any], supplier_id: int, db_session: Session
) -> Template:
    return render_supplier(request, db_session, supplier_or_404(db_session, supplier_id))


@post(f"{LIST}/{{supplier_id:int}}", guards=[can_keep_catalogue], sync_to_thread=True)
def update_supplier(
    request: Request[Any, Any, Any],
    supplier_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    supplier = supplier_or_404(db_session, supplier_id)
    values = {name: form_text(data, name) for name in SUPPLIER_FIELDS}
    converted, errors = convert_form_fields(values, SupplierCreate, required={"name"}, hints=HINTS)
    stored = supplier_values(supplier)
    changes = {k: v for k, v in converted.items() if values[k] != stored[k]}
    if not errors and not changes:
        return redirect_with_flash(request, LIST, "Nothing changed.", "info")
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {LIST}/{supplier.id}",
        errors=errors,
        action=lambda: catalogue.update_supplier(
            db_session, actor=me.username, supplier_id=supplier_id,
            data=SupplierUpdate(**changes),
        ).id,
        rerender=lambda refusal: render_supplier(
            request, db_session, supplier_or_404(db_session, supplier_id), values=values,
            errors=refusal.errors, error=refusal_message(refusal),
            status_code=refusal.status_code,
        ),
        done=lambda _: (LIST, f"Saved supplier {supplier.name}: {', '.join(sorted(changes))}."),
        again="Already saved: that form was sent twice.",
    )  # fmt: skip


page_handlers: list[Any] = [suppliers_page, create_supplier, supplier_page, update_supplier]
