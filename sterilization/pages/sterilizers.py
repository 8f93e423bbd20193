"""The sterilizers page: every sterilizer with its service status, the reason, and its
last spore (BI) and Bowie-Dick tests; the administrator adds sterilizers and takes them
out of / returns them to service, always with a reason.

MAs and auditors read the page (why is autoclave B out?); the forms are the admin's.
Handlers are thin: the rules are `sterilizers.create_sterilizer` and
`sterilizers.change_status` (the API's functions, audited). A refused form is shown
again with the error next to its field and the values kept; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.problems import Conflict
from kernel.sites import SiteScope
from kernel.web.forms import FormData, FormRefusal, field_errors, form_text, new_nonce, submit_form
from kernel.web.templating import render_page
from sterilization import requalification, sterilizers
from sterilization.guards import sterilizer_readers
from sterilization.models import STERILIZER_KINDS, Sterilizer
from sterilization.schemas import SterilizerCreate, SterilizerStatusChange, SterilizerUpdate

PATH = "/admin/sterilizers"
KIND_LABELS = {
    "steam_prevac": "Steam, pre-vacuum",
    "steam_gravity": "Steam, gravity",
    "chemical_vapor": "Chemical vapor",
    "dry_heat": "Dry heat",
}
KIND_OPTIONS = [(kind, KIND_LABELS.get(kind, kind)) for kind in STERILIZER_KINDS]
BI_FREQUENCY_LABELS = {
    "weekly": "Weekly",
    "daily": "Daily",
    "every_load": "Every load",
}
BI_FREQUENCY_OPTIONS = list(BI_FREQUENCY_LABELS.items())
ADD_FIELDS = ("code", "name", "kind", "manufacturer", "model", "serial_number", "bi_frequency")
DETAIL_FIELDS = ("name", "manufacturer", "model", "serial_number", "bi_frequency")
MAX_CODE_IN_PATH = 40


def render_sterilizers(
    request: Request[Any, Any, Any],
    session: Session,
    clock: Clock,
    *,
    me: CurrentUser,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_form: dict[str, str] | None = None,
    details_form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    """`form`/`errors` belong to the add form, unless `status_form` (or `details_form`)
    names the sterilizer whose status (details) form was refused: then `errors` are that
    form's."""
    rows = sterilizers.list_sterilizers(session)
    requalifying = {s.code: requalification.progress(session, s) for s in rows}
    return render_page(
        request,
        "sterilization/sterilizers.html",
        status_code=status_code,
        sterilizers=rows,
        local_text=clock.zone.local_text,
        kind_labels=KIND_LABELS,
        kind_options=KIND_OPTIONS,
        requalifying=requalifying,
        bi_frequency_labels=BI_FREQUENCY_LABELS,
        bi_frequency_options=BI_FREQUENCY_OPTIONS,
        details_form=details_form or {},
        can_manage=me.role == Role.ADMIN,
        form=form or {},
        errors=errors or {},
        status_form=status_form or {},
        nonces={"create": new_nonce()}
        | {s.code: new_nonce() for s in rows}
        | {f"details-{s.code}": new_nonce() for s in rows},
    )


@get(PATH, guards=[sterilizer_readers], sync_to_thread=True)
def sterilizers_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    return render_sterilizers(request, db_session, clock, me=me)


@post(PATH, guards=[admin_only], sync_to_thread=True)
def add_sterilizer(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
    sites: SiteScope,
) -> Response[Any]:
    form = {k: form_text(data, k) for k in ADD_FIELDS}
    form["bi_frequency"] = form["bi_frequency"] or "weekly"

    def rerender(refusal: FormRefusal) -> Template:
        return render_sterilizers(
            request, db_session, clock, me=me, form=form, errors=refusal.errors,
            status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {PATH}",
        errors=field_errors({k: v for k, v in form.items() if v}, SterilizerCreate),
        fallback_field="code",
        action=lambda: sterilizers.create_sterilizer(
            db_session, code=form["code"], name=form["name"], kind=form["kind"],
            manufacturer=form["manufacturer"], model=form["model"],
            serial_number=form["serial_number"], bi_frequency=form["bi_frequency"],
            actor=me.username, site_id=sites.site_for_write(form_text(data, "site") or None).id,
        ).code,
        rerender=rerender,
        done=lambda code: (PATH, f"Added sterilizer {code}, in service."),
        again=f"Already added (the form was sent twice): {form['code']}.",
    )  # fmt: skip


