"""A clinic group spans time zones: each site's days and weeks are its own (SPEC 9).

Site TYO is in Tokyo, MAIN in Chicago (the tests' clinic zone). The same instant is a
different day in each, so "today's Bowie-Dick test", BI weeks, compliance findings and
the log's times follow the sterilizer's site, not the server's or MAIN's zone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

from kernel.auth.models import Role
from kernel.clock import FixedClock
from tests.sterilization_factories import GOOD_READINGS, cycle_minutes, let_time_pass

TOKYO = ZoneInfo("Asia/Tokyo")
CHICAGO = ZoneInfo("America/Chicago")


def tokyo_site(client, users) -> None:
    site = {"code": "TYO", "name": "Tokyo", "timezone": "Asia/Tokyo"}
    assert client.post("/api/v1/sites", json=site, headers=users.headers(Role.ADMIN)).is_success


def tokyo_sterilizer(client, users, kind: str = "steam_prevac", code: str = "TY-A") -> None:
    body = {"code": code, "name": f"Tokyo {code}", "kind": kind, "site": "TYO"}
    made = client.post("/api/v1/sterilizers", json=body, headers=users.headers(Role.ADMIN))
    assert made.status_code == 201, made.text


def run(client, users, sterilizer: str, cycle_type: str, **extra) -> dict:
    admin = users.headers(Role.ADMIN)
    body = {"sterilizer": sterilizer, "cycle_type": cycle_type, **extra}
    started = client.post("/api/v1/cycles", json=body, headers=admin)
    assert started.status_code == 201, started.text
    readings = {"mechanical_ok": True, "chemical_ok": True, **GOOD_READINGS[cycle_type]}
    let_time_pass(client, cycle_minutes(readings))  # a cycle takes its time
    done = client.post(
        f"/api/v1/cycles/{started.json()['id']}/complete", json=readings, headers=admin
    )
    assert done.status_code == 200, done.text
    return started.json()


def test_days_count_in_the_sites_zone_for_todays_bowie_dick(client, users):
    tokyo_site(client, users)
    tokyo_sterilizer(client, users)
    # 23:00 in Tokyo on Dec 5 (08:00 in Chicago, Dec 5): the Bowie-Dick test passes.
    client.app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 5, 23, tzinfo=TOKYO))
    run(client, users, "TY-A", "bowie_dick")
    # 08:00 in Tokyo on Dec 6, still Dec 5 (17:00) in Chicago: a new day at the site.
    client.app.state.clock.advance(dt.timedelta(hours=9))
    load = run(client, users, "TY-A", "prevac_132_4")
    assert any("No passed Bowie-Dick test today" in w for w in load["warnings"])


def test_a_bowie_dick_of_the_sites_morning_covers_its_day(client, users):
    tokyo_site(client, users)
    tokyo_sterilizer(client, users)
    # 07:00 and 15:00 in Tokyo on Dec 6: in Chicago, 16:00 on Dec 5 and 00:00 on Dec 6.
    client.app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 6, 7, tzinfo=TOKYO))
    run(client, users, "TY-A", "bowie_dick")
    client.app.state.clock.advance(dt.timedelta(hours=8))
    load = run(client, users, "TY-A", "prevac_132_4")
    assert not any("Bowie-Dick" in w for w in load["warnings"])


def test_bi_weeks_count_in_the_sites_zone(client, users):
    tokyo_site(client, users)
    tokyo_sterilizer(client, users, kind="steam_gravity", code="TY-G")
    # Monday Dec 7, 08:00 in Tokyo is still Sunday Dec 6 in Chicago (the week before).
    client.app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 6, 23, tzinfo=TOKYO))
    run(client, users, "TY-G", "gravity_121_30", bi_lot="BI-SUN")
    client.app.state.clock.advance(dt.timedelta(hours=9))  # Monday 08:00 in Tokyo
    load = run(client, users, "TY-G", "gravity_121_30")
    assert any("No spore test (BI)" in w for w in load["warnings"])


def test_compliance_counts_each_sites_days_in_its_zone_and_narrows_to_a_site(client, users):
    tokyo_site(client, users)
    tokyo_sterilizer(client, users)
    main = {"code": "MN-A", "name": "Main A", "kind": "steam_prevac"}
    client.post("/api/v1/sterilizers", json=main, headers=users.headers(Role.ADMIN))
    # A load at 08:00 on Tuesday Dec 8 in Tokyo without a Bowie-Dick: Monday Dec 7 in Chicago.
    client.app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 8, 8, tzinfo=TOKYO))
    run(client, users, "TY-A", "prevac_132_4")
    auditor = users.headers(Role.AUDITOR)
    params = {"from": "2026-12-01", "to": "2026-12-10"}
    report = client.get("/api/v1/sterilization/compliance", params=params, headers=auditor)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["sites"] == ["MAIN", "TYO"]
    by_code = {s["code"]: s for s in body["sterilizers"]}
    assert by_code["TY-A"]["site"] == "TYO" and by_code["TY-A"]["time_zone"] == "Asia/Tokyo"
    assert [d["date"] for d in by_code["TY-A"]["days_without_bowie_dick"]] == ["2026-12-08"]
    assert by_code["MN-A"]["site"] == "MAIN" and by_code["MN-A"]["loads"] == 0
    only = client.get(
        "/api/v1/sterilization/compliance", params={**params, "site": "tyo"}, headers=auditor
    ).json()
    assert only["sites"] == ["TYO"] and [s["code"] for s in only["sterilizers"]] == ["TY-A"]


def test_site_param_of_a_site_the_user_lacks_is_refused_naming_it(client, users):
    tokyo_site(client, users)
    ma = users.headers(Role.MA)  # MAIN only
    for path in ("/api/v1/sterilization/compliance", "/api/v1/sterilization/log.csv"):
        refused = client.get(path, params={"site": "TYO"}, headers=ma)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0] == {
            "field": "site", "message": "unknown site", "source": "query"
        }  # fmt: skip


def log_rows(client, users, **params) -> list[dict[str, str]]:
    response = client.get(
        "/api/v1/sterilization/log.csv", params=params, headers=users.headers(Role.AUDITOR)
    )
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_log_gains_a_leading_site_column_only_when_it_spans_sites(client, users):
    tokyo_site(client, users)
    tokyo_sterilizer(client, users, kind="steam_gravity", code="TY-G")
    client.app.state.clock = FixedClock(CHICAGO, dt.datetime(2026, 12, 8, 8, tzinfo=TOKYO))
    run(client, users, "TY-G", "gravity_121_30")
    only_tokyo = log_rows(client, users)
    assert "site" not in only_tokyo[0]  # one site in the result: the spec's columns
    assert only_tokyo[0]["started_at"] == "2026-12-08T08:00:00+09:00"  # the site's time
    main = {"code": "MN-G", "name": "Main G", "kind": "steam_gravity"}
    client.post("/api/v1/sterilizers", json=main, headers=users.headers(Role.ADMIN))
    run(client, users, "MN-G", "gravity_121_30")
    both = log_rows(client, users)
    assert [(r["site"], r["sterilizer"]) for r in both] == [("TYO", "TY-G"), ("MAIN", "MN-G")]
    assert both[1]["started_at"].startswith("2026-12-07T17:") and both[1]["started_at"].endswith(
        "-06:00"
    )  # the same evening in Chicago (MAIN's zone)
    assert next(iter(both[0])) == "site"
    narrowed = log_rows(client, users, site="MAIN")
    assert [r["sterilizer"] for r in narrowed] == ["MN-G"] and "site" not in narrowed[0]


def test_compliance_for_sites_sharing_a_zone_is_one_pass_not_one_per_site(
    client, users, statements
):
    """A group's sites are a handful of zones: the report over all of them costs what one
    site's does (issue 17: 50 sites were 50 passes of every query), each sterilizer still
    labelled with its site, sites in code order."""
    admin = users.headers(Role.ADMIN)
    for code in ("NORTH", "SOUTH", "WEST"):
        site = {"code": code, "name": code.title(), "timezone": "America/Chicago"}
        assert client.post("/api/v1/sites", json=site, headers=admin).is_success
        body = {"code": f"{code[:2]}-A", "name": f"{code} A", "kind": "steam_gravity",
                "site": code}  # fmt: skip
        assert client.post("/api/v1/sterilizers", json=body, headers=admin).status_code == 201
    tokyo_site(client, users)
    tokyo_sterilizer(client, users)
    auditor = users.headers(Role.AUDITOR)
    params = {"from": "2026-12-01", "to": "2026-12-10"}
    client.get("/api/v1/sterilization/compliance", params=params, headers=auditor)  # warm
    statements.reset()
    one = client.get(
        "/api/v1/sterilization/compliance", params={**params, "site": "NORTH"}, headers=auditor
    )
    one_site = statements.count
    statements.reset()
    every = client.get("/api/v1/sterilization/compliance", params=params, headers=auditor)
    assert one.status_code == every.status_code == 200, every.text
    # MAIN, NORTH, SOUTH and WEST share Chicago's zone, TYO has its own: two passes
    assert statements.count <= 2 * one_site + 2, (statements.count, one_site)
    body = every.json()
    assert body["sites"] == ["MAIN", "NORTH", "SOUTH", "TYO", "WEST"]
    assert [(s["site"], s["code"], s["time_zone"]) for s in body["sterilizers"]] == [
        ("NORTH", "NO-A", "America/Chicago"),
        ("SOUTH", "SO-A", "America/Chicago"),
        ("TYO", "TY-A", "Asia/Tokyo"),
        ("WEST", "WE-A", "America/Chicago"),
    ]
