"""The clinic clock: the one place that says what time it is and which clinic day that is.

Instants are stored and compared in UTC; days, weeks and printed times are the clinic's
(each site's zone: `clock.site_zone(site)`, `clock.local_day(site, at)`; the default
zone is `STERISTOCK_TIMEZONE`, the zone of site `MAIN` when sites were introduced).
So there are two objects:

- `ClinicTime(tz)`: a zone's view of instants (`local_date`, `start_of_day`,
  `day_bounds`, `iso_week`, `local_text`), pure and cheap; build one per site zone.
- `Clock`: `now()` in UTC plus a default zone. The app keeps one on its state and hands
  it to handlers as the `clock` dependency; a test pins time with `FixedClock` (replace
  `app.state.clock`), instead of patching `datetime`.

    def handler(clock: Clock) -> ...:
        today = clock.today()                    # the clinic's date now
        start, end = clock.zone.day_bounds(today)  # [start, end) in UTC for a query
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from litestar.datastructures import State

if TYPE_CHECKING:
    from kernel.settings import Settings

CLOCK_STATE_KEY = "clock"
LOCAL_TEXT_FORMAT = "%Y-%m-%d %H:%M"


def utc(at: dt.datetime) -> dt.datetime:
    """An aware instant in UTC; a naive one is taken as UTC already (SQLite gives those)."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


class HasTimezone(Protocol):
    """Anything that names its IANA zone: a site (`kernel.sites`), a site's summary."""

    @property
    def timezone(self) -> str: ...


@lru_cache(maxsize=256)
def zone_named(name: str) -> ClinicTime:
    """The view of one IANA zone, built once per name (sites share a few zones)."""
    return ClinicTime(ZoneInfo(name))


@dataclass(frozen=True)
class ClinicTime:
    """One time zone's view of instants: which local day, where a day starts and ends."""

    tz: dt.tzinfo

    def local(self, at: dt.datetime) -> dt.datetime:
        return utc(at).astimezone(self.tz)

    def local_date(self, at: dt.datetime) -> dt.date:
        return self.local(at).date()

    def local_text(self, at: dt.datetime) -> str:
        """How a page or printout shows an instant: local wall-clock time to the minute."""
        return self.local(at).strftime(LOCAL_TEXT_FORMAT)

    def start_of_day(self, day: dt.date) -> dt.datetime:
        """The UTC instant the local day begins (DST-aware: not always midnight + 24 h)."""
        return self.instant(day, dt.time())

    def instant(self, day: dt.date, wall_clock: dt.time) -> dt.datetime:
        """The UTC instant a local wall-clock time on `day` names (demo data, fixtures)."""
        return dt.datetime.combine(day, wall_clock, tzinfo=self.tz).astimezone(dt.UTC)

    def day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The local day as a half-open UTC interval [start, end)."""
        return self.start_of_day(day), self.start_of_day(day + dt.timedelta(days=1))

    def days_bounds(self, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """Whole local days `first`..`last` (both included) as [start, end) in UTC."""
        return self.start_of_day(first), self.start_of_day(last + dt.timedelta(days=1))

    def iso_week(self, when: dt.datetime | dt.date) -> tuple[int, int]:
        """(ISO year, ISO week) of an instant's local day, or of a date."""
        day = self.local_date(when) if isinstance(when, dt.datetime) else when
        year, week, _ = day.isocalendar()
        return year, week

    def same_week(self, a: dt.datetime | dt.date, b: dt.datetime | dt.date) -> bool:
        return self.iso_week(a) == self.iso_week(b)


class Clock:
    """What time it is (UTC), and the clinic's days through its default zone."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.zone = ClinicTime(tz)

    @classmethod
    def from_settings(cls, settings: Settings) -> Clock:
        return cls(settings.tz)

    @property
    def tz(self) -> dt.tzinfo:
        return self.zone.tz

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def in_zone(self, tz: dt.tzinfo | str) -> ClinicTime:
        """Another zone's view (a site's), on the same clock."""
        return ClinicTime(ZoneInfo(tz) if isinstance(tz, str) else tz)

    def today(self, zone: ClinicTime | None = None) -> dt.date:
        return (zone or self.zone).local_date(self.now())

    # A site's view: a group's sites span zones, so days and weeks are the site's.
    def site_zone(self, site: HasTimezone) -> ClinicTime:
        """The zone a site counts its days and weeks in."""
        return zone_named(site.timezone)

    def local_day(self, site: HasTimezone, at: dt.datetime) -> dt.date:
        """The site's calendar day an instant falls on."""
        return zone_named(site.timezone).local_date(at)

    def site_today(self, site: HasTimezone) -> dt.date:
        """Today at the site (may differ from another site's today)."""
        return zone_named(site.timezone).local_date(self.now())

    # The default zone's view, so `clock.local_date(at)` reads naturally.
    def local_date(self, at: dt.datetime) -> dt.date:
        return self.zone.local_date(at)

    def local_text(self, at: dt.datetime) -> str:
        return self.zone.local_text(at)

    def start_of_day(self, day: dt.date) -> dt.datetime:
        return self.zone.start_of_day(day)

    def day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        return self.zone.day_bounds(day)

    def iso_week(self, when: dt.datetime | dt.date) -> tuple[int, int]:
        return self.zone.iso_week(when)


class FixedClock(Clock):
    """A clock stopped at one instant (tests, demo data, replays); `advance` moves it."""

    def __init__(self, tz: dt.tzinfo, at: dt.datetime) -> None:
        super().__init__(tz)
        if at.tzinfo is None:
            raise ValueError("a FixedClock needs an aware datetime")
        self.at = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, delta: dt.timedelta) -> None:
        self.at += delta


def provide_clock(state: State) -> Clock:
    """The `clock` dependency: the app's clock (replace `app.state.clock` to pin time)."""
    return state[CLOCK_STATE_KEY]
