"""The cycle log's write path: starting a load (with its warnings), completing it against
its type's minimums, and amendments. A completed cycle is never edited; corrections are
appended. Reading the log is `cycle_queries`; cycle types are `cycle_types`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.auth.competencies import competency_warnings
from kernel.clock import ClinicTime
from kernel.encounters import normalize_encounter_ref
from kernel.problems import Conflict, InvalidInput
from kernel.sites.codes import zone_of
from sterilization import bi_products, cycle_times
from sterilization import sterilizers as sterilizer_rules
from sterilization.cycle_queries import get_cycle
from sterilization.cycle_types import BUILTIN_CYCLE_TYPES, CycleTypeRule, cycle_type_rule
from sterilization.models import (
    Cycle,
    CycleAmendment,
    CycleLoad,
    CycleParameters,
    Pack,
    Sterilizer,
)
from sterilization.packs import dumps, move_packs, normalize_code
from sterilization.readings import normalise_readings
from sterilization.shelf_life import ShelfLife, apply_template_shelf_lives

# Starting ----------------------------------------------------------------------------


def _start_warnings(
    sterilizer: Sterilizer,
    rule: CycleTypeRule,
    *,
    implants: bool,
    bi_lot: str | None,
    zone: ClinicTime,
    now: dt.datetime,
    last_bi_load_at: dt.datetime | None = None,
) -> list[str]:
    warnings: list[str] = []
    if rule.purpose != "load":
        return warnings
    zone = zone_of(sterilizer, zone)  # "today" and "this week" are the sterilizer's site's
    today = zone.local_date(now)
    if sterilizer.kind == "steam_prevac" and (
        sterilizer.last_bowie_dick_at is None
        or zone.local_date(sterilizer.last_bowie_dick_at) != today
    ):
        warnings.append(
            f"No passed Bowie-Dick test today on {sterilizer.name}: run one before the first "
            "load of the day."
        )
    if not bi_lot:
        # A BI run in a load counts from that load (its result comes a day later).
        last = max((t for t in (sterilizer.last_bi_at, last_bi_load_at) if t), default=None)
        if sterilizer.bi_frequency == "every_load":
            warnings.append(
                f"{sterilizer.name} needs a spore test (BI) in every load: this load has none."
            )
        elif sterilizer.bi_frequency == "daily" and (
            last is None or zone.local_date(last) != today
        ):
            warnings.append(
                f"No spore test (BI) recorded on {sterilizer.name} today: include a BI in a "
                "load today."
            )
        elif sterilizer.bi_frequency == "weekly" and (
            last is None or not zone.same_week(last, today)
        ):
            warnings.append(
                f"No spore test (BI) recorded on {sterilizer.name} this week: include a BI in "
                "a load this week."
            )
    return warnings


def readiness_warnings(sterilizer: Sterilizer, *, zone: ClinicTime, now: dt.datetime) -> list[str]:
    """What starting a routine load on this sterilizer now would warn about (no
    Bowie-Dick today, no BI this week), shown before the MA starts it."""
    load = next(r for r in BUILTIN_CYCLE_TYPES.values() if r.purpose == "load")
    return _start_warnings(sterilizer, load, implants=False, bi_lot=None, zone=zone, now=now)


def _iuss(rule: CycleTypeRule, iuss: dict[str, str] | None) -> tuple[str | None, str | None]:
    """(reason, encounter) of an immediate-use cycle: required for `flash_132_3`, refused
    for any other type."""
    if not rule.is_iuss:
        if iuss:
            raise InvalidInput.for_field(
                "iuss", f"Only {rule.code if rule.is_iuss else 'flash_132_3'} cycles are "
                "immediate-use (IUSS).", message="not an IUSS cycle",
            )  # fmt: skip
        return None, None
    reason = ((iuss or {}).get("reason") or "").strip()
    ref = normalize_encounter_ref((iuss or {}).get("encounter_ref") or "")
    if not reason or not ref:
        raise InvalidInput.for_field(
            "iuss",
            "Immediate-use steam sterilization (IUSS) needs the reason and the patient "
            "encounter it is for: iuss {reason, encounter_ref}.",
            message="reason and encounter_ref required",
        )
    return reason, ref


def start_cycle(
    session: Session,
    *,
    sterilizer_code: str,
    cycle_type: str,
    pack_codes: list[str],
    bi_lot: str | None,
    implants: bool | None,
    actor: str,
    zone: ClinicTime,
    now: dt.datetime,
    started_at: dt.datetime | None = None,
    bi_product: str | None = None,
    iuss: dict[str, str] | None = None,
    machine_cycle_number: int | None = None,
) -> tuple[Cycle, list[str]]:
    """Start a load: number it, load its assembled packs. Refused when the sterilizer is
    running another cycle or is out of service, when a pack is not `assembled`, or when
    `started_at` is out of bounds; warnings never refuse."""
    # Locks the sterilizer's row (PostgreSQL; SQLite writers queue anyway) so two tablets
    # cannot both start a cycle on it.
    sterilizer = session.scalar(
        select(Sterilizer).where(Sterilizer.code == sterilizer_code).with_for_update()
    )
    if sterilizer is None:
        raise InvalidInput(f"No sterilizer with code {sterilizer_code!r}.", field="sterilizer")
    running = session.scalar(
        select(Cycle)
        .where(Cycle.sterilizer_id == sterilizer.id, Cycle.status == "running")
        .order_by(Cycle.number)
        .limit(1)
    )
    if running is not None:
        raise Conflict(
            f"Cycle {running.number} ({running.cycle_type}) is still running on "
            f"{sterilizer.name} since {zone.local_text(running.started_at)}: complete it "
            "before starting another.",
            extra={"running_cycle": {"id": running.id, "number": running.number}},
        )
    at = cycle_times.start_time(session, sterilizer, started_at, now=now, zone=zone)
    rule = cycle_type_rule(session, cycle_type)
    if rule.sterilizer_kinds and sterilizer.kind not in rule.sterilizer_kinds:
        raise InvalidInput(
            f"{sterilizer.name} is a {sterilizer.kind} sterilizer and cannot run {rule.code} "
            f"(needs {' or '.join(rule.sterilizer_kinds)}).",
            field="cycle_type",
        )
    codes = [normalize_code(c) for c in pack_codes]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise InvalidInput(f"Pack codes listed twice: {', '.join(duplicates)}.", field="packs")
    if rule.is_test and codes:
        raise InvalidInput(
            f"A {rule.code} test cycle runs empty; take the packs out.", field="packs"
        )
    bi_lot = bi_lot.strip() if bi_lot else None
    if rule.purpose == "bi_test" and not bi_lot:
        raise InvalidInput.for_field(
            "bi_lot", "A bi_test cycle runs an empty chamber with a BI: give its lot.",
            message="required for a bi_test",
        )  # fmt: skip
    if rule.is_test and rule.purpose != "bi_test" and bi_lot:
        raise InvalidInput(
            f"A {rule.code} test cycle carries no biological indicator.", field="bi_lot"
        )
    iuss_reason, iuss_ref = _iuss(rule, iuss)
    packs = (
        list(
            session.execute(
                select(Pack.id, Pack.code, Pack.description, Pack.status, Pack.implant)
                .where(Pack.code.in_(codes))
                .order_by(Pack.id)
            )
        )
        if codes
        else []
    )
    unknown = sorted(set(codes) - {p.code for p in packs})
    if unknown:
        raise InvalidInput(f"No pack with code {', '.join(unknown)}.", field="packs")
    not_ready = sorted(f"{p.code} is {p.status}" for p in packs if p.status != "assembled")
    if not_ready:
        raise Conflict(
            "Only assembled packs can be loaded: " + "; ".join(not_ready) + ".",
            field="packs",
            extra={"packs": not_ready},
        )
    has_implants = bool(implants) or any(p.implant for p in packs)
    if rule.is_iuss and has_implants:
        raise InvalidInput.for_field(
            "packs",
            "Implants are never sterilized for immediate use (IUSS): run them in a full "
            "cycle with a BI.",
            message="implants refused in IUSS",
        )
    if has_implants and not bi_lot:
        raise InvalidInput.for_field(
            "bi_lot",
            "This load contains implants: it needs a biological indicator (BI). Add a BI, "
            "give its lot, and the implants are held until it reads negative.",
            message="required for an implant load",
        )
    if bi_product and not bi_lot:
        raise InvalidInput.for_field(
            "bi_lot", "A BI product goes with the BI's lot number.", message="required"
        )
    product = bi_products.product_for_cycle(session, bi_product) if bi_lot else None

    # One atomic UPDATE both refuses an out-of-service sterilizer and hands out the next
    # number; on PostgreSQL it also locks the row until commit, so concurrent starts queue.
    number = session.execute(
        update(Sterilizer)
        .where(
            Sterilizer.id == sterilizer.id,
            # Test cycles (Bowie-Dick, leak, BI test) run while it is out of service.
            Sterilizer.status == "in_service" if not rule.is_test else True,
        )
        .values(last_cycle_number=Sterilizer.last_cycle_number + 1)
        .returning(Sterilizer.last_cycle_number)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if number is None:
        session.refresh(sterilizer)
        raise Conflict(
            f"{sterilizer.name} is out of service ({sterilizer.status_reason}); it cannot run "
            "cycles until an administrator puts it back in service.",
            extra={"sterilizer": sterilizer.code, "current_status": sterilizer.status},
        )
    session.refresh(sterilizer)
    # Only a routine load without a BI on a weekly or daily cadence asks when the last one ran.
    last_bi_load_at = (
        session.scalar(
            select(func.max(Cycle.started_at)).where(
                Cycle.sterilizer_id == sterilizer.id, Cycle.bi_lot.is_not(None)
            )
        )
        if rule.purpose == "load" and not bi_lot and sterilizer.bi_frequency != "every_load"
        else None
    )
    warnings = _start_warnings(
        sterilizer, rule, implants=has_implants, bi_lot=bi_lot, zone=zone, now=at,
        last_bi_load_at=last_bi_load_at,
    )  # fmt: skip
    warnings += competency_warnings(session, actor, "sterilizer_operation", zone.local_date(now))
    cycle = Cycle(
        sterilizer_id=sterilizer.id,
        site_id=sterilizer.site_id,
        number=number,
        cycle_type=rule.code,
        status="running",
        operator=actor,
        implants=has_implants,
        bi_lot=bi_lot,
        bi_product_id=product.id if product else None,
        iuss_reason=iuss_reason,
        iuss_encounter_ref=iuss_ref,
        warnings=dumps(warnings),
        started_at=at,
        machine_cycle_number=machine_cycle_number,
    )
    session.add(cycle)
    session.flush()
    if codes:
        moved = move_packs(
            session,
            Pack.code.in_(codes),
            to="loaded",
            only_from=["assembled"],
            event="loaded",
            actor=actor,
            at=at,
            details={"cycle": number, "sterilizer": sterilizer.code, "cycle_id": cycle.id},
            values={"cycle_id": cycle.id},
        )
        if len(moved) != len(codes):  # another tablet loaded one of them meanwhile
            raise Conflict("Some packs were loaded into another cycle meanwhile; try again.")
    record_load(session, cycle.id, [(p.code, p.description) for p in packs])
    audit.record(
        session,
        actor=actor,
        action="cycle.start",
        entity="cycle",
        entity_id=cycle.id,
        after={**audit.snapshot(cycle), "sterilizer": sterilizer.code, "packs": codes},
    )
    return cycle, warnings


def record_load(session: Session, cycle_id: int, packs: Sequence[tuple[str, str]]) -> None:
    """Write the cycle's load list (`CycleLoad`): its packs' (code, description), in pack
    order (every cycle has one; an empty chamber lists none)."""
    session.add(
        CycleLoad(
            cycle_id=cycle_id,
            pack_count=len(packs),
            pack_codes=" ".join(code for code, _ in packs),
            pack_descriptions="; ".join(description for _, description in packs),
        )
    )


# Completing --------------------------------------------------------------------------


def _failure_reasons(rule: CycleTypeRule, data: dict[str, Any]) -> list[str]:
    reasons = []
    if not data["mechanical_ok"]:
        reasons.append(
            "leak test failed" if rule.purpose == "leak_test" else "mechanical check failed"
        )
    if not data["chemical_ok"]:
        reasons.append(
            "Bowie-Dick sheet shows incomplete air removal"
            if rule.purpose == "bowie_dick"
            else "chemical indicator did not pass"
        )
    if data.get("integrator") == "fail":
        reasons.append("Class 5 integrator / PCD did not pass")
    temperature, exposure = data.get("temperature_c"), data.get("exposure_minutes")
    if rule.min_temperature_c is not None and temperature < rule.min_temperature_c:
        reasons.append(
            f"temperature {temperature:g} °C is below the {rule.min_temperature_c:g} °C minimum"
        )
    if rule.min_exposure_minutes is not None and exposure < rule.min_exposure_minutes:
        reasons.append(
            f"exposure {exposure:g} min is below the {rule.min_exposure_minutes:g} min minimum"
        )
    return reasons


def complete_cycle(
    session: Session,
    cycle_id: int,
    *,
    data: dict[str, Any],
    actor: str,
    zone: ClinicTime,
    shelf_life: ShelfLife,
    now: dt.datetime,
) -> Cycle:
    """Record the readings and decide the outcome: failed (any check false, a failed
    integrator or a minimum not met), awaiting_bi (implants with a BI in the load) or
    passed. `data` may give `temperature_f` / `pressure_psi` instead of °C / kPa, and
    `ended_at` (default now)."""
    cycle = get_cycle(session, cycle_id)
    sterilizer = session.get(Sterilizer, cycle.sterilizer_id)
    assert sterilizer is not None
    if cycle.status != "running":
        raise Conflict(
            f"Cycle {cycle.number} on {sterilizer.name} is already completed ({cycle.status}); "
            "completed cycles cannot be changed, add an amendment instead.",
            extra={"current_status": cycle.status},
        )
    rule = cycle_type_rule(session, cycle.cycle_type)
    data, entered = normalise_readings(data, kind=sterilizer.kind)
    ended_at = data.pop("ended_at", None)
    now = cycle_times.end_time(
        cycle, ended_at, exposure_minutes=data.get("exposure_minutes"), now=now, zone=zone
    )
    missing = [
        name
        for name, minimum in (
            ("temperature_c", rule.min_temperature_c),
            ("exposure_minutes", rule.min_exposure_minutes),
        )
        if minimum is not None and data.get(name) is None
    ]
    if missing:
        raise InvalidInput(
            f"A {rule.code} cycle needs {' and '.join(missing)}.",
            extra={
                "errors": [
                    {"field": m, "message": "required for this cycle type", "source": "body"}
                    for m in missing
                ]
            },
        )
    reasons = _failure_reasons(rule, data)
    quarantine_implants = not reasons and cycle.implants
    outcome = "failed" if reasons else "awaiting_bi" if quarantine_implants else "passed"

    # Conditional on `running`: of two simultaneous completions only one gets through.
    done = session.execute(
        update(Cycle)
        .where(Cycle.id == cycle.id, Cycle.status == "running")
        .values(status=outcome, ended_at=now, completed_by=actor)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise Conflict(f"Cycle {cycle.number} on {sterilizer.name} was completed meanwhile.")
    session.add(
        CycleParameters(
            cycle_id=cycle.id,
            temperature_c=data.get("temperature_c"),
            pressure_kpa=data.get("pressure_kpa"),
            exposure_minutes=data.get("exposure_minutes"),
            dry_minutes=data.get("dry_minutes"),
            mechanical_ok=data["mechanical_ok"],
            chemical_ok=data["chemical_ok"],
            integrator=data.get("integrator"),
            entered=dumps(entered),
            notes=data.get("notes"),
            failure_reasons=dumps(reasons),
            recorded_by=actor,
            recorded_at=now,
        )
    )
    session.flush()
    details = {"cycle": cycle.number, "sterilizer": sterilizer.code, "cycle_id": cycle.id}
    in_cycle = Pack.cycle_id == cycle.id
    if outcome == "failed":
        move_packs(
            session,
            in_cycle,
            to="failed",
            only_from=["loaded"],
            event="failed",
            actor=actor,
            at=now,
            details={**details, "reasons": reasons},
        )
    else:
        expires_on = shelf_life.expiry_for(now, zone_of(cycle, zone))  # in the site's days
        sterile_values = {"sterilized_at": now, "expires_on": expires_on}
        if quarantine_implants:
            implant_packs = session.scalar(
                select(func.count()).select_from(Pack).where(in_cycle, Pack.implant.is_(True))
            )
            # Declared implants but no pack flagged: hold the whole load, to be safe.
            held = in_cycle & Pack.implant.is_(True) if implant_packs else in_cycle
            move_packs(
                session,
                held,
                to="quarantined",
                only_from=["loaded"],
                event="quarantined",
                actor=actor,
                at=now,
                details={**details, "awaiting": "BI result"},
                values={"sterilized_at": now},
            )
        sterilized = move_packs(
            session,
            in_cycle,
            to="sterile",
            only_from=["loaded"],
            event="sterilized",
            actor=actor,
            at=now,
            details=details,
            values=sterile_values,
        )
        apply_template_shelf_lives(session, sterilized, zone)
    if outcome == "passed" and cycle.iuss_reason is not None:
        # IUSS packs are never stored: used on their encounter at once.
        move_packs(
            session,
            in_cycle,
            to="used",
            only_from=["sterile"],
            event="iuss_use",
            actor=actor,
            at=now,
            details={**details, "encounter_ref": cycle.iuss_encounter_ref,
                     "reason": cycle.iuss_reason},
            values={"used_at": now, "used_by": actor, "encounter_ref": cycle.iuss_encounter_ref},
        )  # fmt: skip
    if rule.is_test:
        sterilizer_rules.apply_test_result(
            session,
            sterilizer,
            rule_purpose=rule.purpose,
            cycle=cycle,
            passed=not reasons,
            reasons=reasons,
            actor=actor,
            now=now,
        )
    audit.record(
        session,
        actor=actor,
        action="cycle.complete",
        entity="cycle",
        entity_id=cycle.id,
        before={"status": "running"},
        after={
            "status": outcome,
            "reasons": reasons,
            "ended_at": now,
            "entered": entered,
            **data,
        },
    )
    session.refresh(cycle)
    return cycle


# Amendments --------------------------------------------------------------------------

NUMBER_FIELDS = ("temperature_c", "pressure_kpa", "exposure_minutes", "dry_minutes")
BOOL_FIELDS = ("mechanical_ok", "chemical_ok")
TEXT_FIELDS = ("notes", "bi_lot", "operator")
AMENDABLE_FIELDS = (*NUMBER_FIELDS, *BOOL_FIELDS, *TEXT_FIELDS)
# The same reading bounds as completing a cycle (schemas.CycleComplete): a correction is
# no way around them (1e308 °C on the cycle page, PDF and history).
NUMBER_MAX = {
    "temperature_c": 400,
    "pressure_kpa": 1000,
    "exposure_minutes": 1440,
    "dry_minutes": 1440,
}


def _out_of_bounds(field: str, value: Any) -> bool:
    return field in NUMBER_MAX and not (0 <= value <= NUMBER_MAX[field])  # NaN fails too


def _original_value(cycle: Cycle, params: CycleParameters | None, field: str) -> Any:
    if field in ("bi_lot", "operator"):
        return getattr(cycle, field)
    return getattr(params, field) if params is not None else None


def add_amendment(
    session: Session,
    cycle_id: int,
    *,
    field: str,
    value: Any,
    reason: str,
    actor: str,
    now: dt.datetime,
) -> CycleAmendment:
    """Append a correction; the original record and its outcome stay as they were."""
    cycle = get_cycle(session, cycle_id)
    if cycle.status == "running":
        raise Conflict(
            f"Cycle {cycle.number} is still running; record the values when completing it."
        )
    if field not in AMENDABLE_FIELDS:
        raise InvalidInput(
            f"{field!r} cannot be amended; amendable fields: {', '.join(AMENDABLE_FIELDS)}.",
            extra={"errors": [{"field": "field", "message": "not amendable", "source": "body"}]},
        )
    wrong_type = (
        (
            field in NUMBER_FIELDS
            and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0)
        )
        or (field in BOOL_FIELDS and not isinstance(value, bool))
        or (field in TEXT_FIELDS and not (isinstance(value, str) and value.strip()))
    )
    if not wrong_type and _out_of_bounds(field, value):
        expected = f"a number from 0 to {NUMBER_MAX[field]}"
        raise InvalidInput(
            f"{field} must be {expected}.",
            extra={
                "errors": [{"field": "value", "message": f"expected {expected}", "source": "body"}]
            },
        )
    if wrong_type:
        expected = (
            "a number of zero or more"
            if field in NUMBER_FIELDS
            else "true or false"
            if field in BOOL_FIELDS
            else "a non-empty text"
        )
        raise InvalidInput(
            f"{field} must be {expected}.",
            extra={
                "errors": [{"field": "value", "message": f"expected {expected}", "source": "body"}]
            },
        )
    params = session.get(CycleParameters, cycle.id)
    amendment = CycleAmendment(
        cycle_id=cycle.id,
        field=field,
        original=dumps(_original_value(cycle, params, field)),
        value=dumps(value),
        reason=reason.strip(),
        actor=actor,
        at=now,
    )
    session.add(amendment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="cycle.amend",
        entity="cycle",
        entity_id=cycle.id,
        after=audit.snapshot(amendment),
    )
    return amendment
