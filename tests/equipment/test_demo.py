"""The demo clinic's equipment record (SPEC section 12): an ultrasonic with weekly foil
tests (one missed), a TEE probe with HLD runs (one failed MEC), maintenance history, two
staff competencies (one expired). The auditor's report finds the planted gaps, and only
those."""

from __future__ import annotations

import datetime as dt

from kernel.auth.models import Role
from kernel.clock import Clock
from kernel.settings import get_settings
from steristock.app import plugins
from steristock.demo import load_demo


def test_the_demo_report_finds_the_planted_equipment_gaps_and_only_those(
    database, client, users, app
):
    with database.session() as session:
        load_demo(session, plugins(), actor="cli")
    clock = Clock.from_settings(get_settings())  # the zone the demo was written in
    app.state.clock = clock
    today = clock.today()
    period = {"from": (today - dt.timedelta(days=34)).isoformat(), "to": today.isoformat()}
    auditor = users.headers(Role.AUDITOR)
    report = client.get("/api/v1/sterilization/compliance", params=period, headers=auditor)
    assert report.status_code == 200, report.text
    body = report.json()

    equipment = {e["code"]: e for e in body["equipment"]["equipment"]}
    assert set(equipment) == {"US-1", "WD-1"}
    missed = equipment["US-1"]["missed_tests"]
    year, week = clock.iso_week(today - dt.timedelta(days=14))
    assert [m["period"] for m in missed] == [f"{year}-W{week:02d}"]
    assert equipment["US-1"]["failed_tests"] == []
    assert equipment["US-1"]["tests"] >= 4 and equipment["US-1"]["runs"] >= 20
    assert body["equipment"]["maintenance_overdue"] == []

    (probe,) = body["hld"]["devices"]
    assert probe["code"] == "TEE-1"
    assert len(probe["failed_runs"]) == 1
    assert "MEC test strip failed" in probe["failed_runs"][0]["reasons"][0]
    assert probe["uses_without_passed_run"] == []
    assert probe["uses"] >= 10

    untrained = body["untrained_operators"]
    lapsed = today - dt.timedelta(days=12)
    assert untrained, "the MA's HLD competency lapsed 12 days ago"
    assert {(u["username"], u["skill"], u["kind"]) for u in untrained} == {("ma", "hld", "hld_run")}
    assert all(u["at"][:10] > lapsed.isoformat() for u in untrained)

    due = client.get("/api/v1/maintenance/due", headers=auditor).json()["items"]
    assert {d["device"] for d in due} >= {"US-1", "WD-1", "AC-A", "AC-B"}
    assert not any(d["overdue"] for d in due)
    assert client.get("/api/v1/hld-devices/TEE-1", headers=auditor).json()["ok_to_use"] is False
