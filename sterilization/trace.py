"""A pack's full history for tracing: its own events (assembled, loaded, sterilized,
released, used, recalled...) merged with the indicator results of the load it went through
(the cycle's mechanical/chemical checks and readings, its spore-test read-out) and any
correction appended to that cycle. A surveyor following one pack from sterilizer to patient
reads it all in one list, in order."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime
from kernel.sites.query_scope import every_site
from sterilization.models import (
    BiResult,
    Cycle,
    CycleAmendment,
    CycleParameters,
    InvalidBiTest,
    PackEvent,
)
from sterilization.models import Sterilizer as SterilizerRow
from sterilization.packs import get_pack


@dataclass(frozen=True)
class HistoryEvent:
    at: dt.datetime
    event: str
    actor: str
    details: dict[str, Any]
    # At the same instant, the cycle's results come before what they did to the pack.
    order: int = 1


def _cycle_events(session: Session, cycle_id: int) -> list[HistoryEvent]:
    row = session.execute(
        select(Cycle, SterilizerRow.code)
        .join(SterilizerRow, SterilizerRow.id == Cycle.sterilizer_id)
        .where(Cycle.id == cycle_id)
    ).one_or_none()
    if row is None:
        return []
    cycle, sterilizer = row
    where = {"cycle": cycle.number, "sterilizer": sterilizer, "cycle_id": cycle.id}
    events = []
    params = session.get(CycleParameters, cycle.id)
    if params is not None:
        events.append(
            HistoryEvent(
                at=params.recorded_at,
                event="indicators",
                actor=params.recorded_by,
                details={
                    **where,
                    "cycle_type": cycle.cycle_type,
                    "mechanical_ok": params.mechanical_ok,
                    "chemical_ok": params.chemical_ok,
                    "temperature_c": params.temperature_c,
                    "pressure_kpa": params.pressure_kpa,
                    "exposure_minutes": params.exposure_minutes,
                    "failure_reasons": json.loads(params.failure_reasons),
                },
                order=0,
            )
        )
    bi = session.scalar(select(BiResult).where(BiResult.cycle_id == cycle.id))
    if bi is not None:
        events.append(
            HistoryEvent(
                at=bi.read_at,
                event="bi_result",
                actor=bi.recorded_by,
                details={
                    **where,
                    "result": bi.result,
                    "lot": bi.lot,
                    "control_grew": bi.control_grew,
                },
                order=0,
            )
        )
    for t in session.scalars(select(InvalidBiTest).where(InvalidBiTest.cycle_id == cycle.id)):
        events.append(
            HistoryEvent(
                at=t.read_at,
                event="bi_invalid",
                actor=t.recorded_by,
                details={**where, "result": "invalid", "lot": t.lot, "control_grew": False},
                order=0,
            )
        )
    for a in session.scalars(
        select(CycleAmendment)
        .where(CycleAmendment.cycle_id == cycle.id)
        .order_by(CycleAmendment.at, CycleAmendment.id)
    ):
        events.append(
            HistoryEvent(
                at=a.at,
                event="cycle_amended",
                actor=a.actor,
                details={
                    **where,
                    "field": a.field,
                    "original": json.loads(a.original) if a.original is not None else None,
                    "value": json.loads(a.value),
                    "reason": a.reason,
                },
            )
        )
    return events


def pack_history(
    session: Session, code: str, *, limit: int, offset: int
) -> tuple[list[HistoryEvent], int]:
    """Every event of the pack in order (a pack has tens of events at most, so they are
    merged in memory and then paged)."""
    pack = get_pack(session, code)
    events = [
        HistoryEvent(at=e.at, event=e.event, actor=e.actor, details=json.loads(e.details))
        for e in session.scalars(
            select(PackEvent)
            .where(PackEvent.pack_id == pack.id)
            .order_by(PackEvent.at, PackEvent.id)
        )
    ]
    if pack.cycle_id is not None:
        # The pack is the user's; its cycle may have run at the site that sent it.
        with every_site(session):
            events.extend(_cycle_events(session, pack.cycle_id))
    events.sort(key=lambda e: (e.at, e.order))  # stable: pack events keep their order
    return events[offset : offset + limit], len(events)


def pack_notes(session: Session, pack_id: int, zone: ClinicTime) -> list[str]:
    """What the pack page says besides its status: released early (before its BI), or
    sterilized for immediate use (IUSS) and used on an encounter at once."""
    notes = []
    for event in session.scalars(
        select(PackEvent)
        .where(PackEvent.pack_id == pack_id, PackEvent.event.in_(["early_release", "iuss_use"]))
        .order_by(PackEvent.at, PackEvent.id)
    ):
        details = json.loads(event.details)
        when = zone.local_text(event.at)
        if event.event == "early_release":
            notes.append(
                f"Released early, before its spore test (BI) result, on a passed integrator: "
                f"{when} by {event.actor} ({details.get('reason', '')})."
            )
        else:
            notes.append(
                f"Immediate-use steam sterilization (IUSS): used at once on encounter "
                f"{details.get('encounter_ref', '')} ({details.get('reason', '')}), {when}; "
                "never stored."
            )
    return notes
