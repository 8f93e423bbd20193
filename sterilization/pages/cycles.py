"""The cycle log on the tablet: today's cycles per sterilizer (and what still needs
attention), starting a load, one cycle with its completion and BI forms.

Handlers are thin: every rule lives in `cycles`, `indicators` and `cycle_queries`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import ClinicTime, Clock
from kernel.fields import MAX_ID
from kernel.labels import PackRef, parse_scan
from kernel.problems import NotFound
from kernel.web.forms import (
    FormData,
    FormRefusal,
    convert_form_fields,
    form_checked,
    form_list,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import render_page
from sterilization import (
    bi_products,
    cycle_queries,
    cycle_types,
    cycles,
    early_release,
    indicators,
    packs,
    record_import,
    sterilizers,
)
from sterilization.guards import can_act, ma_or_admin
from sterilization.models import Cycle
from sterilization.schemas import BiResultIn, CycleComplete, CycleStart
from sterilization.shelf_life import ShelfLife

LABELS = {
    "sterilizer": "Sterilizer",
    "cycle_type": "Cycle type",
    "packs": "Pack codes",
    "bi_lot": "BI lot",
    "temperature_c": "Temperature",
    "pressure_kpa": "Pressure",
    "exposure_minutes": "Exposure time",
    "dry_minutes": "Drying time",
    "mechanical": "Mechanical check",
    "chemical": "Chemical indicator",
    "notes": "Notes",
    "result": "BI result",
    "control_grew": "Control vial",
    "lot": "BI lot",
    "started_at": "Started at",
    "ended_at": "Ended at",
    "integrator": "Integrator / PCD",
    "read_at": "Read at",
    "bi_product": "BI product",
    "reason": "Reason",
    "iuss": "Immediate use (IUSS)",
}
# The page takes a reading in either unit; a refusal of the other unit's field is shown
# at the one input.
INPUT_OF = {"temperature_f": "temperature_c", "pressure_psi": "pressure_kpa"}
T = TypeVar("T")
READING_FIELDS = ("temperature_c", "pressure_kpa", "exposure_minutes", "dry_minutes")
NUMBER_HINTS = dict.fromkeys(READING_FIELDS, "Enter a number, like 121.5.")
STATUS_TAGS = {"running": "info", "passed": "ok", "awaiting_bi": "warn", "failed": "stop"}
STATUS_WORDS = {
    "running": "running",
    "passed": "passed",
    "awaiting_bi": "awaiting BI",
    "failed": "FAILED",
}
COMPLETED = {
    "passed": ("Cycle {number} passed: its packs are sterile.", "success"),
    "awaiting_bi": (
        "Cycle {number} passed; implant packs are held until the BI is read.",
        "warning",
    ),
    "failed": ("Cycle {number} FAILED: its packs must not be used; reprocess them.", "error"),
}


def page_context(zone: ClinicTime) -> dict[str, Any]:
    return {
        "local_text": zone.local_text,
        "status_tags": STATUS_TAGS,
        "status_words": STATUS_WORDS,
        "labels": LABELS,
    }


def refusal_context(refusal: FormRefusal | None) -> dict[str, Any]:
    return {
        "status_code": refusal.status_code if refusal else 200,
        "error": refusal.message if refusal else None,
        "errors": refusal.errors if refusal else {},
    }


@get("/cycles", guards=[any_role], sync_to_thread=True)
def cycles_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    """Today's cycles per sterilizer (the clinic's day), plus what still needs attention."""
    zone = clock.zone
    today = clock.today()
    by_sterilizer: dict[str, list[cycle_queries.CycleLine]] = {}
    for line in cycle_queries.cycles_started_on(db_session, today, zone=zone):
        by_sterilizer.setdefault(line.sterilizer_code, []).append(line)
    return render_page(
        request,
        "sterilization/cycles.html",
        today=today,
        sterilizers=sterilizers.list_sterilizers(db_session),
        by_sterilizer=by_sterilizer,
        awaiting_bi=cycle_queries.cycles_awaiting_bi(db_session),
        stale=cycle_queries.cycles_running_before(db_session, today, zone=zone),
        can_act=can_act(me),
        **page_context(zone),
    )


# Starting a cycle --------------------------------------------------------------------


def render_new_cycle(
    request: Request[Any, Any, Any],
    session: Session,
    clock: Clock,
    *,
    refusal: FormRefusal | None = None,
    form: dict[str, Any] | None = None,
) -> Template:
    all_sterilizers = sterilizers.list_sterilizers(session)
    now = clock.now()
    return render_page(
        request,
        "sterilization/cycle_new.html",
        sterilizers=all_sterilizers,
        readiness={
            s.code: cycles.readiness_warnings(s, zone=clock.zone, now=now)
            for s in all_sterilizers
            if s.status == "in_service"
        },
        cycle_types=cycle_types.list_cycle_types(session),
        bi_products=bi_products.list_bi_products(session),
        assembled=packs.assembled_packs(session),
        form=form or {},
        labels=LABELS,
        nonce=new_nonce(),
        **refusal_context(refusal),
    )


@get("/cycles/new", guards=[ma_or_admin], sync_to_thread=True)
def new_cycle_page(
    request: Request[Any, Any, Any], db_session: Session, clock: Clock, sterilizer: str = ""
) -> Template:
    return render_new_cycle(request, db_session, clock, form={"sterilizer": sterilizer[:40]})


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


def local_time(
    text: str, zone: ClinicTime, name: str, errors: dict[str, str]
) -> dt.datetime | None:
    """A `datetime-local` input ("2026-12-04T09:30"), a wall-clock time in the clinic's
    zone; blank means now."""
    if not text.strip():
        return None
    try:
        wall = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        errors[name] = "Enter a date and time, like 2026-12-04 09:30."
        return None
    if wall.tzinfo is not None:
        return wall
    return zone.instant(wall.date(), wall.time())


def start_form_errors(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The start form against the API's `CycleStart`: (converted values, errors)."""
    converted, errors = convert_form_fields(values, CycleStart)
    if not values["sterilizer"]:
        errors["sterilizer"] = "Choose the sterilizer."
    if not values["cycle_type"]:
        errors["cycle_type"] = "Choose the cycle type."
    return converted, errors


