"""The engine's promises, with a rule of the test's own: a fact is notified once, to the
people whose preferences ask for it, and one sender at a time does it."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kernel.auth.models import Role, User
from kernel.clock import FixedClock
from kernel.notifications import Fact, NotificationRule
from kernel.notifications.engine import next_digest_at, run_rules
from kernel.notifications.lease import acquire, release, try_acquire
from kernel.notifications.models import NotificationDelivery
from kernel.notifications.rules import STATE_KEY, RuleContext
from kernel.notifications.runner import run_once
from tests.notification_factories import deliveries, notifications, run_notifications

CHICAGO = ZoneInfo("America/Chicago")


class Facts:
    """A rule whose facts the test sets."""

    def __init__(self) -> None:
        self.found: list[Fact] = []
        self.calls = 0

    def __call__(self, session, ctx):
        self.calls += 1
        return list(self.found)


@pytest.fixture
def facts(app) -> Facts:
    found = Facts()
    app.state[STATE_KEY] = (
        NotificationRule("test_kind", "A test fact", found, frozenset({Role.MA})),
    )
    app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC))
    return found


def test_a_fact_is_never_notified_twice(app, users, facts):
    users.create(Role.MA)
    facts.found = [Fact(key="cycle:1", subject="Read the BI", url="/cycles/1")]
    first = run_notifications(app)
    second = run_notifications(app)
    assert (first.rules.new, second.rules.new) == (1, 0)
    assert first.rules.facts == second.rules.facts == 1
    assert len(notifications(app)) == 1
    assert len(deliveries(app)) == 1


def test_a_new_fact_of_the_same_kind_is_a_new_notification(app, users, facts):
    users.create(Role.MA)
    facts.found = [Fact(key="cycle:1", subject="one")]
    run_notifications(app)
    facts.found = [Fact(key="cycle:1", subject="one"), Fact(key="cycle:2", subject="two")]
    assert run_notifications(app).rules.new == 1
    assert [n.subject for n in notifications(app)] == ["one", "two"]


def test_each_role_gets_the_kinds_it_defaults_to(app, users, facts, client):
    ma = users.headers(Role.MA)
    purchasing = users.headers(Role.PURCHASING)
    facts.found = [Fact(key="x", subject="for MAs")]
    run_notifications(app)
    assert [n["kind"] for n in client.get("/api/v1/notifications", headers=ma).json()["items"]] == [
        "test_kind"
    ]
    assert client.get("/api/v1/notifications", headers=purchasing).json()["items"] == []


def test_a_kind_turned_off_reaches_no_one_and_a_kind_turned_on_reaches_anyone(
    app, users, facts, client
):
    ma, purchasing = users.headers(Role.MA), users.headers(Role.PURCHASING)
    put = lambda h, body: client.put(  # noqa: E731
        "/api/v1/users/me/notification-preferences", json=body, headers=h
    )
    assert put(ma, {"test_kind": "off"}).json() == {"test_kind": "off"}
    assert put(purchasing, {"test_kind": "immediate"}).status_code == 200
    facts.found = [Fact(key="x", subject="s")]
    run_notifications(app)
    assert client.get("/api/v1/notifications", headers=ma).json()["total"] == 0
    assert client.get("/api/v1/notifications", headers=purchasing).json()["total"] == 1


def test_inactive_users_get_nothing(app, users, facts, client):
    name = users.create(Role.MA)
    admin = users.headers(Role.ADMIN)
    client.patch(f"/api/v1/users/{name}", json={"active": False}, headers=admin)
    facts.found = [Fact(key="x", subject="s")]
    run_notifications(app)
    assert deliveries(app) == []


def test_e_mail_goes_now_or_waits_for_the_digest_at_seven_site_time(app, users, facts, client):
    """With SMTP configured, `immediate` queues an e-mail due now and `digest` one due at
    the next 07:00 in the site's zone; users without an address get the app only."""
    now = app.state.clock.now()  # 09:00 in Chicago
    a = users.create(Role.MA, email="a@clinic.example")
    b = users.create(Role.MA, email="b@clinic.example")
    users.create(Role.MA)  # no address
    client.put(
        "/api/v1/users/me/notification-preferences",
        json={"test_kind": "digest"},
        headers={"Authorization": f"Bearer {users.token(b)}"},
    )
    facts.found = [Fact(key="x", subject="s")]
    with app.state.db.session() as session:
        run_rules(
            session,
            app.state[STATE_KEY],
            RuleContext(now=now, zone=app.state.clock.zone),
            email_enabled=True,
        )
        ids = dict(session.execute(select(User.username, User.id)).all())
        rows = session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))
        queued = {(r.user_id, r.channel): r.next_attempt_at for r in rows}
    assert queued[(ids[a], "email")] == now
    seven = dt.datetime(2026, 12, 4, 7, 0, tzinfo=CHICAGO).astimezone(dt.UTC)
    assert queued[(ids[b], "digest")] == seven
    assert sum(1 for _, channel in queued if channel == "in_app") == 3
    assert sum(1 for _, channel in queued if channel in ("email", "digest")) == 2


