"""Staff competencies (SPEC section 12): recorded by an administrator with an optional
expiry; a cycle or HLD run by someone without a current one carries a warning and is
never refused."""

from __future__ import annotations

import datetime as dt

import pytest

from kernel.auth.models import Role
from tests.equipment_factories import EquipmentApi
from tests.factories import grant_competency
from tests.sterilization_factories import Sterilization


@pytest.fixture
def eq(client, users) -> EquipmentApi:
    return EquipmentApi(client, users)


def grant(eq, username, expect=201, **body):
    return eq.post(f"/api/v1/users/{username}/competencies", body, eq.admin, expect=expect)


def test_an_administrator_records_competencies_with_their_expiry(eq, users):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    ma = users.create(Role.MA)
    got = grant(eq, ma, skill="hld", granted_on="2025-12-01", expires_on="2026-12-01",
                evidence="OPA in-service, signed by the IP nurse")  # fmt: skip
    assert (got["skill"], got["current"]) == ("hld", False)  # expired yesterday
    grant(eq, ma, skill="sterilizer_operation", granted_on="2026-06-01")
    listed = eq.client.get(
        f"/api/v1/users/{ma}/competencies", headers=users.headers(Role.AUDITOR)
    ).json()
    assert [(c["skill"], c["current"]) for c in listed["items"]] == [
        ("sterilizer_operation", True),
        ("hld", False),
    ]
    by_ma = eq.client.post(
        f"/api/v1/users/{ma}/competencies",
        json={"skill": "hld", "granted_on": "2026-01-01"},
        headers=eq.ma,
    )
    assert by_ma.status_code == 403


def test_a_competency_expiring_before_it_was_granted_is_refused(eq, users):
    ma = users.create(Role.MA)
    refused = grant(eq, ma, expect=422, skill="hld", granted_on="2026-06-01",
                    expires_on="2026-05-01")  # fmt: skip
    assert refused["errors"][0]["field"] == "expires_on"
    assert grant(eq, "nobody-here", expect=404, skill="hld", granted_on="2026-06-01")


