"""`/catalogue/par-levels`: a location's par levels as an editable grid, saved whole or not
at all (each changed row through `catalogue.set_par_level`, as `PUT .../par-levels`)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_queries, lookups
from inventory.catalogue_queries import ParRow
from inventory.pages.items import item_path
from inventory.pages.paging import clean_text, fetch_page, page_count, page_number, query_text
from inventory.roles import can_keep_catalogue, can_read, keeps_catalogue
from inventory.schemas.catalogue import ParLevelSet
from kernel.auth.service import CurrentUser
from kernel.problems import DomainError, InvalidInput
from kernel.web.forms import FormData, convert_form_fields, form_text, new_nonce, submit_form
from kernel.web.templating import redirect_with_flash, render_page

PAR_ROWS_PER_PAGE = 100
PAR_ROW_SKU = re.compile(r"row-(\d{1,4})-sku")


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
    locations, _ = catalogue_queries.list_locations(session)
    location = lookups.get_location(session, code) if code else None
    if location is None and locations:
        active = [loc for loc in locations if loc.active]
        location = (active or locations)[0]
    rows: list[ParRow] = []
    total = 0
    if location is not None:
        shown = location  # (the lambda needs it typed as found)
        rows, total, page = fetch_page(
            lambda limit, offset: catalogue_queries.par_grid(
                session, shown, q=q, only_set=only_set, limit=limit, offset=offset
            ),
            page,
            PAR_ROWS_PER_PAGE,
        )
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
        pages=page_count(total, PAR_ROWS_PER_PAGE),
        q=q,
        only_set=only_set,
        url=url,
        item_path=item_path,
        typed=typed or {},
        row_errors=row_errors or {},
        error=error,
        can_edit=keeps_catalogue(me),
        nonce=new_nonce(),
    )


@get("/catalogue/par-levels", guards=[can_read], sync_to_thread=True)
def par_levels_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_par_levels(
        request, db_session, me=me, code=query_text(request, "location"),
        q=query_text(request, "q"), only_set=query_text(request, "only") == "1",
        page=page_number(query_text(request, "page")),
    )  # fmt: skip


class RowsRefused(InvalidInput):
    """Some rows of the grid were refused by the domain: nothing of the grid is saved."""


def changed_par_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(sku, par level, reorder point) of the rows whose inputs differ from what the page
    showed (the `was_` fields). A post is one page of the grid: more rows than a page
    holds, or an item twice, is not a form this page sent (422, nothing written)."""
    changed = []
    indexes = sorted(int(m.group(1)) for key in data if (m := PAR_ROW_SKU.fullmatch(key)))
    if len(indexes) > PAR_ROWS_PER_PAGE:
        raise InvalidInput(
            f"A grid post holds at most {PAR_ROWS_PER_PAGE} rows (one page); "
            f"this one has {len(indexes)}.",
            field="rows",
        )
    skus = [form_text(data, f"row-{i}-sku") for i in indexes]
    repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
    if repeated:
        raise InvalidInput(
            f"Each item appears once in the grid; repeated: {', '.join(repeated[:5])}.",
            field="rows",
        )
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


def rows_message(count: int) -> str:
    return f"Nothing was saved: check the {count} row{'s' if count != 1 else ''} marked below."


def par_levels_url(code: str, q: str, only_set: bool, page: int) -> str:
    params = {
        "location": code,
        "q": q,
        "only": "1" if only_set else "",
        "page": page if page > 1 else "",
    }
    return "/catalogue/par-levels?" + urlencode({k: v for k, v in params.items() if v})


@post("/catalogue/par-levels", guards=[can_keep_catalogue], sync_to_thread=True)
def save_par_levels(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    """One post for the grid: only changed rows are written, each through
    `catalogue.set_par_level` (PUT: a blank reorder point is half the par, rounded up).
    One bad row rejects the post, so the grid is saved whole or not at all."""
    location = lookups.get_location(db_session, form_text(data, "location"))
    q, only_set = clean_text(form_text(data, "q")), form_text(data, "only") == "1"
    page = page_number(form_text(data, "page"))
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

    def refused(message: str | None) -> Template:
        return render_par_levels(
            request, db_session, me=me, code=location.code, q=q, only_set=only_set, page=page,
            typed=typed, row_errors=row_errors, error=message, status_code=422,
        )  # fmt: skip

    if row_errors:
        return refused(rows_message(len(row_errors)))
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
            except DomainError as exc:  # every refused row is shown, not only the first
                row_errors[sku] = {exc.field or "par_level": exc.detail}
        if row_errors:
            raise RowsRefused(rows_message(len(row_errors)))
        return len(checked)

    def saved(count: int) -> tuple[str, str]:
        return back, f"Saved {count} par level{'s' if count != 1 else ''} at {location.code}."

    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /catalogue/par-levels",
        action=save, done=saved, again="Already saved: that form was sent twice.",
        rerender=lambda refusal: refused(refusal.message),
    )  # fmt: skip


page_handlers: list[Any] = [par_levels_page, save_par_levels]
