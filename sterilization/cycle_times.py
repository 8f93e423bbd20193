"""When a cycle ran. A cycle may be logged after the fact (`started_at`, `ended_at`), but
never in the future, at most 7 days back, never overlapping the sterilizer's previous
cycle, and its exposure cannot be longer than the time it ran: a record that says "30
minutes exposure" 36 ms after the start is not evidence of anything."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime
from kernel.problems import InvalidInput
from sterilization.models import Cycle, Sterilizer

MAX_BACK = dt.timedelta(days=7)


def _aware(at: dt.datetime, field: str) -> dt.datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput.for_field(
            field,
            f"{field} needs a UTC offset (e.g. 2026-12-04T09:30:00-06:00 or ...Z): a bare "
            "wall-clock time is ambiguous.",
            message="needs an offset",
        )
    return at.astimezone(dt.UTC)


def _bounded(at: dt.datetime, field: str, *, now: dt.datetime, zone: ClinicTime) -> dt.datetime:
    at = _aware(at, field)
    if at > now:
        raise InvalidInput.for_field(
            field,
            f"{field} {zone.local_text(at)} is in the future (now {zone.local_text(now)}).",
            message="in the future",
        )
    if at < now - MAX_BACK:
        raise InvalidInput.for_field(
            field,
            f"{field} {zone.local_text(at)} is more than 7 days back: a cycle is logged "
            "within a week of running it.",
            message="more than 7 days back",
        )
    return at


def previous_end(session: Session, sterilizer: Sterilizer) -> dt.datetime | None:
    """When the sterilizer's latest cycle ended (None: it has none, or it is running)."""
    return session.scalar(
        select(Cycle.ended_at)
        .where(Cycle.sterilizer_id == sterilizer.id)
        .order_by(Cycle.number.desc())
        .limit(1)
    )


def start_time(
    session: Session,
    sterilizer: Sterilizer,
    started_at: dt.datetime | None,
    *,
    now: dt.datetime,
    zone: ClinicTime,
) -> dt.datetime:
    """The start of a new cycle: now, or the time given, within the limits."""
    at = now if started_at is None else _bounded(started_at, "started_at", now=now, zone=zone)
    before = previous_end(session, sterilizer)
    if before is not None and at < before:
        raise InvalidInput.for_field(
            "started_at",
            f"{sterilizer.name}'s previous cycle ended at {zone.local_text(before)}; this one "
            f"cannot start before that (started_at {zone.local_text(at)}).",
            message="before the previous cycle ended",
            extra={"previous_cycle_ended_at": before.isoformat()},
        )
    return at


def end_time(
    cycle: Cycle,
    ended_at: dt.datetime | None,
    *,
    exposure_minutes: float | None,
    now: dt.datetime,
    zone: ClinicTime,
) -> dt.datetime:
    """The end of a running cycle: now, or the time given, after its start; and the
    exposure must fit between start and end."""
    at = now if ended_at is None else _bounded(ended_at, "ended_at", now=now, zone=zone)
    if at < cycle.started_at:
        raise InvalidInput.for_field(
            "ended_at",
            f"ended_at {zone.local_text(at)} is before the cycle started "
            f"({zone.local_text(cycle.started_at)}).",
            message="before the start",
        )
    elapsed = (at - cycle.started_at).total_seconds() / 60
    if exposure_minutes is not None and exposure_minutes > elapsed:
        raise InvalidInput.for_field(
            "exposure_minutes",
            f"Exposure {exposure_minutes:g} min is longer than the cycle ran ({elapsed:.1f} "
            f"min, {zone.local_text(cycle.started_at)} to {zone.local_text(at)}): give the "
            "real ended_at, or the exposure the printout shows.",
            message="longer than the cycle ran",
        )
    return at