def change_from_page(
    session: Session,
    sterilizer: Sterilizer,
    *,
    status: str,
    reason: str,
    actor: str,
    requalify: bool = False,
    now: dt.datetime | None = None,
) -> str:
    """The page's form says the opposite of the status it showed: if the sterilizer is
    already there, the page was stale (another admin, another tab), so nothing is
    re-recorded over the other person's reason. (A double tap of one form is replayed by
    its nonce before this runs.)"""
    if sterilizer.status == status:
        words = "in service" if status == "in_service" else "out of service"
        raise Conflict(f"{sterilizer.code} is already {words} (changed meanwhile): see its row.")
    if requalify:
        return sterilizers.update_sterilizer(
            session, sterilizer.code, changes={}, status=status, reason=reason,
            requalify=True, actor=actor, now=now,
        ).status  # fmt: skip
    return sterilizers.change_status(
        session, sterilizer.code, status=status, reason=reason, actor=actor
    ).status


@post(PATH + "/{code:str}/status", guards=[admin_only], sync_to_thread=True)
def change_status(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    sterilizer = sterilizers.get_sterilizer(db_session, code[:MAX_CODE_IN_PATH])  # 404 first
    status_form = {"code": sterilizer.code} | {k: form_text(data, k) for k in ("status", "reason")}
    requalify = form_text(data, "requalify") == "yes" and status_form["status"] == "out_of_service"
    values = {k: status_form[k] for k in ("status", "reason") if status_form[k]}
    errors = field_errors(values, SterilizerStatusChange)
    if errors.get("reason") in ("Required.", "At least 3 characters."):
        errors["reason"] = "Say why (at least 3 characters): it goes in the sterilizer's record."

    def rerender(refusal: FormRefusal) -> Template:
        return render_sterilizers(
            request, db_session, clock, me=me, status_form=status_form, errors=refusal.errors,
            status_code=refusal.status_code,
        )  # fmt: skip

    words = "back in service" if status_form["status"] == "in_service" else "out of service"
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {PATH}/{sterilizer.code}/status",
        errors=errors,
        fallback_field="reason",
        action=lambda: change_from_page(
            db_session, sterilizer, status=status_form["status"], reason=status_form["reason"],
            actor=me.username, requalify=requalify, now=clock.now(),
        ),
        rerender=rerender,
        done=lambda _: (PATH, f"{sterilizer.code} is now {words}."),
        again="Already recorded: that form was sent twice; nothing more changed.",
    )  # fmt: skip


@post(PATH + "/{code:str}/details", guards=[admin_only], sync_to_thread=True)
def change_details(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    """Make, model, serial number and BI cadence (and the name): an empty optional field
    clears it."""
    sterilizer = sterilizers.get_sterilizer(db_session, code[:MAX_CODE_IN_PATH])  # 404 first
    details_form = {"code": sterilizer.code} | {k: form_text(data, k) for k in DETAIL_FIELDS}
    values = {k: details_form[k] for k in DETAIL_FIELDS if details_form[k]}
    errors = field_errors(values, SterilizerUpdate)
    for required in ("name", "bi_frequency"):
        if not details_form[required]:
            errors[required] = "Required."

    def rerender(refusal: FormRefusal) -> Template:
        return render_sterilizers(
            request, db_session, clock, me=me, details_form=details_form,
            errors=refusal.errors, status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data,
        scope=f"page POST {PATH}/{sterilizer.code}/details",
        errors=errors,
        fallback_field="serial_number",
        action=lambda: sterilizers.update_details(
            db_session, sterilizer, {k: details_form[k] or None for k in DETAIL_FIELDS},
            actor=me.username,
        ),
        rerender=rerender,
        done=lambda _: (PATH, f"Saved the details of {sterilizer.code}."),
        again="Already saved: that form was sent twice.",
    )  # fmt: skip


page_handlers: list[Any] = [sterilizers_page, add_sterilizer, change_status, change_details]
