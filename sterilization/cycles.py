"""The cycle log: cycle types, starting a load, completing it against the type's minimums,
and amendments. A completed cycle is never edited; corrections are appended."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.db import utcnow
from kernel.problems import Conflict, InvalidInput, NotFound
from sterilization import sterilizers as sterilizer_rules
from sterilization.clinic import Clinic
from sterilization.models import (
    BiResult,
    Cycle,
    CycleAmendment,
    CycleParameters,
    CycleType,
    Pack,
    Sterilizer,
)
from sterilization.packs import dumps, move_packs, normalize_code

STEAM = ("steam_prevac", "steam_gravity")


@dataclass(frozen=True)
class CycleTypeRule:
    """What a cycle type demands: the minimum temperature and exposure time (None: no
    minimum), which sterilizer kinds can run it, and whether it is a load or a test."""

    code: str
    name: str
    purpose: str  # "load", "bowie_dick" or "leak_test"
    min_temperature_c: float | None
    min_exposure_minutes: float | None
    sterilizer_kinds: tuple[str, ...] = ()
    builtin: bool = True

    @property
    def is_test(self) -> bool:
        return self.purpose != "load"


BUILTIN_CYCLE_TYPES: dict[str, CycleTypeRule] = {
    rule.code: rule
    for rule in (
        CycleTypeRule(
            "prevac_132_4", "Pre-vacuum 132 °C, 4 min", "load", 132, 4, ("steam_prevac",)
        ),
        CycleTypeRule(
            "prevac_134_3", "Pre-vacuum 134 °C, 3 min", "load", 134, 3, ("steam_prevac",)
        ),
        CycleTypeRule("gravity_121_30", "Gravity 121 °C, 30 min", "load", 121, 30, STEAM),
        CycleTypeRule("gravity_132_15", "Gravity 132 °C, 15 min", "load", 132, 15, STEAM),
        CycleTypeRule("flash_132_3", "Immediate use 132 °C, 3 min", "load", 132, 3, STEAM),
        CycleTypeRule(
            "bowie_dick", "Bowie-Dick air-removal test", "bowie_dick", 132, 3.5, ("steam_prevac",)
        ),
        CycleTypeRule("leak_test", "Vacuum leak test", "leak_test", None, None, ("steam_prevac",)),
    )
}


def _custom_rule(row: CycleType) -> CycleTypeRule:
    kinds = tuple(k for k in row.sterilizer_kinds.split(",") if k)
    return CycleTypeRule(
        row.code, row.name, "load", row.min_temperature_c, row.min_exposure_minutes, kinds, False
    )


def cycle_type_rule(session: Session, code: str) -> CycleTypeRule:
    rule = BUILTIN_CYCLE_TYPES.get(code)
    if rule is not None:
        return rule
    row = session.scalar(select(CycleType).where(CycleType.code == code))
    if row is None:
        known = ", ".join(BUILTIN_CYCLE_TYPES)
        raise InvalidInput(
            f"Unknown cycle type {code!r}. Use one of {known} or a type an administrator "
            "configured."
        )
    return _custom_rule(row)


def list_cycle_types(session: Session) -> list[CycleTypeRule]:
    custom = session.scalars(select(CycleType).order_by(CycleType.code))
    return [*BUILTIN_CYCLE_TYPES.values(), *(_custom_rule(row) for row in custom)]


def create_cycle_type(
    session: Session,
    *,
    code: str,
    name: str,
    min_temperature_c: float,
    min_exposure_minutes: float,
    sterilizer_kinds: list[str],
    actor: str,
) -> CycleTypeRule:
    if code in BUILTIN_CYCLE_TYPES or session.scalar(
        select(CycleType.id).where(CycleType.code == code)
    ):
        raise Conflict(f"Cycle type {code!r} already exists.")
    row = CycleType(
        code=code,
        name=name,
        min_temperature_c=min_temperature_c,
        min_exposure_minutes=min_exposure_minutes,
        sterilizer_kinds=",".join(dict.fromkeys(sterilizer_kinds)),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="cycle_type.create",
        entity="cycle_type",
        entity_id=code,
        after=audit.snapshot(row),
    )
    return _custom_rule(row)


# Starting ----------------------------------------------------------------------------


def _start_warnings(
    sterilizer: Sterilizer,
    rule: CycleTypeRule,
    *,
    implants: bool,
    bi_lot: str | None,
    clinic: Clinic,
    now: dt.datetime,
) -> list[str]:
    warnings: list[str] = []
    if rule.purpose != "load":
        return warnings
    today = clinic.local_date(now)
    if sterilizer.kind == "steam_prevac" and (
        sterilizer.last_bowie_dick_at is None
        or clinic.local_date(sterilizer.last_bowie_dick_at) != today
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
        sterilizer.last_bi_at is None
        or clinic.local_date(sterilizer.last_bi_at).isocalendar()[:2] != today.isocalendar()[:2]
    ):
        warnings.append(
            f"No spore test (BI) recorded on {sterilizer.name} this week: include a BI in a "
            "load this week."
        )
    return warnings


def start_cycle(
    session: Session,
    *,
    sterilizer_code: str,
    cycle_type: str,
    pack_codes: list[str],
    bi_lot: str | None,
    implants: bool | None,
    actor: str,
    clinic: Clinic,
    now: dt.datetime | None = None,
) -> tuple[Cycle, list[str]]:
    """Start a load: number it, load its assembled packs. Refused when the sterilizer is
    out of service or a pack is not `assembled`; warnings never refuse."""
    now = now or utcnow()
    sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.code == sterilizer_code))
    if sterilizer is None:
        raise InvalidInput(f"No sterilizer with code {sterilizer_code!r}.")
    rule = cycle_type_rule(session, cycle_type)
    if rule.sterilizer_kinds and sterilizer.kind not in rule.sterilizer_kinds:
        raise InvalidInput(
            f"{sterilizer.name} is a {sterilizer.kind} sterilizer and cannot run {rule.code} "
            f"(needs {' or '.join(rule.sterilizer_kinds)})."
        )
    codes = [normalize_code(c) for c in pack_codes]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise InvalidInput(f"Pack codes listed twice: {', '.join(duplicates)}.")
    if rule.is_test and codes:
        raise InvalidInput(f"A {rule.code} test cycle runs empty; take the packs out.")
    bi_lot = bi_lot.strip() if bi_lot else None
    if rule.is_test and bi_lot:
        raise InvalidInput(f"A {rule.code} test cycle carries no biological indicator.")
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
        raise InvalidInput(f"No pack with code {', '.join(unknown)}.")
    not_ready = sorted(f"{p.code} is {p.status}" for p in packs if p.status != "assembled")
    if not_ready:
        raise Conflict(
            "Only assembled packs can be loaded: " + "; ".join(not_ready) + ".",
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
        sterilizer, rule, implants=has_implants, bi_lot=bi_lot, clinic=clinic, now=now
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
    clinic: Clinic,
    now: dt.datetime | None = None,
) -> Cycle:
    """Record the readings and decide the outcome: failed (any check false or a minimum
    not met), awaiting_bi (implants with a BI in the load) or passed."""
    now = now or utcnow()
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
        sterile_values = {"sterilized_at": now, "expires_on": clinic.expiry_for(now)}
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
    now: dt.datetime | None = None,
) -> CycleAmendment:
    """Append a correction; the original record and its outcome stay as they were."""
    now = now or utcnow()
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


# Reading -----------------------------------------------------------------------------


def get_cycle(session: Session, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"No cycle with id {cycle_id}.")
    return cycle


@dataclass
class CycleRecord:
    cycle: Cycle
    sterilizer: Sterilizer
    parameters: CycleParameters | None
    bi: BiResult | None
    amendments: list[CycleAmendment]
    packs: list[Pack]

    @property
    def warnings(self) -> list[str]:
        return json.loads(self.cycle.warnings)


def cycle_record(session: Session, cycle_id: int) -> CycleRecord:
    cycle = get_cycle(session, cycle_id)
    sterilizer = session.get(Sterilizer, cycle.sterilizer_id)
    assert sterilizer is not None
    return CycleRecord(
        cycle=cycle,
        sterilizer=sterilizer,
        parameters=session.get(CycleParameters, cycle.id),
        bi=session.scalar(select(BiResult).where(BiResult.cycle_id == cycle.id)),
        amendments=list(
            session.scalars(
                select(CycleAmendment)
                .where(CycleAmendment.cycle_id == cycle.id)
                .order_by(CycleAmendment.at, CycleAmendment.id)
            )
        ),
        packs=list(
            session.scalars(select(Pack).where(Pack.cycle_id == cycle.id).order_by(Pack.id))
        ),
    )


# Overviews for the tablet pages and the dashboard -------------------------------------


@dataclass(frozen=True)
class CycleLine:
    """One cycle in a list: the cycle, its sterilizer, how many packs, its BI result."""

    cycle: Cycle
    sterilizer_code: str
    sterilizer_name: str
    pack_count: int
    bi_result: str | None


def _cycle_lines(session: Session, *where: Any, limit: int = 500) -> list[CycleLine]:
    pack_count = (
        select(func.count()).select_from(Pack).where(Pack.cycle_id == Cycle.id)
    ).scalar_subquery()
    rows = session.execute(
        select(Cycle, Sterilizer.code, Sterilizer.name, pack_count, BiResult.result)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(*where)
        .order_by(Sterilizer.name, Cycle.started_at, Cycle.id)
        .limit(limit)
    ).all()
    return [CycleLine(c, code, name, count or 0, bi) for c, code, name, count, bi in rows]


def cycles_started_on(session: Session, day: dt.date, *, clinic: Clinic) -> list[CycleLine]:
    """The cycles started on a clinic day (in the clinic's zone), by sterilizer."""
    start = clinic.start_of_day(day)
    end = clinic.start_of_day(day + dt.timedelta(days=1))
    return _cycle_lines(session, Cycle.started_at >= start, Cycle.started_at < end)


def cycles_awaiting_bi(session: Session) -> list[CycleLine]:
    """Completed loads that carried a biological indicator whose result is not in yet
    (implant loads held in quarantine, and routine loads with the weekly BI)."""
    return _cycle_lines(
        session,
        Cycle.status.in_(["awaiting_bi", "passed"]),
        Cycle.bi_lot.is_not(None),
        BiResult.id.is_(None),
    )


def cycles_running_before(session: Session, day: dt.date, *, clinic: Clinic) -> list[CycleLine]:
    """Cycles still marked running that were started before `day`: forgotten to complete."""
    return _cycle_lines(
        session, Cycle.status == "running", Cycle.started_at < clinic.start_of_day(day)
    )


def readiness_warnings(
    sterilizer: Sterilizer, *, clinic: Clinic, now: dt.datetime | None = None
) -> list[str]:
    """What starting a routine load on this sterilizer now would warn about (no
    Bowie-Dick today, no BI this week), shown before the MA starts it."""
    load = next(r for r in BUILTIN_CYCLE_TYPES.values() if r.purpose == "load")
    return _start_warnings(
        sterilizer, load, implants=False, bi_lot=None, clinic=clinic, now=now or utcnow()
    )
