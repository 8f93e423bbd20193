"""In the app: the user's notifications newest first with an `unread` filter, marking one
read, the bell's unread count on every page, preferences with defaults by role."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from kernel.auth.models import Role
from kernel.clock import FixedClock
from kernel.notifications import Fact, NotificationRule
from kernel.notifications.rules import STATE_KEY
from tests.factories import csrf_token_from, page_login
from tests.notification_factories import run_notifications

CHICAGO = ZoneInfo("America/Chicago")
PREFS = "/api/v1/users/me/notification-preferences"


@pytest.fixture
def facts(app) -> list[Fact]:
    found: list[Fact] = []
    app.state[STATE_KEY] = (
        NotificationRule("test_kind", "Test", lambda s, c: list(found), frozenset({Role.MA})),
        NotificationRule("other_kind", "Other", lambda s, c: [], frozenset({Role.AUDITOR})),
    )
    app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC))
    return found


def notify(app, facts, *subjects: str) -> None:
    for subject in subjects:
        facts.append(Fact(key=subject, subject=subject, url="/cycles"))
        run_notifications(app)
        app.state.clock.advance(dt.timedelta(minutes=5))


def test_notifications_are_listed_newest_first_and_filter_by_unread(app, client, users, facts):
    ma = users.headers(Role.MA)
    notify(app, facts, "first", "second", "third")
    page = client.get("/api/v1/notifications", headers=ma).json()
    assert [n["subject"] for n in page["items"]] == ["third", "second", "first"]
    assert page["total"] == page["unread"] == 3
    first = page["items"][2]
    read = client.post(f"/api/v1/notifications/{first['id']}/read", headers=ma)
    assert read.status_code == 200 and read.json()["read"] is True
    unread = client.get("/api/v1/notifications", params={"unread": "true"}, headers=ma).json()
    assert [n["subject"] for n in unread["items"]] == ["third", "second"]
    assert unread["unread"] == 2
    done = client.get("/api/v1/notifications", params={"unread": "false"}, headers=ma).json()
    assert [n["subject"] for n in done["items"]] == ["first"]


def test_marking_read_twice_changes_nothing_and_is_audited_once(app, client, users, facts):
    ma = users.headers(Role.MA)
    notify(app, facts, "one")
    item = client.get("/api/v1/notifications", headers=ma).json()["items"][0]
    first = client.post(f"/api/v1/notifications/{item['id']}/read", headers=ma).json()
    app.state.clock.advance(dt.timedelta(hours=1))
    again = client.post(f"/api/v1/notifications/{item['id']}/read", headers=ma).json()
    assert first["read_at"] == again["read_at"]
    audit = client.get(
        "/api/v1/audit", params={"action": "notification.read"}, headers=users.headers(Role.ADMIN)
    ).json()
    assert len([e for e in audit["items"] if e["action"] == "notification.read"]) == 1


def test_another_users_notification_is_not_found(app, client, users, facts):
    ma = users.headers(Role.MA)
    other = {"Authorization": f"Bearer {users.token(users.create(Role.MA))}"}
    notify(app, facts, "mine")
    item = client.get("/api/v1/notifications", headers=ma).json()["items"][0]
    assert client.post(f"/api/v1/notifications/{item['id']}/read", headers=other).status_code == 200
    purchasing = users.headers(Role.PURCHASING)  # not a recipient
    refused = client.post(f"/api/v1/notifications/{item['id']}/read", headers=purchasing)
    assert refused.status_code == 404
    assert client.post("/api/v1/notifications/999999/read", headers=ma).status_code == 404


def test_preferences_default_by_role(app, client, users, facts):
    assert client.get(PREFS, headers=users.headers(Role.MA)).json() == {
        "test_kind": "immediate",
        "other_kind": "off",
    }
    assert client.get(PREFS, headers=users.headers(Role.AUDITOR)).json() == {
        "test_kind": "off",
        "other_kind": "immediate",
    }


def test_preferences_are_kept_per_kind_and_unknown_kinds_or_modes_are_refused(
    app, client, users, facts
):
    ma = users.headers(Role.MA)
    assert client.put(PREFS, json={"other_kind": "digest"}, headers=ma).json() == {
        "test_kind": "immediate",
        "other_kind": "digest",
    }
    unknown = client.put(PREFS, json={"nope": "off", "test_kind": "off"}, headers=ma)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "nope"
    bad_mode = client.put(PREFS, json={"test_kind": "sometimes"}, headers=ma)
    assert bad_mode.status_code in (400, 422)
    assert client.get(PREFS, headers=ma).json()["test_kind"] == "immediate"  # nothing written


def test_the_bell_shows_the_unread_count_on_every_page(app, client, users, facts):
    name = users.create(Role.MA)
    page_login(client, name)
    browser = client
    bell = re.compile(r'class="bell-count">(\d+)<')
    assert not bell.search(browser.get("/cycles").text)
    notify(app, facts, "one", "two")
    for page in ("/", "/cycles", "/notifications", "/notifications/preferences"):
        found = bell.search(browser.get(page).text)
        assert found and found.group(1) == "2", page
    listing = browser.get("/notifications").text
    assert "two" in listing and "one" in listing


def test_opening_a_notification_marks_it_read_and_goes_where_it_is_resolved(
    app, client, users, facts
):
    name = users.create(Role.MA)
    page_login(client, name)
    browser = client
    notify(app, facts, "go")
    item = client.get(
        "/api/v1/notifications", headers={"Authorization": f"Bearer {users.token(name)}"}
    ).json()["items"][0]
    page = browser.get("/notifications").text
    token = csrf_token_from(page)
    opened = browser.post(
        f"/notifications/{item['id']}/open",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert opened.status_code == 303 and opened.headers["location"] == "/cycles"
    assert 'class="bell-count"' not in browser.get("/cycles").text


def test_users_have_an_e_mail_address(client, users):
    admin = users.headers(Role.ADMIN)
    made = client.post(
        "/api/v1/users/",
        json={"username": "mia", "role": "ma", "password": "long enough pw", "email": "mia@x.org"},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["email"] == "mia@x.org"
    bad = client.patch("/api/v1/users/mia", json={"email": "not an address"}, headers=admin)
    assert bad.status_code in (400, 422)
    changed = client.patch("/api/v1/users/mia", json={"email": "m@y.org"}, headers=admin).json()
    assert changed["email"] == "m@y.org"
    cleared = client.patch("/api/v1/users/mia", json={"email": ""}, headers=admin).json()
    assert cleared["email"] is None
