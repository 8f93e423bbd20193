"""The order file layout on a supplier's page (`/catalogue/suppliers/{id}`): its columns
(a header and a reorder-row field each), units or packs, the delimiter and the header
row; **Preview** shows this week's file in the layout being edited (nothing is saved),
**Save** stores it, **Remove** goes back to the standard reorder CSV. Purchasing and
admin; the rules are `inventory.order_formats`' (the API's functions).

Form fields: `column-N-header`, `column-N-field` (a blank row is skipped), `quantity_in`,
`delimiter` (comma, semicolon, tab, pipe), `header_row`. A rule's refusal about
`columns[k].field` is shown at the k-th filled row's field.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response, post
from sqlalchemy.orm import Session

from inventory import order_formats
from inventory.order_formats import DELIMITER_NAMES, OrderFile
from inventory.pages import supplier_page
from inventory.pages.paging import MAX_ROW_ID
from inventory.pages.supplier_page import (
    MIN_ROWS,
    format_values,
    render_supplier,
    stored_format,
)
from inventory.roles import can_keep_catalogue
from inventory.schemas.purchasing import OrderFormatIn
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.problems import DomainError, NotFound
from kernel.web.forms import (
    FormData,
    FormRefusal,
    form_checked,
    form_text,
    friendly_message,
    submit_form,
)

LIST = "/catalogue/suppliers"
MORE_ROWS = 6
MAX_ROWS = 40
COLUMN_FIELD = re.compile(r"column-(\d{1,2})-(header|field)")
RULE_COLUMN = re.compile(r"columns\[(\d+)\]\.(header|field)")
DELIMITER_BY_NAME = {name: char for char, name in DELIMITER_NAMES.items()}


def format_from_form(
    data: dict[str, Any],
) -> tuple[dict[str, Any], OrderFormatIn | None, list[int], dict[str, str]]:
    """(values to show again, the layout or None, the form row of each column, errors)."""
    indexes = sorted({int(m.group(1)) for key in data if (m := COLUMN_FIELD.fullmatch(key))})
    indexes = [i for i in indexes if i < MAX_ROWS]
    values: dict[str, Any] = {
        "quantity_in": form_text(data, "quantity_in") or "units",
        "delimiter": form_text(data, "delimiter") or "comma",
        "header_row": form_checked(data, "header_row"),
        "rows": max(MIN_ROWS, (max(indexes) + 1) if indexes else 0),
    }
    errors: dict[str, str] = {}
    columns: list[dict[str, str]] = []
    rows: list[int] = []
    for i in indexes:
        header, field = form_text(data, f"column-{i}-header"), form_text(data, f"column-{i}-field")
        values[f"column-{i}-header"], values[f"column-{i}-field"] = header, field
        if not header and not field:
            continue
        if not header:
            errors[f"column-{i}-header"] = "Required: the header the supplier's file expects."
        if not field:
            errors[f"column-{i}-field"] = "Choose what the column holds."
        columns.append({"header": header, "field": field})
        rows.append(i)
    if not columns:
        errors[f"column-{indexes[0] if indexes else 0}-header"] = "Enter at least one column."
    if values["delimiter"] not in DELIMITER_BY_NAME:
        errors["delimiter"] = "Choose a delimiter from the list."
    if errors:
        return values, None, rows, errors
    try:
        layout = msgspec.convert(
            {"columns": columns, "quantity_in": values["quantity_in"],
             "delimiter": DELIMITER_BY_NAME[values["delimiter"]],
             "header_row": values["header_row"]},
            OrderFormatIn,
        )  # fmt: skip
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = RULE_COLUMN.search(message.replace("$.", ""))
        where = f"column-{rows[int(found.group(1))]}-{found.group(2)}" if found else "quantity_in"
        return values, None, rows, {where: friendly_message(message, None)}
    return values, layout, rows, {}


def rule_errors(exc: DomainError, rows: list[int]) -> dict[str, str]:
    """A rule's refusal at the form field it names (`columns[k].field` → that row)."""
    errors = {}
    for field, message in exc.field_errors().items():
        found = RULE_COLUMN.fullmatch(field)
        if found and int(found.group(1)) < len(rows):
            errors[f"column-{rows[int(found.group(1))]}-{found.group(2)}"] = message
        elif field == "columns" and rows:
            errors[f"column-{rows[0]}-field"] = message
        else:
            errors[field] = message
    return errors


