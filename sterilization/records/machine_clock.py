"""The machine's clock: a date printed once, then times of day only.

A record is far shorter than a day, so a clock reading is placed at the first moment at or
after the cycle start that shows that time: a reading earlier in the day than the start
means midnight passed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sterilization.records.errors import MalformedRecord

DAY = timedelta(days=1)
CLOCK = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
_HMS = re.compile(r"([0-9]{1,3}):([0-9]{2}):([0-9]{2})", re.ASCII)


def parse_clock(text: str, what: str) -> time:
    match = _HMS.fullmatch(text.strip())
    if match is None:
        raise MalformedRecord(f"{what} {text.strip()!r} is not a time of day (HH:MM:SS)")
    hours, minutes, seconds = (int(part) for part in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise MalformedRecord(f"{what} {text.strip()!r} is not a time of day")
    return time(hours, minutes, seconds)


def parse_duration(text: str, what: str) -> timedelta:
    """An elapsed time printed as H:MM:SS (hours may pass 24)."""
    match = _HMS.fullmatch(text.strip())
    if match is None:
        raise MalformedRecord(f"{what} {text.strip()!r} is not a duration (HH:MM:SS)")
    hours, minutes, seconds = (int(part) for part in match.groups())
    if minutes > 59 or seconds > 59:
        raise MalformedRecord(f"{what} {text.strip()!r} is not a duration")
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def local_datetime(year: int, month: int, day: int, clock: time, what: str) -> datetime:
    try:
        return datetime.combine(date(year, month, day), clock)
    except ValueError:
        raise MalformedRecord(f"{what} {day:02d}/{month:02d}/{year:04d} is not a date") from None


def _time_of_day(clock: time) -> timedelta:
    return timedelta(hours=clock.hour, minutes=clock.minute, seconds=clock.second)


def clock_interval(opening: time, closing: time) -> timedelta:
    """From one clock reading to the next showing `closing`, across midnight if need be."""
    return (_time_of_day(closing) - _time_of_day(opening)) % DAY


def clock_after(started_at: datetime, clock: time) -> datetime:
    """The first moment at or after `started_at` whose clock shows `clock`."""
    try:
        return started_at + clock_interval(started_at.time(), clock)
    except OverflowError:
        raise MalformedRecord("the record's date is out of range") from None
