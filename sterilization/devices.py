"""Sterilizers as devices of the maintenance log (`kernel.devices`): the resolver says a
code is a sterilizer; the listener acts on a sterilizer's repair. And cycles as work
that needs the `sterilizer_operation` competency (`kernel.auth.competencies`).

A repaired sterilizer must prove itself again before it sterilizes loads
(requalification, SPEC section 7): the repair takes it out of service with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kernel.auth.competencies import Operation
from kernel.devices import DeviceInfo, MaintenanceEvent
from sterilization.models import Cycle, Sterilizer
from sterilization.requalification import start_requalification


def sterilizer_device(session: Session, code: str) -> DeviceInfo | None:
    found = session.scalar(select(Sterilizer).where(Sterilizer.code == code))
    if found is None:
        return None
    return DeviceInfo(code=found.code, kind="sterilizer", name=found.name, site_id=found.site_id)


def on_maintenance(session: Session, event: MaintenanceEvent) -> None:
    """A sterilizer `repair` starts requalification (SPEC section 7): test cycles only until
    three BI tests (and Bowie-Dick tests on prevac) pass."""
    if event.device.kind != "sterilizer" or event.kind != "repair":
        return
    sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.code == event.device.code))
    if sterilizer is None:
        return
    start_requalification(
        session,
        sterilizer,
        since=event.at,
        reason=(
            f"Repaired on {event.performed_on} by {event.performed_by}: "
            "requalify before loads (test cycles only)"
        ),
        actor=event.actor,
    )


def _cycles_in(statement: Select[Any], start: dt.datetime | None, end: dt.datetime | None) -> Any:
    statement = statement.join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
    if start is not None:
        statement = statement.where(Cycle.started_at >= start)
    if end is not None:
        statement = statement.where(Cycle.started_at < end)
    return statement


def cycle_operations(
    session: Session,
    start: dt.datetime | None,
    end: dt.datetime | None,
    operators: Collection[str] | None = None,
) -> list[Operation]:
    """Cycles started in [start, end), each by its operator (only `operators`' if given)."""
    statement = _cycles_in(
        select(Cycle.id, Cycle.number, Cycle.operator, Cycle.started_at, Sterilizer.name),
        start,
        end,
    )
    if operators is not None:
        statement = statement.where(Cycle.operator.in_(sorted(operators)))
    return [
        Operation(
            username=operator, skill="sterilizer_operation", at=at,
            what=f"cycle {number} on {name}", kind="cycle", ref=str(cycle_id),
        )
        for cycle_id, number, operator, at, name in session.execute(statement)
    ]  # fmt: skip


def cycle_operators(
    session: Session, start: dt.datetime | None, end: dt.datetime | None
) -> list[tuple[str, str, dt.datetime, dt.datetime]]:
    """Who ran the cycles of [start, end): each operator's first and last start."""
    statement = _cycles_in(
        select(Cycle.operator, func.min(Cycle.started_at), func.max(Cycle.started_at)),
        start,
        end,
    ).group_by(Cycle.operator)
    return [
        (operator, "sterilizer_operation", first, last)
        for operator, first, last in session.execute(statement)
    ]
