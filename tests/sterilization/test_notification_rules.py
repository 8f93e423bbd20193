"""Sterilization's notification rules (SPEC section 10), each replayed on a clinic day
with the clock pinned: who gets what, once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kernel.auth.models import Role, User
from kernel.clock import FixedClock
from tests.notification_factories import deliveries, kinds_for, notifications, run_notifications

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def morning(app):
    """Thursday 3 December 2026, 08:00 in the clinic."""
    app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 3, 8, 0, tzinfo=CHICAGO))
    return app.state.clock


def test_bi_read_due_once_the_bi_has_incubated(app, client, steri, users, morning):
    steri.users.headers(Role.MA)
    sterilizer = steri.sterilizer()["code"]
    with_bi = steri.run(sterilizer, bi_lot="LOT-7")
    steri.run(sterilizer)  # no BI in this load: nothing to read
    run_notifications(app)
    assert notifications(app, "bi_read_due") == []
    morning.advance(dt.timedelta(hours=24, minutes=1))
    run_notifications(app)
    due = notifications(app, "bi_read_due")
    assert len(due) == 1 and due[0].url == f"/cycles/{with_bi['id']}"
    assert "LOT-7" in due[0].detail
    assert "bi_read_due" in kinds_for(client, steri.ma)
    steri.bi(with_bi["id"], "negative")
    morning.advance(dt.timedelta(hours=1))
    run_notifications(app)
    assert len(notifications(app, "bi_read_due")) == 1  # read: nothing new


def test_a_bi_that_was_read_in_time_is_never_announced(app, steri, morning):
    cycle = steri.run(steri.sterilizer()["code"], bi_lot="LOT-8")
    morning.advance(dt.timedelta(hours=24, minutes=5))
    steri.bi(cycle["id"], "negative")
    run_notifications(app)
    assert notifications(app, "bi_read_due") == []


def test_bowie_dick_missing_when_a_prevac_load_runs_before_a_passed_test(app, steri, morning):
    tested = steri.sterilizer(kind="steam_prevac")["code"]
    untested = steri.sterilizer(kind="steam_prevac", name="Untested")["code"]
    steri.run(tested, cycle_type="bowie_dick")
    morning.advance(dt.timedelta(minutes=20))
    steri.run(tested, cycle_type="prevac_132_4")
    steri.run(untested, cycle_type="prevac_132_4")
    run_notifications(app)
    missing = notifications(app, "bowie_dick_missing")
    assert [n.subject for n in missing] == [
        "No passed Bowie-Dick test before today's load on Untested"
    ]
    morning.advance(dt.timedelta(hours=2))
    steri.run(untested, cycle_type="prevac_132_4")  # a second load the same day: same fact
    run_notifications(app)
    assert len(notifications(app, "bowie_dick_missing")) == 1
    morning.advance(dt.timedelta(days=1))
    steri.run(untested, cycle_type="prevac_132_4")  # the next day: a new fact
    run_notifications(app)
    assert len(notifications(app, "bowie_dick_missing")) == 2


def test_a_gravity_sterilizer_needs_no_bowie_dick(app, steri, morning):
    steri.run(steri.sterilizer(kind="steam_gravity")["code"])
    run_notifications(app)
    assert notifications(app, "bowie_dick_missing") == []


def test_cycle_overdue_when_running_over_two_hours(app, client, steri, morning):
    sterilizer = steri.sterilizer()["code"]
    cycle = steri.start(sterilizer)
    morning.advance(dt.timedelta(hours=1, minutes=59))
    run_notifications(app)
    assert notifications(app, "cycle_overdue") == []
    morning.advance(dt.timedelta(minutes=2))
    run_notifications(app)
    overdue = notifications(app, "cycle_overdue")
    assert [n.url for n in overdue] == [f"/cycles/{cycle['id']}"]
    assert "cycle_overdue" in kinds_for(client, steri.ma)
    assert kinds_for(client, steri.users.headers(Role.PURCHASING)) == []


def test_recall_open_and_requalification_pending_after_a_positive_bi(app, client, steri, users):
    app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 3, 8, 0, tzinfo=CHICAGO))
    sterilizer = steri.sterilizer()["code"]
    packs = steri.packs(2)
    cycle = steri.run(sterilizer, packs, bi_lot="LOT-9")
    app.state.clock.advance(dt.timedelta(hours=25))
    steri.bi(cycle["id"], "positive")
    auditor = users.headers(Role.AUDITOR)
    run_notifications(app)
    assert sorted(kinds_for(client, auditor)) == ["recall_open", "requalification_pending"]
    assert "bi_read_due" not in kinds_for(client, steri.ma)  # the BI was read
    run_notifications(app)
    assert len(notifications(app, "recall_open")) == 1
    assert len(notifications(app, "requalification_pending")) == 1


def test_bi_missing_when_loads_ran_this_week_without_a_bi(app, steri, morning):
    without = steri.sterilizer(name="No BI")["code"]
    with_bi = steri.sterilizer(name="With BI")["code"]
    steri.run(without)
    steri.run(with_bi, bi_lot="LOT-1")
    run_notifications(app)
    assert [n.subject for n in notifications(app, "bi_missing")] == [
        "No spore test (BI) on No BI this week"
    ]
    morning.advance(dt.timedelta(days=1))  # Friday, same ISO week: the same gap
    steri.run(without)
    run_notifications(app)
    assert len(notifications(app, "bi_missing")) == 1


def test_bi_missing_follows_the_sterilizers_bi_frequency(app, client, steri, morning):
    daily = steri.sterilizer(name="Daily")["code"]
    every = steri.sterilizer(name="Every load")["code"]
    for code, frequency in ((daily, "daily"), (every, "every_load")):
        response = client.patch(
            f"/api/v1/sterilizers/{code}", json={"bi_frequency": frequency}, headers=steri.admin
        )
        assert response.status_code == 200, response.text
    steri.run(daily)
    first = steri.run(every)
    steri.run(every, bi_lot="LOT-2")
    run_notifications(app)
    assert sorted(n.subject for n in notifications(app, "bi_missing")) == [
        f"Cycle {first['number']} on Every load ran without a BI",
        "No spore test (BI) on Daily today",
    ]
    morning.advance(dt.timedelta(days=1))  # a new day: a new daily gap once it has loads
    run_notifications(app)
    assert len(notifications(app, "bi_missing")) == 2
    steri.run(daily)
    run_notifications(app)
    assert len(notifications(app, "bi_missing")) == 3


def test_bi_read_due_waits_for_the_bi_products_own_incubation(app, client, steri, morning):
    rapid = {"code": "RAPID", "name": "Rapid readout BI", "min_incubation_minutes": 180}
    assert client.post("/api/v1/bi-products", json=rapid, headers=steri.admin).status_code == 201
    sterilizer = steri.sterilizer()["code"]
    body = {"sterilizer": sterilizer, "cycle_type": "gravity_121_30", "bi_lot": "R-1",
            "bi_product": "RAPID"}  # fmt: skip
    cycle = steri.ok(client.post("/api/v1/cycles", json=body, headers=steri.ma), 201)
    steri.complete(cycle)
    morning.advance(dt.timedelta(minutes=179))
    run_notifications(app)
    assert notifications(app, "bi_read_due") == []  # 3 hours not yet over
    morning.advance(dt.timedelta(minutes=2))
    run_notifications(app)
    assert [n.url for n in notifications(app, "bi_read_due")] == [f"/cycles/{cycle['id']}"]


def test_a_sites_notifications_go_to_its_own_users_and_name_the_site(
    app, client, steri, users, morning
):
    tokyo = {"code": "TYO", "name": "Tokyo clinic", "timezone": "Asia/Tokyo"}
    assert client.post("/api/v1/sites", json=tokyo, headers=steri.admin).status_code == 201
    users.create(Role.MA, "kenji", sites=["TYO"])
    users.create(Role.MA, "mia")  # MAIN only
    body = {"code": "AC-T", "name": "Tokyo autoclave", "kind": "steam_gravity", "site": "TYO"}
    steri.ok(client.post("/api/v1/sterilizers", json=body, headers=steri.admin), 201)
    start = {"sterilizer": "AC-T", "cycle_type": "gravity_121_30"}
    steri.ok(client.post("/api/v1/cycles", json=start, headers=steri.admin), 201)
    morning.advance(dt.timedelta(hours=2, minutes=1))
    run_notifications(app)
    [overdue] = notifications(app, "cycle_overdue")
    assert overdue.site == "TYO" and "Tokyo autoclave" in overdue.subject
    with app.state.db.session(write=False) as session:
        names = dict(session.execute(select(User.id, User.username)).all())
    told = {names[d.user_id] for d, _ in deliveries(app, "cycle_overdue") if d.user_id}
    assert "kenji" in told and "mia" not in told
    # 08:00 in Chicago, told in Tokyo's time
    assert overdue.detail.startswith("Started 2026-12-03 23:00 ")
