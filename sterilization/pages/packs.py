"""The pack page a scanned label opens (`/p/{code}`): OK to use or not and why, the pack's
facts, and the MA's two actions on it, use on an encounter and mark compromised."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.web.forms import (
    FormData,
    FormRefusal,
    convert_form_fields,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import render_page
from sterilization import packs, trace
from sterilization.guards import can_act, ma_or_admin
from sterilization.schemas import PackCompromise, PackUse

# Statuses from which a pack can still be marked compromised (the status machine's sources).
COMPROMISABLE = packs.sources_of("compromised")
LABELS = {"encounter_ref": "Encounter reference", "reason": "Reason"}
NO_ENCOUNTER = "Enter the encounter reference (visit or chart number)."
NO_REASON = "Say what happened to the pack (torn, wet, dropped...)."


def pack_contents(pack: Any) -> list[dict[str, Any]]:
    try:
        items = json.loads(pack.contents)
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)]


def pack_short(pack: Any) -> list[dict[str, Any]]:
    """What was missing when the pack was counted against its sheet (`[]`: complete)."""
    try:
        items = json.loads(pack.short or "[]")
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)]


def render_pack(
    request: Request[Any, Any, Any],
    session: Session,
    code: str,
    *,
    me: CurrentUser,
    clock: Clock,
    refusal: FormRefusal | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    zone = clock.zone
    view = packs.get_pack_view(session, code, zone=zone, now=clock.now())
    pack = view.pack
    return render_page(
        request,
        "sterilization/pack.html",
        status_code=refusal.status_code if refusal else 200,
        view=view,
        pack=pack,
        contents=pack_contents(pack),
        notes=trace.pack_notes(session, pack.id, zone),
        short=pack_short(pack),
        sterilized_at=zone.local_text(pack.sterilized_at) if pack.sterilized_at else None,
        used_at=zone.local_text(pack.used_at) if pack.used_at else None,
        can_act=can_act(me),
        can_compromise=pack.status in COMPROMISABLE,
        error=refusal.message if refusal else None,
        errors=refusal.errors if refusal else {},
        labels=LABELS,
        form=form or {},
        nonce=new_nonce(),
    )


@get("/p/{code:str}", guards=[any_role], sync_to_thread=True)
def pack_page(
    request: Request[Any, Any, Any], code: str, db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    return render_pack(request, db_session, code, me=me, clock=clock)


def submit_pack_form(
    request: Request[Any, Any, Any],
    session: Session,
    me: CurrentUser,
    clock: Clock,
    code: str,
    data: dict[str, Any],
    *,
    name: str,
    form: dict[str, str],
    errors: dict[str, str],
    action: Callable[[], None],
    done: str,
) -> Response[Any]:
    """A form of the pack page (`use`, `compromise`): done, back to the pack with `done`
    flashed; refused, the pack page with the messages at their fields."""
    return submit_form(
        request, session, me=me, data=data, scope=f"page POST /p/{code}/{name}", errors=errors,
        action=action,
        rerender=lambda refusal: render_pack(
            request, session, code, me=me, clock=clock, refusal=refusal, form=form
        ),
        done=lambda _: (f"/p/{code}", done),
        again=f"Already recorded (the form was sent twice): {done}",
    )  # fmt: skip


@post("/p/{code:str}/use", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def use_pack(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    shown = packs.get_pack(db_session, code).code  # 404 for an unknown code
    form = {"encounter_ref": form_text(data, "encounter_ref")}
    encounter = form["encounter_ref"]
    if encounter:
        _, errors = convert_form_fields(form, PackUse)
    else:
        errors = {"encounter_ref": NO_ENCOUNTER}
    return submit_pack_form(
        request, db_session, me, clock, shown, data, name="use", form=form, errors=errors,
        action=lambda: packs.use_pack(
            db_session, shown, encounter_ref=encounter, actor=me.username, zone=clock.zone,
            now=clock.now(),
        ),
        done=f"Recorded: pack {shown} used for encounter {encounter}.",
    )  # fmt: skip


@post("/p/{code:str}/compromise", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def compromise_pack(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    shown = packs.get_pack(db_session, code).code  # 404 for an unknown code
    form = {"reason": form_text(data, "reason")}
    _, errors = convert_form_fields(
        form, PackCompromise, required={"reason"}, hints={"reason": NO_REASON}
    )
    return submit_pack_form(
        request, db_session, me, clock, shown, data, name="compromise", form=form,
        errors=errors,
        action=lambda: packs.compromise_pack(
            db_session, shown, reason=form["reason"], actor=me.username, now=clock.now()
        ),
        done=f"Pack {shown} is marked compromised: {form['reason']}. Send it for reprocessing.",
    )  # fmt: skip


page_handlers: list[Any] = [pack_page, use_pack, compromise_pack]
