"""`from` / `to` query parameters: the one parser every list, report and export uses.

The rules:
- a date-only bound (`2026-11-28`) means whole local days in the zone given (the
  clinic's or the site's), and `to` includes its day;
- a date-time bound must carry an offset (`2026-11-28T08:00:00+01:00`, `...Z`): a bare
  wall-clock time is ambiguous across zones and DST, so it is refused; a date-time `to`
  includes that instant;
- anything else, or a bound outside what a datetime can hold once converted to UTC
  (`0001-01-01T00:00:00+14:00`, `9999-12-31`), is a 422 problem naming the parameter,
  never a 500; `from` after `to` is a 422 naming `from`.

The result is a half-open UTC interval, so every caller filters the same way:

    period = parse_period(from_, to, clock.zone)
    statement = select(Cycle).where(*period.where(Cycle.started_at))
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from kernel.clock import ClinicTime
from kernel.problems import InvalidInput

DATE_LENGTH = 10  # YYYY-MM-DD
ONE_TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval [start, end); None means unbounded on that side."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def where(self, column: Any) -> list[Any]:
        """SQL conditions on a timestamp column: `start <= column < end`."""
        conditions = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return conditions

    def contains(self, at: dt.datetime) -> bool:
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)

    def first_day(self, zone: ClinicTime) -> dt.date | None:
        return zone.local_date(self.start) if self.start is not None else None

    def last_day(self, zone: ClinicTime) -> dt.date | None:
        """The local day of the last instant inside the period."""
        return zone.local_date(self.end - ONE_TICK) if self.end is not None else None


def _refuse(name: str, detail: str, message: str) -> InvalidInput:
    return InvalidInput.for_field(name, detail, message=message, source="query")


def parse_bound(text: str | None, zone: ClinicTime, *, name: str, end: bool) -> dt.datetime | None:
    """One bound as a UTC instant: the start of `from`, or the first instant after `to`
    (`end=True`). Blank is None (unbounded)."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    usage = f"{name} must be a date (2026-11-28) or a date-time with an offset (2026-11-28T08:00Z)."
    try:
        if len(text) == DATE_LENGTH:
            day = dt.date.fromisoformat(text)
            return zone.start_of_day(day + dt.timedelta(days=1) if end else day)
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise _refuse(name, usage, "invalid date") from exc
    except OverflowError as exc:
        raise _refuse(
            name, f"{name} is outside the dates SteriStock can hold.", "out of range"
        ) from exc
    if when.tzinfo is None or when.utcoffset() is None:
        raise _refuse(
            name,
            f"{name} needs an offset (2026-11-28T08:00:00+01:00 or ...Z), or give a date.",
            "offset required",
        )
    try:
        instant = when.astimezone(dt.UTC)
        return instant + ONE_TICK if end else instant
    except OverflowError as exc:
        raise _refuse(
            name, f"{name} is outside the dates SteriStock can hold.", "out of range"
        ) from exc


def parse_period(
    from_text: str | None,
    to_text: str | None,
    zone: ClinicTime,
    *,
    default_days: int | None = None,
    today: dt.date | None = None,
    from_name: str = "from",
    to_name: str = "to",
) -> Period:
    """`from`/`to` as a Period. With `default_days` (and `today`, the zone's date now), a
    missing `to` is the end of today and a missing `from` starts `default_days` local days
    before the end (today included)."""
    start = parse_bound(from_text, zone, name=from_name, end=False)
    end = parse_bound(to_text, zone, name=to_name, end=True)
    if default_days is not None:
        if today is None:
            raise ValueError("parse_period: default_days needs today")
        if end is None:
            end = zone.start_of_day(today + dt.timedelta(days=1))
        if start is None:
            last_day = zone.local_date(end - ONE_TICK)
            start = zone.start_of_day(last_day - dt.timedelta(days=default_days - 1))
    if start is not None and end is not None and start >= end:
        raise _refuse(from_name, f"{from_name} must be before {to_name}.", f"after {to_name}")
    return Period(start, end)