@post("/cycles/new", guards=[ma_or_admin], sync_to_thread=True)
def start_cycle(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    ticked = [packs.normalize_code(c) for c in form_list(data, "pack")]
    # A pack both ticked and scanned is meant once.
    codes = list(dict.fromkeys([*scanned_pack_codes(form_text(data, "codes")), *ticked]))
    form = {
        "sterilizer": form_text(data, "sterilizer"),
        "cycle_type": form_text(data, "cycle_type"),
        "codes": form_text(data, "codes"),
        "ticked": ticked,
        "bi_lot": form_text(data, "bi_lot"),
        "implants": form_checked(data, "implants"),
        "started_at": form_text(data, "started_at"),
        "bi_product": form_text(data, "bi_product"),
        "iuss_reason": form_text(data, "iuss_reason"),
        "iuss_encounter_ref": form_text(data, "iuss_encounter_ref"),
    }
    iuss = (
        {"reason": form["iuss_reason"], "encounter_ref": form["iuss_encounter_ref"]}
        if form["iuss_reason"] or form["iuss_encounter_ref"]
        else None
    )
    start, errors = start_form_errors(
        {
            "sterilizer": form["sterilizer"],
            "cycle_type": form["cycle_type"],
            "packs": codes,
            "bi_lot": form["bi_lot"] or None,
            "implants": form["implants"],
        }
    )
    started_at = local_time(form["started_at"], clock.zone, "started_at", errors)

    def run() -> dict[str, Any]:
        cycle, warnings = cycles.start_cycle(
            db_session,
            sterilizer_code=start["sterilizer"],
            cycle_type=start["cycle_type"],
            pack_codes=list(start["packs"]),
            bi_lot=start["bi_lot"],
            implants=start["implants"],
            started_at=started_at,
            bi_product=(form["bi_product"] or None) if start["bi_lot"] else None,
            iuss=iuss,
            actor=me.username,
            zone=clock.zone,
            now=clock.now(),
        )
        return {"id": cycle.id, "number": cycle.number, "warnings": warnings}

    def done(started: dict[str, Any]) -> tuple[str, str, str]:
        count = len(codes)
        text = f"Cycle {started['number']} started with {count} pack{'s' if count != 1 else ''}."
        if started["warnings"]:
            return f"/cycles/{started['id']}", text + " Read the warnings below.", "warning"
        return f"/cycles/{started['id']}", text, "success"

    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /cycles/new", errors=errors,
        action=run,
        rerender=lambda refusal: render_new_cycle(
            request, db_session, clock, refusal=refusal, form=form
        ),
        done=done,
        again=lambda started: (
            f"Already started (the form was sent twice): cycle {started['number']}."
        ),
    )  # fmt: skip


# One cycle ---------------------------------------------------------------------------


