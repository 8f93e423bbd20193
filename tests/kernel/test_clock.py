"""The clinic clock: UTC instants, the clinic's local days (DST included), pinned in tests."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from litestar import Litestar, get
from litestar.testing import TestClient

from kernel.clock import ClinicTime, Clock, FixedClock
from kernel.plugin import KernelPlugin
from kernel.plugins import DomainPlugin
from kernel.settings import Settings

CHICAGO = ZoneInfo("America/Chicago")


def test_now_is_an_aware_utc_instant() -> None:
    now = Clock(CHICAGO).now()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)


def test_an_instant_after_local_midnight_belongs_to_the_next_clinic_day() -> None:
    zone = ClinicTime(CHICAGO)
    late = dt.datetime(2026, 11, 29, 5, 30, tzinfo=dt.UTC)  # 23:30 on the 28th in Chicago
    assert zone.local_date(late) == dt.date(2026, 11, 28)
    assert zone.local_date(late + dt.timedelta(hours=1)) == dt.date(2026, 11, 29)
    assert zone.local_text(late) == "2026-11-28 23:30"


def test_naive_instants_are_taken_as_utc() -> None:
    zone = ClinicTime(CHICAGO)
    assert zone.local_date(dt.datetime(2026, 11, 29, 5, 30)) == dt.date(2026, 11, 28)


def test_a_clinic_day_has_23_or_25_hours_on_dst_changes() -> None:
    zone = ClinicTime(CHICAGO)
    start, end = zone.day_bounds(dt.date(2026, 3, 8))  # spring forward
    assert end - start == dt.timedelta(hours=23)
    start, end = zone.day_bounds(dt.date(2026, 11, 1))  # fall back
    assert end - start == dt.timedelta(hours=25)
    assert start == dt.datetime(2026, 11, 1, 5, tzinfo=dt.UTC)


def test_an_instant_is_a_local_wall_clock_time_in_utc() -> None:
    zone = ClinicTime(CHICAGO)
    assert zone.instant(dt.date(2026, 3, 7), dt.time(9)) == dt.datetime(
        2026, 3, 7, 15, tzinfo=dt.UTC
    )
    assert zone.instant(dt.date(2026, 3, 8), dt.time(9)) == dt.datetime(
        2026, 3, 8, 14, tzinfo=dt.UTC
    )


def test_days_bounds_include_both_days() -> None:
    zone = ClinicTime(CHICAGO)
    start, end = zone.days_bounds(dt.date(2026, 11, 2), dt.date(2026, 11, 3))
    assert (start, end) == (
        dt.datetime(2026, 11, 2, 6, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 4, 6, tzinfo=dt.UTC),
    )


def test_iso_week_is_the_local_days_week() -> None:
    zone = ClinicTime(CHICAGO)
    sunday_night = dt.datetime(2026, 11, 30, 3, tzinfo=dt.UTC)  # Sun 29th 21:00 local
    assert zone.iso_week(sunday_night) == (2026, 48)
    assert zone.iso_week(dt.date(2026, 11, 30)) == (2026, 49)
    assert not zone.same_week(sunday_night, dt.date(2026, 11, 30))


def test_a_zone_can_be_passed_per_site() -> None:
    clock = FixedClock(CHICAGO, dt.datetime(2026, 11, 29, 3, tzinfo=dt.UTC))
    assert clock.today() == dt.date(2026, 11, 28)
    assert clock.today(clock.in_zone("Europe/Berlin")) == dt.date(2026, 11, 29)
    assert clock.in_zone("Europe/Berlin").local_text(clock.now()) == "2026-11-29 04:00"


def test_a_fixed_clock_stands_still_until_advanced() -> None:
    clock = FixedClock(CHICAGO, dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))
    assert clock.now() == clock.now() == dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
    clock.advance(dt.timedelta(days=1))
    assert clock.today() == dt.date(2026, 11, 29)


@get("/test/today", sync_to_thread=False, opt={"exclude_from_auth": True})
def today_handler(clock: Clock) -> dict[str, str]:
    return {"today": clock.today().isoformat(), "zone": str(clock.tz)}


class TodayPlugin(DomainPlugin):
    name = "today"

    def route_handlers(self) -> list[object]:
        return [today_handler]


def test_handlers_get_the_clock_from_the_app_state_and_tests_can_pin_it(
    settings: Settings, database: object
) -> None:
    app = Litestar(plugins=[KernelPlugin(settings, database), TodayPlugin()])  # type: ignore[arg-type]
    with TestClient(app) as client:
        assert client.get("/test/today").json()["zone"] == "America/Chicago"
        app.state.clock = FixedClock(CHICAGO, dt.datetime(2027, 1, 1, 3, tzinfo=dt.UTC))
        assert client.get("/test/today").json()["today"] == "2026-12-31"
