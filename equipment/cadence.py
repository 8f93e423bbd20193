"""Test cadence: equipment with a `test_frequency` needs an efficacy test every day, ISO
week or calendar month (in the clinic's zone). A period that ended without any test is a
gap; the period in progress is not a gap yet, only "due".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from equipment.models import Equipment, EquipmentTest
from kernel.clock import ClinicTime
from kernel.sites.codes import zone_of


@dataclass(frozen=True, slots=True)
class Unit:
    """One cadence period: its label (`2026-11-05`, `2026-W45`, `2026-11`) and days."""

    label: str
    first: dt.date
    last: dt.date


def unit_of(day: dt.date, frequency: str) -> Unit:
    if frequency == "daily":
        return Unit(day.isoformat(), day, day)
    if frequency == "weekly":
        year, week, weekday = day.isocalendar()
        first = day - dt.timedelta(days=weekday - 1)
        return Unit(f"{year}-W{week:02d}", first, first + dt.timedelta(days=6))
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Unit(f"{day:%Y-%m}", first, following - dt.timedelta(days=1))


def units_between(first: dt.date, last: dt.date, frequency: str) -> list[Unit]:
    """The cadence periods touching [first, last], in order."""
    units: list[Unit] = []
    day = first
    while day <= last:
        unit = unit_of(day, frequency)
        units.append(unit)
        day = unit.last + dt.timedelta(days=1)
    return units


@dataclass(frozen=True, slots=True)
class Cadence:
    """Where a piece of equipment stands with its tests."""

    frequency: str | None
    last_test_at: dt.datetime | None
    due: bool  # the period in progress has no test yet
    due_by: dt.date | None  # the last day of the period that needs the next test
    missed: list[Unit]  # ended periods without any test, in the range asked


def _test_times(
    session: Session, equipment_id: int, start: dt.datetime | None, end: dt.datetime | None
) -> list[dt.datetime]:
    statement = select(EquipmentTest.performed_at).where(EquipmentTest.equipment_id == equipment_id)
    if start is not None:
        statement = statement.where(EquipmentTest.performed_at >= start)
    if end is not None:
        statement = statement.where(EquipmentTest.performed_at < end)
    return list(session.scalars(statement))


def missed_units(
    tested_days: set[dt.date] | list[dt.date],
    frequency: str,
    *,
    created_on: dt.date,
    first: dt.date,
    last: dt.date,
    today: dt.date,
) -> list[Unit]:
    """Periods in [first, last] that ended before today, began no earlier than the
    period the equipment was added in, and hold no test day."""
    start = max(first, unit_of(created_on, frequency).first)
    tested = {unit_of(day, frequency).label for day in tested_days}
    return [
        unit
        for unit in units_between(start, last, frequency)
        if unit.last < today and unit.label not in tested
    ]


def cadence_at_site(
    session: Session,
    equipment: Equipment,
    default_zone: ClinicTime,
    now: dt.datetime,
    *,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> Cadence:
    """`cadence` counted in the days of the equipment's own site (a clinic group spans
    time zones): its today, its weeks and months."""
    zone = zone_of(equipment, default_zone)
    return cadence(session, equipment, zone, today=zone.local_date(now), first=first, last=last)


def cadence(
    session: Session,
    equipment: Equipment,
    zone: ClinicTime,
    *,
    today: dt.date,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> Cadence:
    """Missed periods in [first, last] (default: the 30 days up to today) and whether the
    period in progress still needs its test."""
    last_test = session.scalar(
        select(EquipmentTest.performed_at)
        .where(EquipmentTest.equipment_id == equipment.id)
        .order_by(EquipmentTest.performed_at.desc())  # type: ignore[attr-defined]
        .limit(1)
    )
    frequency = equipment.test_frequency
    if not frequency:
        return Cadence(None, last_test, False, None, [])
    last = min(last or today, today)
    first = first or today - dt.timedelta(days=29)
    created_on = zone.local_date(equipment.created_at)
    span_first = min(
        unit_of(max(first, created_on), frequency).first, unit_of(today, frequency).first
    )
    start, end = zone.days_bounds(span_first, today)
    days = {zone.local_date(at) for at in _test_times(session, equipment.id, start, end)}  # type: ignore[arg-type]
    current = unit_of(today, frequency)
    due = not any(current.first <= day <= current.last for day in days)
    due_by = current.last if due else unit_of(current.last + dt.timedelta(days=1), frequency).last
    missed = (
        missed_units(days, frequency, created_on=created_on, first=first, last=last, today=today)
        if first <= last
        else []
    )
    return Cadence(frequency, last_test, due, due_by, missed)