def render_cycle(
    request: Request[Any, Any, Any],
    session: Session,
    cycle_id: int,
    *,
    me: CurrentUser,
    clock: Clock,
    refusal: FormRefusal | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    record = cycle_queries.cycle_record(session, cycle_id)
    cycle = record.cycle
    rule = cycle_types.cycle_type_rule(session, cycle.cycle_type)
    wants_bi = (
        (not rule.is_test or rule.purpose == "bi_test")
        and cycle.status != "running"
        and record.bi is None
        and (cycle.status == "awaiting_bi" or cycle.bi_lot is not None)
    )
    earliest = record.earliest_bi_read_at
    params = record.parameters
    can_release = (
        can_act(me)
        and cycle.status == "awaiting_bi"
        and cycle.early_released_at is None
        and params is not None
        and params.integrator == "pass"
    )
    return render_page(
        request,
        "sterilization/cycle.html",
        record=record,
        cycle=cycle,
        rule=rule,
        failure_reasons=json.loads(record.parameters.failure_reasons) if record.parameters else [],
        entered=json.loads(record.parameters.entered or "{}") if record.parameters else {},
        can_complete=can_act(me) and cycle.status == "running",
        can_record_bi=can_act(me) and wants_bi,
        can_release_early=can_release,
        read_at_text=when_text(earliest, clock) if earliest else None,
        too_early=earliest is not None and earliest > clock.now(),
        can_attach=can_act(me),
        discrepancies=record_import.cycle_discrepancies(
            cycle, record.parameters, record.machine_records
        ),
        form=form or {},
        nonce=new_nonce(),
        **refusal_context(refusal),
        **page_context(clock.zone),
    )


def when_text(at: dt.datetime, clock: Clock) -> str:
    """ "14:36 today", "14:36 tomorrow", else the date and time, in the clinic's zone."""
    day = clock.zone.local_date(at)
    time = clock.zone.local(at).strftime("%H:%M")
    today = clock.today()
    if day == today:
        return f"{time} today"
    if day == today + dt.timedelta(days=1):
        return f"{time} tomorrow"
    return clock.zone.local_text(at)


def known_cycle(session: Session, cycle_id: int) -> Cycle:
    """The cycle of a page path, or an HTML 404 (for absurd ids too)."""
    if not 1 <= cycle_id <= MAX_ID:
        raise NotFound(f"No cycle with id {cycle_id}.")
    return cycle_queries.get_cycle(session, cycle_id)


@get("/cycles/{cycle_id:int}", guards=[any_role], sync_to_thread=True)
def cycle_page(
    request: Request[Any, Any, Any],
    cycle_id: int,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Template:
    known_cycle(db_session, cycle_id)
    return render_cycle(request, db_session, cycle_id, me=me, clock=clock)


def pass_fail(data: dict[str, Any], name: str, what: str, errors: dict[str, str]) -> bool | None:
    value = form_text(data, name)
    if value not in ("pass", "fail"):
        errors[name] = f"Say whether the {what} passed or failed."
        return None
    return value == "pass"


def submit_cycle_form(
    request: Request[Any, Any, Any],
    session: Session,
    me: CurrentUser,
    clock: Clock,
    cycle_id: int,
    data: dict[str, Any],
    *,
    form: str,
    errors: dict[str, str],
    action: Callable[[], T],
    done: Callable[[T], tuple[str, str, str]],
) -> Response[Any]:
    """A form of the cycle page (`complete`, `bi`): refused, the page comes back with what
    was typed and the messages at their fields."""
    typed = {k: form_text(data, k) for k in data if k not in ("_csrf_token", "nonce")}

    def at_inputs(refusal: FormRefusal) -> FormRefusal:
        errors = {INPUT_OF.get(k, k): v for k, v in refusal.errors.items()}
        return dataclasses.replace(refusal, errors=errors)

    return submit_form(
        request, session, me=me, data=data, scope=f"page POST /cycles/{cycle_id}/{form}",
        errors=errors, action=action, done=done,
        rerender=lambda refusal: render_cycle(
            request, session, cycle_id, me=me, clock=clock, refusal=at_inputs(refusal),
            form=typed,
        ),
        again="Already recorded: the form was sent twice.",
    )  # fmt: skip


@post("/cycles/{cycle_id:int}/complete", guards=[ma_or_admin], sync_to_thread=True)
def complete_cycle(
    request: Request[Any, Any, Any],
    cycle_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
    shelf_life: ShelfLife,
) -> Response[Any]:
    cycle = known_cycle(db_session, cycle_id)
    errors: dict[str, str] = {}
    checks = {
        "mechanical_ok": pass_fail(data, "mechanical", "mechanical check", errors),
        "chemical_ok": pass_fail(data, "chemical", "chemical indicator", errors),
    }
    typed = {name: form_text(data, name).replace(",", ".") for name in READING_FIELDS}
    # The unit selects say whether the numbers are °F / psi, as on the printout.
    if form_text(data, "temperature_unit") == "f":
        typed["temperature_f"] = typed.pop("temperature_c")
    if form_text(data, "pressure_unit") == "psi":
        typed["pressure_psi"] = typed.pop("pressure_kpa")
    readings, reading_errors = convert_form_fields(
        {**typed, "notes": form_text(data, "notes")}, CycleComplete, hints=NUMBER_HINTS
    )
    errors.update({INPUT_OF.get(k, k): v for k, v in reading_errors.items()})
    integrator = form_text(data, "integrator")
    if integrator not in ("", "none", "pass", "fail"):
        errors["integrator"] = "Choose the integrator result, or none in this load."
    readings["integrator"] = integrator if integrator in ("pass", "fail") else None
    readings["ended_at"] = local_time(form_text(data, "ended_at"), clock.zone, "ended_at", errors)

    def run() -> str:
        return cycles.complete_cycle(
            db_session,
            cycle.id,
            data=msgspec.structs.asdict(CycleComplete(**checks, **readings)),
            actor=me.username,
            zone=clock.zone,
            shelf_life=shelf_life,
            now=clock.now(),
        ).status

    def done(status: str) -> tuple[str, str, str]:
        text, level = COMPLETED[status]
        return f"/cycles/{cycle.id}", text.format(number=cycle.number), level

    return submit_cycle_form(
        request, db_session, me, clock, cycle.id, data, form="complete", errors=errors,
        action=run, done=done,
    )  # fmt: skip


@post("/cycles/{cycle_id:int}/bi", guards=[ma_or_admin], sync_to_thread=True)
def record_bi_result(
    request: Request[Any, Any, Any],
    cycle_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
    shelf_life: ShelfLife,
) -> Response[Any]:
    cycle = known_cycle(db_session, cycle_id)
    result = form_text(data, "result")
    values = {"result": result, "lot": form_text(data, "lot")}
    bi, errors = convert_form_fields(values, BiResultIn)
    if result not in ("negative", "positive"):
        errors["result"] = "Choose the BI result: negative (no growth) or positive."
    read_at = local_time(form_text(data, "read_at"), clock.zone, "read_at", errors)
    control_grew = form_checked(data, "control_grew")

    def run() -> int | str | None:
        _, recall = indicators.record_bi_result(
            db_session,
            cycle.id,
            result=bi["result"],
            control_grew=control_grew,
            lot=bi["lot"],
            read_at=read_at,
            actor=me.username,
            zone=clock.zone,
            shelf_life=shelf_life,
            now=clock.now(),
        )
        if not control_grew:
            return "invalid"
        return recall.pack_count if recall else None

    def done(recalled: int | str | None) -> tuple[str, str, str]:
        path = f"/cycles/{cycle.id}"
        if recalled == "invalid":
            return (
                path,
                "Invalid spore test recorded (the control vial did not grow): nothing was "
                "released. Repeat the test with a new BI and record its result.",
                "warning",
            )
        if recalled is None:
            return path, "BI negative recorded.", "success"
        return (
            path,
            f"BI POSITIVE: the sterilizer is out of service and a recall of {recalled} "
            "pack(s) is open. Pull the recalled packs.",
            "error",
        )

    return submit_cycle_form(
        request, db_session, me, clock, cycle.id, data, form="bi", errors=errors,
        action=run, done=done,
    )  # fmt: skip


@post("/cycles/{cycle_id:int}/early-release", guards=[ma_or_admin], sync_to_thread=True)
def release_early(
    request: Request[Any, Any, Any],
    cycle_id: int,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
    shelf_life: ShelfLife,
) -> Response[Any]:
    """Release an implant load before its BI (a passed integrator; a reason is required)."""
    cycle = known_cycle(db_session, cycle_id)
    reason = form_text(data, "reason")
    errors = {}
    if len(reason.strip()) < 3:
        errors["reason"] = "Say why the implants are released before the BI result."

    def run() -> int:
        return len(
            early_release.early_release(
                db_session, cycle.id, reason=reason, actor=me.username, zone=clock.zone,
                shelf_life=shelf_life, now=clock.now(),
            )
        )  # fmt: skip

    def done(count: int) -> tuple[str, str, str]:
        return (
            f"/cycles/{cycle.id}",
            f"Released early: {count} implant pack(s) are usable. The BI must still be read; "
            "a positive result recalls them.",
            "warning",
        )

    return submit_cycle_form(
        request, db_session, me, clock, cycle.id, data, form="early-release", errors=errors,
        action=run, done=done,
    )  # fmt: skip


page_handlers: list[Any] = [
    cycles_page,
    new_cycle_page,
    start_cycle,
    cycle_page,
    complete_cycle,
    record_bi_result,
    release_early,
]