def _supplier_page(
    request: Request[Any, Any, Any],
    session: Session,
    supplier_id: int,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    error: str | None = None,
    preview: OrderFile | None = None,
    status_code: int = 200,
) -> Response[Any]:
    return render_supplier(
        request, session, supplier_page.supplier_or_404(session, supplier_id),
        status_code=status_code,
        order_format={"values": values, "errors": errors or {}, "error": error,
                      "preview": preview},
    )  # fmt: skip


@post(f"{LIST}/{{supplier_id:int}}/order-format", guards=[can_keep_catalogue], sync_to_thread=True)
def post_order_format(
    request: Request[Any, Any, Any],
    supplier_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    """`op`: `more` (more rows), `preview`, `save` or `remove`."""
    if not 1 <= supplier_id <= MAX_ROW_ID:
        raise NotFound(f"No supplier with id {supplier_id}.")
    op = form_text(data, "op")
    path = f"{LIST}/{supplier_id}"
    if op == "remove":
        return submit_form(
            request, db_session, me=me, data=data, scope=f"page POST {path}/order-format remove",
            action=lambda: order_formats.remove_order_format(
                db_session, actor=me.username, supplier_id=supplier_id
            ),
            rerender=lambda refusal: _supplier_page(
                request, db_session, supplier_id,
                values=format_values(stored_format(db_session, supplier_id)),
                error=refusal.message or (refusal.error.detail if refusal.error else None),
                status_code=refusal.status_code,
            ),
            done=lambda _: (path, "Removed the order file layout: the standard reorder CSV "
                                  "applies."),
            again="Already removed: that form was sent twice.",
        )  # fmt: skip
    values, layout, rows, errors = format_from_form(data)
    if op == "more":
        values["rows"] = min(MAX_ROWS, values["rows"] + MORE_ROWS)
        return _supplier_page(request, db_session, supplier_id, values=values)
    if op == "preview":
        if layout is None:
            return _supplier_page(request, db_session, supplier_id, values=values, errors=errors,
                                  error="Nothing to preview yet: check the marked fields.",
                                  status_code=422)  # fmt: skip
        try:
            preview = order_formats.render_order_file(
                db_session, supplier_id=supplier_id, today=clock.today(), zone=clock.zone,
                data=layout, preview=True,
            )  # fmt: skip
        except DomainError as exc:
            found = rule_errors(exc, rows)
            return _supplier_page(
                request, db_session, supplier_id, values=values, errors=found,
                error=exc.detail, status_code=int(exc.status_code),
            )  # fmt: skip
        return _supplier_page(request, db_session, supplier_id, values=values, preview=preview)

    def rerender(refusal: FormRefusal) -> Response[Any]:
        found = refusal.errors
        if refusal.error is not None:
            found = rule_errors(refusal.error, rows)
        return _supplier_page(
            request, db_session, supplier_id, values=values, errors=found,
            error=refusal.error.detail if refusal.error else "Nothing was saved: check the "
            "marked fields.",
            status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {path}/order-format",
        errors=errors,
        action=lambda: order_formats.set_order_format(
            db_session, actor=me.username, supplier_id=supplier_id,
            data=layout,  # type: ignore[arg-type]
        ).supplier,
        rerender=rerender,
        done=lambda name: (path, f"Saved the order file layout of {name}."),
        again="Already saved: that form was sent twice.",
    )  # fmt: skip


page_handlers: list[Any] = [post_order_format]
