"""Tablet pages of the sterilization domain: the pack page a scanned label opens, and the
cycle log (today's cycles, starting a load, completing it, BI results).

Handlers are thin: every rule lives in `packs`, `cycles` and `indicators`. A refused
action (a `DomainError`) is shown on the same page with its reason and a 4xx status;
nothing is written then.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Template
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role, requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.db import utcnow
from kernel.labels import PackRef, parse_scan
from kernel.problems import DomainError, InvalidInput, NotFound
from kernel.web.forms import (
    FormData,
    convert_form,
    form_checked,
    form_list,
    form_text,
    new_nonce,
    run_once,
)
from kernel.web.templating import redirect_with_flash, render_page
from sterilization import cycles, indicators, packs, sterilizers
from sterilization.clinic import Clinic
from sterilization.schemas import BiResultIn, CycleComplete, CycleStart, PackCompromise, PackUse

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
        repeated, _ = run_once(
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


# The cycle log -----------------------------------------------------------------------

MAX_ROW_ID = 2_147_483_647
CYCLE_LABELS = {
    "sterilizer": "Sterilizer",
    "cycle_type": "Cycle type",
    "packs": "Pack codes",
    "bi_lot": "BI lot",
    "temperature_c": "Temperature",
    "pressure_kpa": "Pressure",
    "exposure_minutes": "Exposure time",
    "dry_minutes": "Drying time",
    "notes": "Notes",
    "result": "BI result",
    "lot": "BI lot",
}
STATUS_TAGS = {"running": "info", "passed": "ok", "awaiting_bi": "warn", "failed": "stop"}
STATUS_WORDS = {
    "running": "running",
    "passed": "passed",
    "awaiting_bi": "awaiting BI",
    "failed": "FAILED",
}


def page_context(clinic: Clinic) -> dict[str, Any]:
    return {
        "local_text": clinic.local_text,
        "status_tags": STATUS_TAGS,
        "status_words": STATUS_WORDS,
    }


@get("/cycles", guards=[any_role], sync_to_thread=True)
def cycles_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser, state: State
) -> Template:
    """Today's cycles per sterilizer (the clinic's day), plus what still needs attention."""
    clinic = clinic_of(state)
    today = clinic.local_date(utcnow())
    lines = cycles.cycles_started_on(db_session, today, clinic=clinic)
    by_sterilizer: dict[str, list[cycles.CycleLine]] = {}
    for line in lines:
        by_sterilizer.setdefault(line.sterilizer_code, []).append(line)
    return render_page(
        request,
        "sterilization/cycles.html",
        today=today,
        sterilizers=sterilizers.list_sterilizers(db_session),
        by_sterilizer=by_sterilizer,
        awaiting_bi=cycles.cycles_awaiting_bi(db_session),
        stale=cycles.cycles_running_before(db_session, today, clinic=clinic),
        can_act=can_act(me),
        **page_context(clinic),
    )


def render_new_cycle(
    request: Request[Any, Any, Any],
    session: Session,
    clinic: Clinic,
    *,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
) -> Template:
    all_sterilizers = sterilizers.list_sterilizers(session)
    return render_page(
        request,
        "sterilization/cycle_new.html",
        status_code=status_code,
        sterilizers=all_sterilizers,
        readiness={
            s.code: cycles.readiness_warnings(s, clinic=clinic)
            for s in all_sterilizers
            if s.status == "in_service"
        },
        cycle_types=cycles.list_cycle_types(session),
        assembled=packs.assembled_packs(session),
        error=error,
        form=form or {},
        nonce=new_nonce(),
    )


@get("/cycles/new", guards=[ma_or_admin], sync_to_thread=True)
def new_cycle_page(
    request: Request[Any, Any, Any], db_session: Session, state: State, sterilizer: str = ""
) -> Template:
    return render_new_cycle(
        request, db_session, clinic_of(state), form={"sterilizer": sterilizer[:40]}
    )


def scanned_pack_codes(text: str) -> list[str]:
    """Pack codes from a text box a scanner typed into: one per line (or separated by
    spaces or commas); a scanned label URL gives its code."""
    codes = []
    for token in re.split(r"[\s,;]+", text):
        if not token:
            continue
        ref = parse_scan(token)
        codes.append(ref.code if isinstance(ref, PackRef) else packs.normalize_code(token))
    return codes


@post("/cycles/new", guards=[ma_or_admin], sync_to_thread=True)
def start_cycle(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    clinic = clinic_of(state)
    ticked = [packs.normalize_code(c) for c in form_list(data, "pack")]
    # A pack both ticked and scanned is meant once.
    codes = list(dict.fromkeys([*scanned_pack_codes(form_text(data, "codes")), *ticked]))
    values: dict[str, Any] = {
        "sterilizer": form_text(data, "sterilizer"),
        "cycle_type": form_text(data, "cycle_type"),
        "packs": codes,
        "implants": form_checked(data, "implants"),
    }
    if bi_lot := form_text(data, "bi_lot"):
        values["bi_lot"] = bi_lot
    payload = {k: v for k, v in data.items() if k not in ("_csrf_token", "nonce")}
    try:
        if not values["sterilizer"]:
            raise InvalidInput("Choose the sterilizer.")
        if not values["cycle_type"]:
            raise InvalidInput("Choose the cycle type.")
        start: CycleStart = convert_form(values, CycleStart, CYCLE_LABELS)

        def run() -> dict[str, Any]:
            cycle, warnings = cycles.start_cycle(
                db_session,
                sterilizer_code=start.sterilizer,
                cycle_type=start.cycle_type,
                pack_codes=list(start.packs),
                bi_lot=start.bi_lot,
                implants=start.implants,
                actor=me.username,
                clinic=clinic,
            )
            return {"id": cycle.id, "number": cycle.number, "warnings": warnings}

        repeated, started = run_once(
            db_session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope="page POST /cycles/new",
            payload=payload,
            action=run,
        )
    except DomainError as exc:
        db_session.rollback()
        return render_new_cycle(
            request,
            db_session,
            clinic,
            error=exc.detail,
            status_code=int(exc.status_code),
            form={
                "sterilizer": values["sterilizer"],
                "cycle_type": values["cycle_type"],
                "codes": form_text(data, "codes"),
                "ticked": ticked,
                "bi_lot": bi_lot,
                "implants": values["implants"],
            },
        )
    count = len(codes)
    if repeated:
        text = f"Already started (the form was sent twice): cycle {started['number']}."
        return redirect_with_flash(request, f"/cycles/{started['id']}", text, "info")
    text = f"Cycle {started['number']} started with {count} pack{'s' if count != 1 else ''}."
    if started["warnings"]:
        text += " Read the warnings below."
    level = "warning" if started["warnings"] else "success"
    return redirect_with_flash(request, f"/cycles/{started['id']}", text, level)


def render_cycle(
    request: Request[Any, Any, Any],
    session: Session,
    cycle_id: int,
    *,
    me: CurrentUser,
    clinic: Clinic,
    error: str | None = None,
    status_code: int = 200,
    form: dict[str, str] | None = None,
) -> Template:
    if not 1 <= cycle_id <= MAX_ROW_ID:
        raise NotFound(f"No cycle with id {cycle_id}.")
    record = cycles.cycle_record(session, cycle_id)
    cycle = record.cycle
    rule = cycles.cycle_type_rule(session, cycle.cycle_type)
    wants_bi = (
        not rule.is_test
        and cycle.status != "running"
        and record.bi is None
        and (cycle.status == "awaiting_bi" or cycle.bi_lot is not None)
    )
    return render_page(
        request,
        "sterilization/cycle.html",
        status_code=status_code,
        record=record,
        cycle=cycle,
        rule=rule,
        failure_reasons=json.loads(record.parameters.failure_reasons) if record.parameters else [],
        can_complete=can_act(me) and cycle.status == "running",
        can_record_bi=can_act(me) and wants_bi,
        error=error,
        form=form or {},
        nonce=new_nonce(),
        **page_context(clinic),
    )


@get("/cycles/{cycle_id:int}", guards=[any_role], sync_to_thread=True)
def cycle_page(
    request: Request[Any, Any, Any],
    cycle_id: int,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Template:
    return render_cycle(request, db_session, cycle_id, me=me, clinic=clinic_of(state))


def pass_fail(data: dict[str, Any], name: str, what: str) -> bool:
    value = form_text(data, name)
    if value not in ("pass", "fail"):
        raise InvalidInput(f"Say whether the {what} passed or failed.")
    return value == "pass"


def _cycle_action(
    request: Request[Any, Any, Any],
    session: Session,
    me: CurrentUser,
    state: State,
    cycle_id: int,
    data: dict[str, Any],
    *,
    action: str,
) -> Response[Any]:
    clinic = clinic_of(state)
    if not 1 <= cycle_id <= MAX_ROW_ID:
        raise NotFound(f"No cycle with id {cycle_id}.")
    cycle = cycles.get_cycle(session, cycle_id)  # 404 for an unknown cycle
    payload = {k: v for k, v in data.items() if k not in ("_csrf_token", "nonce")}
    try:
        if action == "complete":
            values: dict[str, Any] = {
                "mechanical_ok": pass_fail(data, "mechanical", "mechanical check"),
                "chemical_ok": pass_fail(data, "chemical", "chemical indicator"),
            }
            for name in ("temperature_c", "pressure_kpa", "exposure_minutes", "dry_minutes"):
                if text := form_text(data, name):
                    values[name] = text.replace(",", ".")
            if notes := form_text(data, "notes"):
                values["notes"] = notes
            readings: CycleComplete = convert_form(values, CycleComplete, CYCLE_LABELS)

            def run() -> dict[str, Any]:
                done = cycles.complete_cycle(
                    session,
                    cycle.id,
                    data=msgspec.structs.asdict(readings),
                    actor=me.username,
                    clinic=clinic,
                )
                return {"status": done.status}

        else:
            result = form_text(data, "result")
            if result not in ("negative", "positive"):
                raise InvalidInput("Choose the BI result: negative (no growth) or positive.")
            values = {"result": result, "control_grew": form_checked(data, "control_grew")}
            if lot := form_text(data, "lot"):
                values["lot"] = lot
            bi: BiResultIn = convert_form(values, BiResultIn, CYCLE_LABELS)

            def run() -> dict[str, Any]:
                _, recall = indicators.record_bi_result(
                    session,
                    cycle.id,
                    result=bi.result,
                    control_grew=bi.control_grew,
                    lot=bi.lot,
                    actor=me.username,
                    clinic=clinic,
                )
                return {"recall_packs": recall.pack_count if recall else None}

        repeated, outcome = run_once(
            session,
            me=me,
            nonce=form_text(data, "nonce"),
            scope=f"page POST /cycles/{cycle.id}/{action}",
            payload=payload,
            action=run,
        )
    except DomainError as exc:
        session.rollback()
        return render_cycle(
            request,
            session,
            cycle_id,
            me=me,
            clinic=clinic,
            error=exc.detail,
            status_code=int(exc.status_code),
            form={k: form_text(data, k) for k in data if k not in ("_csrf_token", "nonce")},
        )
    path = f"/cycles/{cycle.id}"
    if repeated:
        return redirect_with_flash(request, path, "Already recorded: the form was sent twice.")
    if action == "complete":
        status = outcome["status"]
        text, level = {
            "passed": (f"Cycle {cycle.number} passed: its packs are sterile.", "success"),
            "awaiting_bi": (
                f"Cycle {cycle.number} passed; implant packs are held until the BI is read.",
                "warning",
            ),
            "failed": (
                f"Cycle {cycle.number} FAILED: its packs must not be used; reprocess them.",
                "error",
            ),
        }[status]
        return redirect_with_flash(request, path, text, level)
    if outcome["recall_packs"] is None:
        return redirect_with_flash(request, path, "BI negative recorded.", "success")
    return redirect_with_flash(
        request,
        path,
        f"BI POSITIVE: the sterilizer is out of service and a recall of "
        f"{outcome['recall_packs']} pack(s) is open. Pull the recalled packs.",
        "error",
    )


@post("/cycles/{cycle_id:int}/complete", guards=[ma_or_admin], sync_to_thread=True)
def complete_cycle(
    request: Request[Any, Any, Any],
    cycle_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    return _cycle_action(request, db_session, me, state, cycle_id, data, action="complete")


@post("/cycles/{cycle_id:int}/bi", guards=[ma_or_admin], sync_to_thread=True)
def bi_result(
    request: Request[Any, Any, Any],
    cycle_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    state: State,
) -> Response[Any]:
    return _cycle_action(request, db_session, me, state, cycle_id, data, action="bi")


page_handlers: list[Any] = [
    pack_page,
    pack_use,
    pack_compromise,
    cycles_page,
    new_cycle_page,
    start_cycle,
    cycle_page,
    complete_cycle,
    bi_result,
]
