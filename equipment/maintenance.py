"""The maintenance log of every device the clinic keeps, with next-due dates.

`device` is a code any domain may own (equipment here, sterilizers in sterilization):
`kernel.devices` finds its owner, and tells the owners' listeners once the record is
written (a sterilizer `repair` starts requalification), in the same transaction.

Next due: the schedule of a device is the `next_due_on` of its latest record that set
one (a repair that sets none leaves the preventive schedule as it was). It is overdue
the day after that date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from equipment.models import MaintenanceRecord
from kernel import audit
from kernel.devices import MaintenanceEvent, maintenance_recorded, resolve_device
from kernel.problems import InvalidInput, NotFound
from kernel.sites.service import site_id_or_main


def record_maintenance(
    session: Session,
    *,
    device: str,
    kind: str,
    performed_by: str,
    performed_on: dt.date,
    notes: str | None = None,
    next_due_on: dt.date | None = None,
    actor: str,
    now: dt.datetime,
    today: dt.date,
) -> MaintenanceRecord:
    """Append a maintenance record; refused (nothing written) for an unknown device, a
    date in the future or a next-due date not after the work."""
    found = resolve_device(session, device.strip())
    if found is None:
        raise InvalidInput.for_field(
            "device", f"No equipment, HLD device or sterilizer with code {device!r}."
        )
    if performed_on > today:
        raise InvalidInput.for_field(
            "performed_on", f"`performed_on` ({performed_on}) is in the future."
        )
    if next_due_on is not None and next_due_on <= performed_on:
        raise InvalidInput.for_field(
            "next_due_on", f"`next_due_on` ({next_due_on}) must be after `performed_on`."
        )
    record = MaintenanceRecord(
        device_code=found.code,
        site_id=site_id_or_main(session, found.site_id),
        device_kind=found.kind,
        device_name=found.name,
        kind=kind,
        performed_by=performed_by.strip(),
        performed_on=performed_on,
        notes=notes,
        next_due_on=next_due_on,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="maintenance.record",
        entity=found.kind,
        entity_id=found.code,
        after=audit.snapshot(record),
    )
    maintenance_recorded(
        session,
        MaintenanceEvent(
            device=found,
            kind=kind,
            performed_by=record.performed_by,
            performed_on=performed_on,
            notes=notes,
            actor=actor,
            at=now,
        ),
    )
    return record


def get_record(session: Session, record_id: int) -> MaintenanceRecord:
    found = session.get(MaintenanceRecord, record_id)
    if found is None:
        raise NotFound(f"No maintenance record {record_id}.")
    return found


def records(device: str | None = None) -> Select[tuple[MaintenanceRecord]]:
    """The log, newest work first (paged by the API)."""
    statement = select(MaintenanceRecord).order_by(
        MaintenanceRecord.performed_on.desc(),  # type: ignore[attr-defined]
        MaintenanceRecord.id.desc(),  # type: ignore[union-attr]
    )
    if device:
        statement = statement.where(MaintenanceRecord.device_code == device.strip())
    return statement


@dataclass(frozen=True, slots=True)
class MaintenanceDue:
    device: str
    device_kind: str
    device_name: str
    last_kind: str
    last_performed_on: dt.date
    next_due_on: dt.date
    overdue: bool
    days_overdue: int


def maintenance_due(
    session: Session, *, today: dt.date, within_days: int | None = None
) -> list[MaintenanceDue]:
    """Each device's scheduled next maintenance (soonest first); with `within_days`,
    only those due by today + N (overdue ones included)."""
    latest = (
        select(
            MaintenanceRecord.device_code,
            func.max(MaintenanceRecord.id).label("record_id"),
        )
        .where(MaintenanceRecord.next_due_on.is_not(None))  # type: ignore[union-attr]
        .group_by(MaintenanceRecord.device_code)
        .subquery()
    )
    # The latest by id is the latest written; the schedule follows the latest written
    # record that set one (records are appended, never edited).
    rows = session.scalars(
        select(MaintenanceRecord).join(latest, MaintenanceRecord.id == latest.c.record_id)
    )
    found: list[MaintenanceDue] = []
    for row in rows:
        assert row.next_due_on is not None
        if within_days is not None and row.next_due_on > today + dt.timedelta(days=within_days):
            continue
        late = (today - row.next_due_on).days
        found.append(
            MaintenanceDue(
                device=row.device_code,
                device_kind=row.device_kind,
                device_name=row.device_name,
                last_kind=row.kind,
                last_performed_on=row.performed_on,
                next_due_on=row.next_due_on,
                overdue=late > 0,
                days_overdue=max(late, 0),
            )
        )
    return sorted(found, key=lambda d: (d.next_due_on, d.device))
