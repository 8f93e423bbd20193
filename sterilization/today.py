"""Sterilization's part of the day's checklist (`/today`): what the MA must do today and
what is already done, read from the cycle log. Lines tick off as the records arrive: a
passed Bowie-Dick, a BI result, a completed cycle, a resolved recall."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime
from sterilization.bi_products import readable_at
from sterilization.models import BiProduct, BiResult, Cycle, Recall, Sterilizer
from sterilization.notification_rules import CYCLE_OVERDUE_AFTER


@dataclass(frozen=True)
class Line:
    """One checklist line: what, where it is resolved, and whether it is done."""

    text: str
    url: str
    done: bool
    note: str = ""
    late: bool = False


@dataclass(frozen=True)
class SterilizationDay:
    bowie_dick: list[Line]
    bis: list[Line]
    cycles: list[Line]
    recalls: list[Line]


def checklist(session: Session, *, zone: ClinicTime, now: dt.datetime) -> SterilizationDay:
    start, end = zone.day_bounds(zone.local_date(now))
    return SterilizationDay(
        bowie_dick=_bowie_dick(session, zone, start, end),
        bis=_bis(session, zone, now, start),
        cycles=_cycles(session, zone, now, start),
        recalls=_recalls(session, zone, start),
    )


def _bowie_dick(
    session: Session, zone: ClinicTime, start: dt.datetime, end: dt.datetime
) -> list[Line]:
    lines = []
    for s in session.scalars(
        select(Sterilizer)
        .where(Sterilizer.kind == "steam_prevac", Sterilizer.status == "in_service")
        .order_by(Sterilizer.code)
    ):
        done = s.last_bowie_dick_at is not None and start <= s.last_bowie_dick_at < end
        lines.append(
            Line(
                text=f"Bowie-Dick test on {s.name}",
                url=f"/cycles/new?sterilizer={s.code}",
                done=done,
                note=f"passed {zone.local_text(s.last_bowie_dick_at)}"
                if done
                else "before the first load",  # type: ignore[arg-type]
            )
        )
    return lines


def _bis(session: Session, zone: ClinicTime, now: dt.datetime, start: dt.datetime) -> list[Line]:
    rows = session.execute(
        select(Cycle, Sterilizer, BiResult, BiProduct.min_incubation_minutes)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .outerjoin(BiProduct, BiProduct.id == Cycle.bi_product_id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(
            Cycle.bi_lot.is_not(None),
            Cycle.ended_at.is_not(None),
            or_(BiResult.id.is_(None), BiResult.read_at >= start),
        )
        .order_by(Cycle.ended_at, Cycle.id)
    ).all()
    lines = []
    for cycle, sterilizer, result, minutes in rows:
        readable = readable_at(cycle.ended_at, minutes)  # type: ignore[arg-type]
        if result is not None:
            note = f"read {zone.local_text(result.read_at)}: {result.result}"
        elif readable <= now:
            note = f"ready to read since {zone.local_text(readable)}"
        else:
            note = f"read from {zone.local_text(readable)}"
        lines.append(
            Line(
                text=f"BI of cycle {cycle.number} on {sterilizer.name} (lot {cycle.bi_lot})",
                url=f"/cycles/{cycle.id}",
                done=result is not None,
                note=note,
                late=result is None and readable <= now,
            )
        )
    return lines


def _cycles(session: Session, zone: ClinicTime, now: dt.datetime, start: dt.datetime) -> list[Line]:
    rows = session.execute(
        select(Cycle, Sterilizer)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .where(or_(Cycle.status == "running", Cycle.ended_at >= start))
        .order_by(Cycle.started_at, Cycle.id)
    ).all()
    lines = []
    for cycle, sterilizer in rows:
        running = cycle.status == "running"
        note = (
            f"running since {zone.local_text(cycle.started_at)}"
            if running
            else f"{cycle.status.replace('_', ' ')} {zone.local_text(cycle.ended_at)}"  # type: ignore[arg-type]
        )
        lines.append(
            Line(
                text=f"Cycle {cycle.number} on {sterilizer.name} ({cycle.cycle_type})",
                url=f"/cycles/{cycle.id}",
                done=not running,
                note=note,
                late=running and now - cycle.started_at > CYCLE_OVERDUE_AFTER,
            )
        )
    return lines


def _recalls(session: Session, zone: ClinicTime, start: dt.datetime) -> list[Line]:
    rows = session.execute(
        select(Recall, Sterilizer)
        .join(Sterilizer, Sterilizer.id == Recall.sterilizer_id)
        .where(or_(Recall.status == "open", Recall.resolved_at >= start))
        .order_by(Recall.opened_at, Recall.id)
    ).all()
    return [
        Line(
            text=f"Recall on {sterilizer.name}: {recall.pack_count} pack(s)",
            url=f"/cycles/{recall.triggered_by_cycle_id}",
            done=recall.status != "open",
            note=recall.reason
            if recall.status == "open"
            else f"resolved {zone.local_text(recall.resolved_at)}",  # type: ignore[arg-type]
            late=recall.status == "open",
        )
        for recall, sterilizer in rows
    ]
