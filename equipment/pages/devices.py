"""The HLD device page a scanned QR opens (`/d/{code}`): OK TO USE only after a passed
run with no use since, else DO NOT USE with the reasons; the HLD run form (scan the
solution, MEC strip pass/fail, a soak timer) and the use on an encounter."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from equipment import hld, hld_use
from equipment.guards import can_act, ma_or_admin
from equipment.schemas import HldRunIn, HldUseIn
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

LABELS = {
    "encounter_ref": "Encounter reference",
    "disinfectant": "Disinfectant",
    "solution_lot": "Solution lot",
    "solution_opened_on": "Solution opened on",
    "solution_expires_on": "Solution expires on",
    "mec_result": "MEC test strip",
    "soak_minutes": "Soak time (minutes)",
    "temperature_c": "Solution temperature (°C)",
    "min_soak_minutes": "Minimum soak (minutes)",
    "min_temperature_c": "Minimum temperature (°C)",
    "performed_at": "When",
}
RUN_FIELDS = tuple(name for name in LABELS if name != "performed_at")
RUN_REQUIRED = {name for name in RUN_FIELDS if name != "encounter_ref"}
NO_ENCOUNTER = "Enter the encounter reference (visit or chart number)."


def run_defaults(state: hld_use.DeviceState) -> dict[str, str]:
    """The last run's solution and minimums: the same bottle serves the day's runs."""
    run = state.last_run
    if run is None:
        return {"mec_result": ""}
    return {
        "disinfectant": run.disinfectant,
        "solution_lot": run.solution_lot,
        "solution_opened_on": run.solution_opened_on.isoformat(),
        "solution_expires_on": run.solution_expires_on.isoformat(),
        "min_soak_minutes": f"{run.min_soak_minutes:g}",
        "min_temperature_c": f"{run.min_temperature_c:g}",
        "mec_result": "",
    }


def render_device(
    request: Request[Any, Any, Any],
    session: Session,
    code: str,
    *,
    me: CurrentUser,
    clock: Clock,
    refusal: FormRefusal | None = None,
    form: dict[str, str] | None = None,
    open_form: str | None = None,
) -> Template:
    zone = clock.zone
    state = hld_use.state_of(session, code, zone=zone)
    run = state.last_run
    runs = list(session.scalars(hld.runs_of(state.device).limit(10)))
    return render_page(
        request,
        "equipment/device.html",
        status_code=refusal.status_code if refusal else 200,
        state=state,
        device=state.device,
        last_run=run,
        last_run_reasons=json.loads(run.reasons) if run else [],
        last_run_at=zone.local_text(run.performed_at) if run else None,
        last_use_at=zone.local_text(state.last_use.used_at) if state.last_use else None,
        runs=[(r, zone.local_text(r.performed_at), json.loads(r.reasons)) for r in runs],
        can_act=can_act(me),
        error=refusal.message if refusal else None,
        errors=refusal.errors if refusal else {},
        labels=LABELS,
        form=form if form is not None else run_defaults(state),
        open_form=open_form,
        nonce=new_nonce(),
    )


@get("/d/{code:str}", guards=[any_role], sync_to_thread=True)
def device_page(
    request: Request[Any, Any, Any], code: str, db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    return render_device(request, db_session, code, me=me, clock=clock)


@post("/d/{code:str}/use", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def use_device(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    shown = hld.get_device(db_session, code).code  # 404 for an unknown code
    form = {"encounter_ref": form_text(data, "encounter_ref")}
    encounter = form["encounter_ref"]
    if encounter:
        _, errors = convert_form_fields(form, HldUseIn)
    else:
        errors = {"encounter_ref": NO_ENCOUNTER}
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST /d/{shown}/use", errors=errors,
        action=lambda: hld_use.use_device(
            db_session, shown, encounter_ref=encounter, actor=me.username, zone=clock.zone,
            now=clock.now(),
        ).encounter_ref,
        rerender=lambda refusal: render_device(
            request, db_session, shown, me=me, clock=clock, refusal=refusal, form=form,
            open_form="use",
        ),
        done=lambda ref: (f"/d/{shown}", f"Recorded: {shown} used for encounter {ref}."),
        again=f"Already recorded (the form was sent twice): {shown} used.",
    )  # fmt: skip


@post("/d/{code:str}/runs", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def record_device_run(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    shown = hld.get_device(db_session, code).code  # 404 for an unknown code
    form = {name: form_text(data, name) for name in RUN_FIELDS}
    values, errors = convert_form_fields(form, HldRunIn, required=RUN_REQUIRED)

    def action() -> dict[str, Any]:
        run = hld.record_run(
            db_session, shown, actor=me.username, zone=clock.zone, now=clock.now(), **values
        )
        return {"result": run.result, "reasons": json.loads(run.reasons)}

    def done(result: dict[str, Any]) -> tuple[str, str, str] | tuple[str, str]:
        if result["result"] == "pass":
            return f"/d/{shown}", f"HLD run passed: {shown} is OK to use."
        why = "; ".join(result["reasons"])
        return f"/d/{shown}", f"HLD run FAILED ({why}). Disinfect {shown} again.", "error"

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST /d/{shown}/runs", errors=errors,
        action=action,
        rerender=lambda refusal: render_device(
            request, db_session, shown, me=me, clock=clock, refusal=refusal, form=form,
            open_form="run",
        ),
        done=done,
        again="Already recorded (the form was sent twice).",
    )  # fmt: skip


page_handlers: list[Any] = [device_page, use_device, record_device_run]
