"""`from`/`to`: one parser. Date-only bounds are whole local days (`to` included), a
date-time needs an offset, and a bad or out-of-range bound is a 422 naming it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.clock import ClinicTime
from kernel.periods import Period, parse_bound, parse_period
from kernel.problems import InvalidInput
from tests.factories import UserFactory

ZONE = ClinicTime(ZoneInfo("America/Chicago"))
UTC = dt.UTC


def test_date_only_bounds_are_whole_local_days_with_to_included() -> None:
    period = parse_period("2026-11-02", "2026-11-03", ZONE)
    assert period.start == dt.datetime(2026, 11, 2, 6, tzinfo=UTC)
    assert period.end == dt.datetime(2026, 11, 4, 6, tzinfo=UTC)
    assert period.first_day(ZONE) == dt.date(2026, 11, 2)
    assert period.last_day(ZONE) == dt.date(2026, 11, 3)


def test_one_day_from_and_to_covers_that_day() -> None:
    period = parse_period("2026-11-28", "2026-11-28", ZONE)
    assert period.contains(dt.datetime(2026, 11, 29, 5, 59, tzinfo=UTC))  # 23:59 local
    assert not period.contains(dt.datetime(2026, 11, 29, 6, tzinfo=UTC))


def test_a_date_time_to_includes_that_instant() -> None:
    period = parse_period(None, "2026-11-28T08:00:00-06:00", ZONE)
    at = dt.datetime(2026, 11, 28, 14, tzinfo=UTC)
    assert period.contains(at)
    assert not period.contains(at + dt.timedelta(microseconds=1))
    assert period.start is None


def test_z_and_offsets_are_accepted() -> None:
    assert parse_bound("2026-11-28T14:00:00Z", ZONE, name="from", end=False) == dt.datetime(
        2026, 11, 28, 14, tzinfo=UTC
    )
    assert parse_bound("2026-11-28T15:00:00+01:00", ZONE, name="from", end=False) == (
        dt.datetime(2026, 11, 28, 14, tzinfo=UTC)
    )


def test_blank_bounds_are_unbounded() -> None:
    assert parse_period(None, "", ZONE) == Period(None, None)


def test_a_date_time_without_offset_is_refused_naming_the_parameter() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(None, "2026-11-28T08:00:00", ZONE)
    assert refused.value.field == "to"
    assert "offset" in refused.value.detail


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("from", "yesterday"),
        ("to", "2026-13-40"),
        ("from", "0001-01-01T00:00:00+14:00"),
        ("to", "9999-12-31T23:59:59-14:00"),
        ("to", "9999-12-31"),
        ("from", "0001-01-01"),
        ("to", "9999-12-31T23:59:59.999999+00:00"),
    ],
)
def test_bad_or_out_of_range_bounds_are_422_naming_the_parameter(name: str, text: str) -> None:
    zone = ClinicTime(dt.timezone(dt.timedelta(hours=14)))  # day 1 starts before year 1 UTC
    with pytest.raises(InvalidInput) as refused:
        parse_period(**{"from_text": None, "to_text": None, f"{name}_text": text}, zone=zone)
    assert refused.value.field == name
    assert refused.value.status_code == 422
    assert refused.value.extra["errors"][0]["source"] == "query"


def test_from_after_to_is_refused_naming_from() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period("2026-11-10", "2026-11-01", ZONE)
    assert refused.value.field == "from"


def test_default_days_end_today_and_count_today() -> None:
    period = parse_period(None, None, ZONE, default_days=7, today=dt.date(2026, 11, 28))
    assert period.first_day(ZONE) == dt.date(2026, 11, 22)
    assert period.last_day(ZONE) == dt.date(2026, 11, 28)


def test_the_where_conditions_are_half_open() -> None:
    import operator

    from sqlalchemy import column

    period = parse_period("2026-11-01", "2026-11-01", ZONE)
    start, end = period.where(column("at"))
    assert (start.operator, start.right.value) == (operator.ge, period.start)
    assert (end.operator, end.right.value) == (operator.lt, period.end)


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit.csv"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "0001-01-01T00:00:00+14:00"}, "from"),
        ({"to": "9999-12-31T23:59:59-14:00"}, "to"),
        ({"to": "2026-11-28T08:00:00"}, "to"),
        ({"from": "2026-11-10", "to": "2026-11-01"}, "from"),
    ],
)
def test_the_audit_api_answers_bad_periods_with_a_problem_naming_the_parameter(
    client: TestClient, users: UserFactory, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(path, params=params, headers=users.headers(Role.AUDITOR))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == field


def test_the_audit_api_reads_a_date_as_whole_clinic_days(
    client: TestClient, users: UserFactory
) -> None:
    auditor = users.headers(Role.AUDITOR)  # creating the user writes audit entries today
    today = dt.datetime.now(ZoneInfo("America/Chicago")).date()
    tomorrow = today + dt.timedelta(days=1)
    found = client.get(
        "/api/v1/audit", params={"from": str(today), "to": str(today)}, headers=auditor
    )
    assert found.status_code == 200 and found.json()["total"] >= 1
    later = client.get("/api/v1/audit", params={"from": str(tomorrow)}, headers=auditor)
    assert later.status_code == 200 and later.json()["total"] == 0
