"""The compliance page over real HTTP: findings per sterilizer for a period, the clean
state, the log downloads through the session cookie, and roles."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.db import Database
from tests.factories import UserFactory, page_login
from tests.sterilization.planted_record import NO_BI_WEEK, Record, at, plant_month

PERIOD = {"from": "2026-10-12", "to": "2026-10-13"}  # GRAV skips its BI in 2026-W42


def test_a_week_without_bi_is_a_finding_and_the_clean_sterilizer_says_no_findings(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    plant_month(database, dt.date(2026, 10, 12), dt.date(2026, 10, 13))
    page_login(client, users.create(Role.AUDITOR))
    page = client.get("/compliance", params=PERIOD)
    assert page.status_code == 200
    html = page.text
    grav = html.split('id="sterilizer-GRAV"')[1].split('id="sterilizer-PREVAC"')[0]
    prevac = html.split('id="sterilizer-PREVAC"')[1]
    assert "1 finding" in grav
    assert "Weeks with loads but no spore test (BI)" in grav
    assert NO_BI_WEEK in grav and "2026-10-12" in grav
    assert "No findings" in prevac and NO_BI_WEEK not in prevac
    assert 'value="2026-10-12"' in html and 'value="2026-10-13"' in html
    assert 'href="/compliance/log.csv?from=2026-10-12&amp;to=2026-10-13"' in html
    assert 'href="/compliance/log.pdf?from=2026-10-12&amp;to=2026-10-13"' in html
    assert not re.search(r"\sstyle=|<style|\son[a-z]+=", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_failed_cycle_shows_its_reason(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    rec = Record(database)
    rec.sterilizer("GRAV", "steam_gravity")
    day = dt.date(2026, 10, 7)
    rec.cycle("GRAV", "gravity_121_30", at(day, 11), temperature_c=110.0)
    page_login(client, users.create(Role.ADMIN))
    html = client.get("/compliance", params={"from": "2026-10-05", "to": "2026-10-09"}).text
    assert "Failed cycles" in html
    assert "temperature 110 °C is below the 121 °C minimum" in html


def test_default_period_is_the_last_30_days_and_clean_when_nothing_happened(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    Record(database).sterilizer("PREVAC", "steam_prevac")
    page_login(client, users.create(Role.AUDITOR))
    html = client.get("/compliance").text
    values = re.findall(r'type="date" value="(\d{4}-\d\d-\d\d)"', html)
    first, last = (dt.date.fromisoformat(v) for v in values)
    assert (last - first).days == 29
    assert "No findings" in html and "0 loads" in html


def test_a_bad_date_is_shown_plainly(client: TestClient[Litestar], users: UserFactory) -> None:
    page_login(client, users.create(Role.AUDITOR))
    page = client.get("/compliance", params={"from": "soon"})
    assert page.status_code == 422 and "from must be a date" in page.text
    backwards = client.get("/compliance", params={"from": "2026-10-13", "to": "2026-10-01"})
    assert backwards.status_code == 422 and "from must be before to" in backwards.text


def test_log_downloads_through_the_page_are_the_api_files(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    plant_month(database, dt.date(2026, 10, 12), dt.date(2026, 10, 13))
    headers = users.headers(Role.AUDITOR)
    api_csv = client.get("/api/v1/sterilization/log.csv", params=PERIOD, headers=headers)
    api_pdf = client.get("/api/v1/sterilization/log.pdf", params=PERIOD, headers=headers)
    page_login(client, users.create(Role.AUDITOR))
    csv = client.get("/compliance/log.csv", params=PERIOD)
    assert csv.status_code == 200 and csv.content == api_csv.content
    assert csv.content.count(b"\n") > 2
    pdf = client.get("/compliance/log.pdf", params=PERIOD)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for header in ("content-type", "content-disposition"):
        assert csv.headers[header] == api_csv.headers[header]
        assert pdf.headers[header] == api_pdf.headers[header]


@pytest.mark.parametrize("role", [Role.MA, Role.PURCHASING])
def test_other_roles_get_the_403_page(
    client: TestClient[Litestar], users: UserFactory, role: Role
) -> None:
    page_login(client, users.create(role))
    assert 'href="/compliance"' not in client.get("/").text
    for path in ("/compliance", "/compliance/log.csv", "/compliance/log.pdf"):
        response = client.get(path)
        assert response.status_code == 403 and "may not do this" in response.text
        assert "text/html" in response.headers["content-type"]


def test_auditor_sees_compliance_in_the_navigation(
    client: TestClient[Litestar], users: UserFactory
) -> None:
    page_login(client, users.create(Role.AUDITOR))
    home = client.get("/").text
    assert 'href="/compliance"' in home and 'href="/purchasing"' in home


def test_compliance_page_needs_a_session(client: TestClient[Litestar]) -> None:
    response = client.get("/compliance/log.csv", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
