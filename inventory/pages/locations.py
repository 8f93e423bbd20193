"""`/catalogue/locations`: the locations list with an add form, and one location's form
(rename, take out of use or back into it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_queries, lookups
from inventory.models import Location
from inventory.pages.form_messages import HINTS, refusal_message
from inventory.roles import can_keep_catalogue, can_read, keeps_catalogue
from inventory.schemas.catalogue import LocationCreate, LocationUpdate
from kernel.auth.service import CurrentUser
from kernel.sites import SiteScope
from kernel.web.forms import (
    FormData,
    convert_form_fields,
    form_checked,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import redirect_with_flash, render_page

LIST = "/catalogue/locations"


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
    locations, _ = catalogue_queries.list_locations(session)
    return render_page(
        request,
        "inventory/catalogue/locations.html",
        status_code=status_code,
        section="locations",
        locations=locations,
        par_counts=catalogue_queries.location_par_counts(session),
        values=values or {"code": "", "name": ""},
        errors=errors or {},
        error=error,
        can_edit=keeps_catalogue(me),
        nonce=new_nonce(),
        quote=quote,
    )


@get(LIST, guards=[can_read], sync_to_thread=True)
def locations_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_locations(request, db_session, me=me)


@post(LIST, guards=[can_keep_catalogue], sync_to_thread=True)
def create_location(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    sites: SiteScope,
) -> Response[Any]:
    values = {"code": form_text(data, "code"), "name": form_text(data, "name")}
    converted, errors = convert_form_fields(
        values, LocationCreate, required={"code", "name"}, hints=HINTS
    )
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {LIST}", errors=errors,
        only_field="code",
        action=lambda: catalogue.create_location(
            db_session, actor=me.username, data=LocationCreate(**converted),
            site_id=sites.site_for_write(form_text(data, "site") or None).id,
        ).code,
        rerender=lambda refusal: render_locations(
            request, db_session, me=me, values=values, errors=refusal.errors,
            error=None if refusal.error else refusal_message(refusal),
            status_code=refusal.status_code,
        ),
        done=lambda code: (LIST, f"Added location {code}."),
        again="Already added: that form was sent twice.",
    )  # fmt: skip


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


@get(f"{LIST}/{{code:str}}", guards=[can_keep_catalogue], sync_to_thread=True)
def location_page(request: Request[Any, Any, Any], code: str, db_session: Session) -> Template:
    return render_location(request, lookups.get_location(db_session, code))


@post(f"{LIST}/{{code:str}}", guards=[can_keep_catalogue], sync_to_thread=True)
def update_location(
    request: Request[Any, Any, Any], code: str, data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    """Rename, or take out of (back into) use."""
    location = lookups.get_location(db_session, code)
    values: dict[str, Any] = {
        "name": form_text(data, "name"),
        "active": form_checked(data, "active"),
    }
    converted, errors = convert_form_fields(
        {"name": values["name"]}, LocationUpdate, required={"name"}, hints=HINTS
    )
    changes: dict[str, Any] = {}
    if not errors and converted["name"] != location.name:
        changes["name"] = converted["name"]
    if values["active"] != location.active:
        changes["active"] = values["active"]
    if not errors and not changes:
        return redirect_with_flash(request, LIST, "Nothing changed.", "info")
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {LIST}/{location.code}",
        errors=errors,
        action=lambda: catalogue.update_location(
            db_session, actor=me.username, code=location.code, data=LocationUpdate(**changes)
        ).code,
        rerender=lambda refusal: render_location(
            request, lookups.get_location(db_session, code), values=values,
            errors=refusal.errors, error=refusal_message(refusal),
            status_code=refusal.status_code,
        ),
        done=lambda _: (LIST, f"Saved location {location.code}."),
        again="Already saved: that form was sent twice.",
    )  # fmt: skip


page_handlers: list[Any] = [locations_page, create_location, location_page, update_location]
