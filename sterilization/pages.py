"""Tablet pages of the sterilization domain: the pack page a scanned label opens, and the
cycle log (today's cycles, starting a load, completing it, BI results).

Handlers are thin: every rule lives in `packs`, `cycles` and `indicators`. A refused
action (a `DomainError`) is shown on the same page with its reason and a 4xx status;
nothing is written then.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template
from sqlalchemy.orm import Session

from sterilization import packs
from sterilization.clinic import Clinic
from sterilization.schemas import PackCompromise, PackUse
from steristock.auth.guards import any_role, requires_role
from steristock.auth.models import Role
from steristock.auth.service import CurrentUser
from steristock.problems import DomainError, InvalidInput
from steristock.web.forms import FormData, convert_form, form_text, new_nonce, run_once
from steristock.web.templating import redirect_with_flash, render_page

ma_or_admin = requires_role(Role.MA)
# Statuses from which a pack can still be marked compromised (the status machine's sources).
COMPROMISABLE = packs.sources_of("compromised")
LABELS = {"encounter_ref": "Encounter reference", "reason": "Reason"}


def clinic_of(state: State) -> Clinic:
    return Clinic.from_settings(state.settings)


def can_act(me: CurrentUser) -> bool:
    return me.role in (Role.MA, Role.ADMIN)


# The pack page -----------------------------------------------------------------------


def pack_contents(pack: Any) -> list[dict[str, Any]]:
    try:
        items = json.loads(pack.contents)
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)]


def render_pack(
    request: Request[Any, Any, Any],
    session: Session,
    code: str,
    *,
    me: CurrentUser,
    clinic: Clinic,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Template:
    view = packs.get_pack_view(session, code, clinic=clinic)
    pack = view.pack
    return render_page(
        request,
        "sterilization/pack.html",
        status_code=status_code,
        view=view,
        pack=pack,
        contents=pack_contents(pack),
        sterilized_at=clinic.local_text(pack.sterilized_at) if pack.sterilized_at else None,
        used_at=clinic.local_text(pack.used_at) if pack.used_at else None,
        can_act=can_act(me),
        can_compromise=pack.status in COMPROMISABLE,
        error=error,
        form=form or {},
        nonce=new_nonce(),
    )


@get("/p/{code:str}", guards=[any_role], sync_to_thread=True)
def pack_page(
    request: Request[Any, Any, Any], code: str, db_session: Session, me: CurrentUser, state: State
) -> Template:
    return render_pack(request, db_session, code, me=me, clinic=clinic_of(state))


def _pack_action(
    request: Request[Any, Any, Any],
    session: Session,
    me: CurrentUser,
    state: State,
    code: str,
    data: dict[str, Any],
    *,
    action: str,
) -> Response[Any]:
    clinic = clinic_of(state)
    view = packs.get_pack_view(session, code, clinic=clinic)  # 404 for an unknown code
    shown = view.pack.code
    payload = {k: v for k, v in data.items() if k not in ("_csrf_token", "nonce")}
    try:
        if action == "use":
            encounter = form_text(data, "encounter_ref")
            if not encounter:
                raise InvalidInput("Enter the encounter reference (visit or chart number).")
            convert_form({"encounter_ref": encounter}, PackUse, LABELS)

            def run() -> None:
                packs.use_pack(
                    session, shown, encounter_ref=encounter, actor=me.username, clinic=clinic
                )

            message = f"Recorded: pack {shown} used for encounter {encounter}."
        else:
            reason = form_text(data, "reason")
            convert_form({"reason": reason}, PackCompromise, LABELS)

            def run() -> None:
                packs.compromise_pack(session, shown, reason=reason, actor=me.username)

            message = f"Pack {shown} is marked compromised: {reason}. Send it for reprocessing."
        repeated = run_once(
            session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope=f"page POST /p/{shown}/{action}",
            payload=payload,
            action=run,
        )
    except DomainError as exc:
        session.rollback()
        return render_pack(
            request,
            session,
            shown,
            me=me,
            clinic=clinic,
            error=exc.detail,
            status_code=int(exc.status_code),
            form={k: form_text(data, k) for k in ("encounter_ref", "reason")},
        )
    if repeated:
        message = f"Already recorded (the form was sent twice): {message}"
    return redirect_with_flash(request, f"/p/{shown}", message)


@post("/p/{code:str}/use", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def pack_use(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    return _pack_action(request, db_session, me, state, code, data, action="use")


@post("/p/{code:str}/compromise", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def pack_compromise(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    return _pack_action(request, db_session, me, state, code, data, action="compromise")


page_handlers: list[Any] = [pack_page, pack_use, pack_compromise]
