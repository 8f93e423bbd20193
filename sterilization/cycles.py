"""The cycle log's write path: starting a load (with its warnings), completing it against
its type's minimums, and amendments. A completed cycle is never edited; corrections are
appended. Reading the log is `cycle_queries`; cycle types are `cycle_types`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.clock import ClinicTime
from kernel.problems import Conflict, InvalidInput
from sterilization import sterilizers as sterilizer_rules
from sterilization.cycle_queries import get_cycle
from sterilization.cycle_types import BUILTIN_CYCLE_TYPES, CycleTypeRule, cycle_type_rule
from sterilization.models import Cycle, CycleAmendment, CycleParameters, Pack, Sterilizer
from sterilization.packs import dumps, move_packs, normalize_code
from sterilization.shelf_life import ShelfLife

# Starting ----------------------------------------------------------------------------


def _start_warnings(
    sterilizer: Sterilizer,
    rule: CycleTypeRule,
    *,
    implants: bool,
    bi_lot: str | None,
    zone: ClinicTime,
    now: dt.datetime,
) -> list[str]:
    warnings: list[str] = []
    if rule.purpose != "load":
        return warnings
    today = zone.local_date(now)
    if sterilizer.kind == "steam_prevac" and (
        sterilizer.last_bowie_dick_at is None
        or zone.local_date(sterilizer.last_bowie_dick_at) != today
    ):
        warnings.append(
            f"No passed Bowie-Dick test today on {sterilizer.name}: run one before the first "
            "load of the day."
        )
    if implants and not bi_lot:
        warnings.append(
            "This load contains implants but no biological indicator (BI): implants should "
            "be run with a BI and held until it is negative."
        )
    if not bi_lot and (
        sterilizer.last_bi_at is None or not zone.same_week(sterilizer.last_bi_at, today)
    ):
        warnings.append(
            f"No spore test (BI) recorded on {sterilizer.name} this week: include a BI in a "
            "load this week."
        )
    return warnings


def readiness_warnings(sterilizer: Sterilizer, *, zone: ClinicTime, now: dt.datetime) -> list[str]:
    """What starting a routine load on this sterilizer now would warn about (no
    Bowie-Dick today, no BI this week), shown before the MA starts it."""
    load = next(r for r in BUILTIN_CYCLE_TYPES.values() if r.purpose == "load")
    return _start_warnings(sterilizer, load, implants=False, bi_lot=None, zone=zone, now=now)


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
) -> tuple[Cycle, list[str]]:
    """Start a load: number it, load its assembled packs. Refused when the sterilizer is
    out of service or a pack is not `assembled`; warnings never refuse."""
    sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.code == sterilizer_code))
    if sterilizer is None:
        raise InvalidInput(f"No sterilizer with code {sterilizer_code!r}.", field="sterilizer")
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
    if rule.is_test and bi_lot:
        raise InvalidInput(
            f"A {rule.code} test cycle carries no biological indicator.", field="bi_lot"
        )
    packs = (
        list(
            session.execute(
                select(Pack.code, Pack.status, Pack.implant).where(Pack.code.in_(codes))
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

    # One atomic UPDATE both refuses an out-of-service sterilizer and hands out the next
    # number; on PostgreSQL it also locks the row until commit, so concurrent starts queue.
    number = session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id, Sterilizer.status == "in_service")
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
    warnings = _start_warnings(
        sterilizer, rule, implants=has_implants, bi_lot=bi_lot, zone=zone, now=now
    )
    cycle = Cycle(
        sterilizer_id=sterilizer.id,
        number=number,
        cycle_type=rule.code,
        status="running",
        operator=actor,
        implants=has_implants,
        bi_lot=bi_lot,
        warnings=dumps(warnings),
        started_at=now,
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
            at=now,
            details={"cycle": number, "sterilizer": sterilizer.code, "cycle_id": cycle.id},
            values={"cycle_id": cycle.id},
        )
        if len(moved) != len(codes):  # another tablet loaded one of them meanwhile
            raise Conflict("Some packs were loaded into another cycle meanwhile; try again.")
    audit.record(
        session,
        actor=actor,
        action="cycle.start",
        entity="cycle",
        entity_id=cycle.id,
        after={**audit.snapshot(cycle), "sterilizer": sterilizer.code, "packs": codes},
    )
    return cycle, warnings


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
    """Record the readings and decide the outcome: failed (any check false or a minimum
    not met), awaiting_bi (implants with a BI in the load) or passed."""
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
    quarantine_implants = not reasons and cycle.implants and cycle.bi_lot is not None
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
        sterile_values = {"sterilized_at": now, "expires_on": shelf_life.expiry_for(now, zone)}
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
        move_packs(
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
        after={"status": outcome, "reasons": reasons, **data},
    )
    session.refresh(cycle)
    return cycle


# Amendments --------------------------------------------------------------------------

NUMBER_FIELDS = ("temperature_c", "pressure_kpa", "exposure_minutes", "dry_minutes")
BOOL_FIELDS = ("mechanical_ok", "chemical_ok")
TEXT_FIELDS = ("notes", "bi_lot", "operator")
AMENDABLE_FIELDS = (*NUMBER_FIELDS, *BOOL_FIELDS, *TEXT_FIELDS)


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