def test_the_digest_hour_is_seven_in_the_site_zone_across_dst():
    zone = FixedClock(CHICAGO, dt.datetime(2026, 3, 7, 14, tzinfo=dt.UTC)).zone
    # The night DST starts (Sunday 8 March 2026): 07:00 CDT is 12:00 UTC, not 13:00.
    assert next_digest_at(zone, dt.datetime(2026, 3, 7, 14, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 8, 12, tzinfo=dt.UTC
    )
    # Before seven: today's seven.
    assert next_digest_at(zone, dt.datetime(2026, 3, 9, 11, tzinfo=dt.UTC)) == dt.datetime(
        2026, 3, 9, 12, tzinfo=dt.UTC
    )


def test_a_failing_rule_does_not_keep_the_others_from_notifying(app, users, facts):
    users.create(Role.MA)

    def broken(session, ctx):
        raise RuntimeError("bug in a rule")

    app.state[STATE_KEY] = (
        NotificationRule("broken", "Broken", broken, frozenset({Role.MA})),
        *app.state[STATE_KEY],
    )
    facts.found = [Fact(key="x", subject="still sent")]
    result = run_notifications(app)
    assert result.rules.failed_rules == ("broken",)
    assert [n.subject for n in notifications(app)] == ["still sent"]


def test_one_sender_holds_the_lease_at_a_time(database):
    assert try_acquire(database, "server-a")
    assert not try_acquire(database, "server-b")
    assert try_acquire(database, "server-a")  # renewing is allowed
    assert not acquire(database, "server-b", wait=0.3, poll=0.1)
    release(database, "server-a")
    assert try_acquire(database, "server-b")


def test_a_run_waits_while_another_sender_holds_the_lease(app, facts, database):
    assert try_acquire(database, "the-server")
    skipped = run_notifications(app, wait=0.2)
    assert not skipped.ran and facts.calls == 0
    threading.Timer(0.5, release, args=(database, "the-server")).start()
    waited = run_notifications(app, wait=10)
    assert waited.ran and facts.calls == 1


def test_two_senders_at_once_notify_each_fact_once(app, users, facts):
    """Two workers (or containers) run at the same moment: one holds the lease, the
    other waits its turn, and finds nothing new."""
    users.create(Role.MA)
    facts.found = [Fact(key=f"f{i}", subject=f"fact {i}") for i in range(20)]
    state = app.state
    results = []

    def worker() -> None:
        results.append(
            run_once(state.db, state.settings, list(state[STATE_KEY]), clock=state.clock, wait=30)
        )

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.rules.new for r in results) == [0, 20]
    assert len(notifications(app)) == 20
    assert len(deliveries(app)) == 20