def test_a_cycle_by_an_operator_without_a_current_competency_gets_a_warning_not_a_refusal(
    client, users, database
):
    steri = Sterilization(client, users)
    ma = users.create(Role.MA)
    headers = {"Authorization": f"Bearer {users.token(ma)}"}
    autoclave = steri.sterilizer("steam_gravity")["code"]
    response = client.post(
        "/api/v1/cycles", json={"sterilizer": autoclave, "cycle_type": "gravity_121_30"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201
    warning = [w for w in response.json()["warnings"] if "competency" in w]
    assert warning == [
        f"{ma} has no current competency in sterilizer operation (no competency recorded): "
        "the work is recorded, and listed in the compliance report."
    ]
    cycle = client.get(f"/api/v1/cycles/{response.json()['id']}", headers=headers).json()
    assert any("competency" in w for w in cycle["warnings"])

    grant_competency(database, ma, "sterilizer_operation")
    other = steri.sterilizer("steam_gravity")["code"]  # the first is still running its cycle
    again = client.post(
        "/api/v1/cycles", json={"sterilizer": other, "cycle_type": "gravity_121_30"},
        headers=headers,
    )  # fmt: skip
    assert again.status_code == 201, again.text
    assert not any("competency" in w for w in again.json()["warnings"])


def test_an_expired_competency_is_not_current_and_the_warning_says_when_it_lapsed(eq, users):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    probe = eq.hld_device()
    username = users.usernames.get("ma") or (eq.ma and users.usernames["ma"])
    grant(eq, username, skill="hld", granted_on="2025-11-01", expires_on="2026-11-30")
    run = eq.hld_run(probe)
    assert run["result"] == "pass"  # recorded and usable: flagged, not blocked
    assert run["warnings"] == [
        f"{username} has no current competency in high-level disinfection (competency "
        "expired on 2026-11-30): the work is recorded, and listed in the compliance report."
    ]
    grant(eq, username, skill="hld", granted_on="2026-12-01", expires_on="2027-12-01")
    assert eq.hld_run(probe)["warnings"] == []


def grant_all(database, skill: str, now: dt.datetime, grants) -> None:
    """Give each (username, granted_on, expires_on) the skill, in one session."""
    from kernel.auth import competencies

    with database.session() as session:
        for who, granted, expires in grants:
            competencies.grant_competency(
                session, who, skill=skill, granted_on=granted, expires_on=expires,
                actor="test", now=now,
            )  # fmt: skip


def test_a_year_of_work_is_judged_from_everyone_s_competencies_read_once(
    database, users, statements, monkeypatch
):
    """The compliance report's untrained work over a clinic group's year: each person's
    standing on each day comes from their competencies read in one query, not two queries
    per person and day (issue 17: a 50-site group's report took seconds on PostgreSQL)."""
    from kernel.auth import competencies

    trained, lapsed, never = (users.create(Role.MA) for _ in range(3))
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    skill = "sterilizer_operation"
    grant_all(database, skill, now, [
        (trained, dt.date(2025, 1, 1), None),
        (lapsed, dt.date(2024, 1, 1), dt.date(2025, 3, 31)),
        (lapsed, dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
    ])  # fmt: skip
    start = dt.datetime(2025, 1, 1, 14, 0, tzinfo=dt.UTC)
    work = [
        competencies.Operation(who.upper(), skill, start + dt.timedelta(days=d),
                               f"cycle {d}", "cycle", f"{who}-{d}")
        for d in range(365)
        for who in (trained, lapsed, never)
    ]  # fmt: skip
    monkeypatch.setattr(competencies, "_activities", {"test": lambda *_: work})
    statements.reset()
    with database.session() as session:
        found = competencies.untrained_operations(session, None, None, day_of=lambda at: at.date())
    assert statements.count <= 2, statements.statements  # not ~1,500
    by_person: dict[str, set[str]] = {}
    for u in found:
        by_person.setdefault(u.operation.username.lower(), set()).add(u.reason)
    assert set(by_person) == {lapsed, never}
    assert by_person[never] == {"no competency recorded"}
    # covered through the last day of the newer grant, then named by its (latest) lapse
    lapsed_days = sorted(
        u.operation.at.date() for u in found if u.operation.username.lower() == lapsed
    )
    assert lapsed_days[0] == dt.date(2025, 7, 1) and len(lapsed_days) == 184
    assert by_person[lapsed] == {"competency expired on 2025-06-30"}


def test_only_the_work_of_people_whose_competencies_leave_a_day_uncovered_is_listed(
    database, users, monkeypatch
):
    """With a summary of who worked when (first and last work in the period), a domain
    lists only the work of people whose competencies leave a day of that span uncovered
    (issue 17: a group's year is 100,000 cycles by trained staff). The findings are the
    same as judging every piece of work."""
    from kernel.auth import competencies

    trained, chained, gap, never = (users.create(Role.MA) for _ in range(4))
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    skill = "sterilizer_operation"
    grant_all(database, skill, now, [
        (trained, dt.date(2024, 1, 1), None),
        (chained, dt.date(2024, 12, 1), dt.date(2025, 6, 30)),
        (chained, dt.date(2025, 7, 1), None),
        (gap, dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        (gap, dt.date(2025, 4, 2), dt.date(2026, 12, 31)),
    ])  # fmt: skip
    start = dt.datetime(2025, 1, 1, 14, 0, tzinfo=dt.UTC)
    work = [
        competencies.Operation(who, skill, start + dt.timedelta(days=d), f"cycle {d}", "cycle",
                               f"{who}-{d}")
        for d in range(365)
        for who in (trained, chained, gap, never)
    ]  # fmt: skip
    asked: list[list[str] | None] = []

    def activity(session, start, end, operators=None):
        asked.append(None if operators is None else sorted(operators))
        return [op for op in work if operators is None or op.username in operators]

    def spans(session, start, end):
        first: dict[str, dt.datetime] = {}
        last: dict[str, dt.datetime] = {}
        for op in work:
            first[op.username] = min(first.get(op.username, op.at), op.at)
            last[op.username] = max(last.get(op.username, op.at), op.at)
        return [(who, skill, first[who], last[who]) for who in first]

    def judged() -> list[tuple[str, dt.date, str]]:
        with database.session() as session:
            found = competencies.untrained_operations(
                session, None, None, day_of=lambda at: at.date()
            )
        return [(u.operation.username, u.operation.at.date(), u.reason) for u in found]

    monkeypatch.setattr(competencies, "_activities", {"test": activity})
    monkeypatch.setattr(competencies, "_spans", {"test": spans})
    summarised = judged()
    assert asked == [sorted([gap, never])]
    assert [(who, day) for who, day, _ in summarised if who == gap] == [(gap, dt.date(2025, 4, 1))]
    assert len([who for who, _, _ in summarised if who == never]) == 365
    monkeypatch.setattr(competencies, "_spans", {})
    assert judged() == summarised  # every piece of work judged: the same findings
    assert asked[-1] is None
