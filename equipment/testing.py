"""Runs and efficacy tests of equipment.

A run is refused on equipment out of service (409 with the reason, as a cycle is on a
sterilizer out of service). A failed efficacy test takes the equipment out of service; a
passing one puts it back. Both can be logged after the fact, never in the future and at
most a week back, like cycles.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from equipment.models import Equipment, EquipmentRun, EquipmentTest
from equipment.registry import get_equipment, set_status
from kernel import audit
from kernel.clock import ClinicTime
from kernel.problems import Conflict, InvalidInput
from kernel.sites.codes import zone_of

MAX_BACKDATE = dt.timedelta(days=7)
SKEW = dt.timedelta(minutes=2)  # a tablet's clock a little ahead is not "the future"


def check_when(at: dt.datetime | None, *, now: dt.datetime, field: str) -> dt.datetime:
    """A time logged after the fact: not in the future, at most 7 days back."""
    if at is None:
        return now
    if at.tzinfo is None:
        raise InvalidInput.for_field(field, f"`{field}` needs a time zone offset (Z or +01:00).")
    at = at.astimezone(dt.UTC)
    if at > now + SKEW:
        raise InvalidInput.for_field(field, f"`{field}` is in the future.")
    if at < now - MAX_BACKDATE:
        raise InvalidInput.for_field(field, f"`{field}` is more than 7 days back.")
    return at


def record_run(
    session: Session,
    code: str,
    *,
    result: str,
    program: str | None = None,
    started_at: dt.datetime | None = None,
    notes: str | None = None,
    actor: str,
    now: dt.datetime,
) -> EquipmentRun:
    """Log one run; refused while the equipment is out of service."""
    equipment = get_equipment(session, code)
    at = check_when(started_at, now=now, field="started_at")
    if equipment.status != "in_service":
        raise Conflict(
            f"{equipment.name} is out of service: {equipment.status_reason or 'no reason given'}.",
            extra={"status": equipment.status, "status_reason": equipment.status_reason},
        )
    run = EquipmentRun(
        equipment_id=equipment.id,  # type: ignore[arg-type]
        program=program.strip() if program else None,
        started_at=at,
        result=result,
        notes=notes,
        operator=actor,
        recorded_at=now,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="equipment.run",
        entity="equipment",
        entity_id=equipment.code,
        after=audit.snapshot(run),
    )
    return run


def record_test(
    session: Session,
    code: str,
    *,
    kind: str,
    result: str,
    notes: str | None = None,
    performed_at: dt.datetime | None = None,
    actor: str,
    now: dt.datetime,
    zone: ClinicTime,
) -> tuple[EquipmentTest, Equipment]:
    """Log an efficacy test: a failure takes the equipment out of service, a pass puts it
    back (whatever took it out: the passing test is the proof it works)."""
    equipment = get_equipment(session, code)
    at = check_when(performed_at, now=now, field="performed_at")
    test = EquipmentTest(
        equipment_id=equipment.id,  # type: ignore[arg-type]
        kind=kind.strip(),
        result=result,
        notes=notes,
        performed_at=at,
        performed_by=actor,
        recorded_at=now,
    )
    session.add(test)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="equipment.test",
        entity="equipment",
        entity_id=equipment.code,
        after=audit.snapshot(test),
    )
    day = zone_of(equipment, zone).local_date(at)  # the day at the equipment's site
    if result == "fail":
        set_status(
            session,
            equipment,
            status="out_of_service",
            reason=f"{test.kind} test failed on {day}" + (f": {notes}" if notes else ""),
            actor=actor,
            action="equipment.out_of_service",
        )
    elif equipment.status != "in_service":
        set_status(
            session,
            equipment,
            status="in_service",
            reason=f"{test.kind} test passed on {day}",
            actor=actor,
            action="equipment.in_service",
        )
    return test, equipment


def runs_of(equipment: Equipment) -> Select[tuple[EquipmentRun]]:
    """The equipment's runs, newest first (paged by the API)."""
    return (
        select(EquipmentRun)
        .where(EquipmentRun.equipment_id == equipment.id)
        .order_by(EquipmentRun.started_at.desc(), EquipmentRun.id.desc())  # type: ignore[attr-defined]
    )


def tests_of(equipment: Equipment) -> Select[tuple[EquipmentTest]]:
    """The equipment's efficacy tests, newest first (paged by the API)."""
    return (
        select(EquipmentTest)
        .where(EquipmentTest.equipment_id == equipment.id)
        .order_by(EquipmentTest.performed_at.desc(), EquipmentTest.id.desc())  # type: ignore[attr-defined]
    )
