"""Equipment and its service status: add, read, put in or out of service.

Equipment leaves service when an administrator says so or when an efficacy test fails
(`equipment.testing`); only a passing test (or the administrator) puts it back.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from equipment.models import Equipment
from kernel import audit
from kernel.devices import DeviceInfo
from kernel.problems import Conflict, NotFound
from kernel.sites.service import site_id_or_main


def get_equipment(session: Session, code: str) -> Equipment:
    found = session.scalar(select(Equipment).where(Equipment.code == code))
    if found is None:
        raise NotFound(f"No equipment with code {code!r}.")
    return found


def create_equipment(
    session: Session,
    *,
    code: str,
    kind: str,
    name: str,
    manufacturer: str | None = None,
    model: str | None = None,
    serial_number: str | None = None,
    test_frequency: str | None = None,
    actor: str,
    now: dt.datetime,
    site_id: int | None = None,
) -> Equipment:
    """New equipment at site `site_id` (None: MAIN; handlers pass their scope's site)."""
    if session.scalar(select(Equipment.id).where(Equipment.code == code)) is not None:
        raise Conflict.for_field("code", f"Equipment with code {code!r} already exists.")
    serial = serial_number.strip() if serial_number else None
    if serial and session.scalar(select(Equipment.id).where(Equipment.serial_number == serial)):
        raise Conflict.for_field(
            "serial_number", f"Equipment with serial number {serial!r} already exists."
        )
    equipment = Equipment(
        code=code,
        kind=kind,
        name=name.strip(),
        manufacturer=manufacturer.strip() if manufacturer else None,
        model=model.strip() if model else None,
        serial_number=serial,
        test_frequency=test_frequency,
        status="in_service",
        site_id=site_id_or_main(session, site_id),
        created_by=actor,
        created_at=now,
    )
    session.add(equipment)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # added by someone else a moment ago
        raise Conflict(f"Equipment with code {code!r} already exists.", field="code") from exc
    audit.record(
        session,
        actor=actor,
        action="equipment.create",
        entity="equipment",
        entity_id=code,
        after=audit.snapshot(equipment),
    )
    return equipment


def set_status(
    session: Session,
    equipment: Equipment,
    *,
    status: str,
    reason: str,
    actor: str,
    action: str = "equipment.status",
) -> None:
    """Change the service status, always with a reason, audited."""
    before = {"status": equipment.status, "status_reason": equipment.status_reason}
    session.execute(
        update(Equipment)
        .where(Equipment.id == equipment.id)
        .values(status=status, status_reason=reason[:500])
        .execution_options(synchronize_session=False)
    )
    session.refresh(equipment)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="equipment",
        entity_id=equipment.code,
        before=before,
        after={"status": status, "status_reason": reason[:500]},
    )


def change_status(
    session: Session, code: str, *, status: str, reason: str, actor: str
) -> Equipment:
    equipment = get_equipment(session, code)
    set_status(session, equipment, status=status, reason=reason.strip(), actor=actor)
    return equipment


def equipment_by_code(kind: str | None = None) -> Select[tuple[Equipment]]:
    """Every piece of equipment by code (the API's list, paged by `kernel.pagination`)."""
    statement = select(Equipment).order_by(Equipment.code)
    if kind:
        statement = statement.where(Equipment.kind == kind)
    return statement


def list_equipment(session: Session) -> list[Equipment]:
    """Every piece of equipment by name (a clinic has a handful)."""
    return list(session.scalars(select(Equipment).order_by(Equipment.name, Equipment.code)))


def equipment_device(session: Session, code: str) -> DeviceInfo | None:
    """The `kernel.devices` resolver: is this code a piece of equipment?"""
    found = session.scalar(select(Equipment).where(Equipment.code == code))
    if found is None:
        return None
    return DeviceInfo(code=found.code, kind="equipment", name=found.name, site_id=found.site_id)
