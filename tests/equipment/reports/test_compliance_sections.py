"""The compliance report's equipment, HLD and training sections (SPEC section 12): each
planted gap found, and only those; the same in the JSON and on the page; CSV exports of
each log with formula-like cells defused."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from kernel.auth.models import Role
from tests.factories import grant_competency, page_login
from tests.sterilization_factories import Sterilization

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def clinic(eq, users, client, database):
    """November in a small clinic: a weekly-tested ultrasonic that missed week 46 and failed
    a test in week 48; a washer whose maintenance fell due on Nov 20 and was done on the
    24th; a TEE probe with one failed MEC run; an MA trained for nothing running an HLD run
    and a cycle."""
    clock = eq.pin(dt.datetime(2026, 11, 2, 9, 0))  # Monday, week 45
    ma = users.usernames.get("ma") or (eq.ma and users.usernames["ma"])
    grant_competency(database, ma, "hld")
    grant_competency(database, ma, "sterilizer_operation")
    ultrasonic = eq.equipment("ultrasonic", name="Ultrasonic", test_frequency="weekly")
    washer = eq.equipment("washer_disinfector", name="Washer")
    probe = eq.hld_device(name="TEE probe")
    eq.test(ultrasonic)  # week 45
    eq.maintenance(washer, performed_on="2026-05-20", next_due_on="2026-11-20")
    eq.hld_run(probe, solution_opened_on="2026-11-01", solution_expires_on="2026-11-28")
    eq.use(probe, "ENC-1")
    clock.advance(dt.timedelta(days=14))  # week 47
    eq.test(ultrasonic)
    eq.hld_run(probe, mec_result="fail", solution_opened_on="2026-11-01",
               solution_expires_on="2026-11-28")  # fmt: skip
    clock.advance(dt.timedelta(days=7))  # Monday of week 48
    eq.test(ultrasonic, "fail", notes="foil not pitted in the corners")
    clock.advance(dt.timedelta(days=1))
    eq.test(ultrasonic)
    eq.maintenance(washer, performed_on="2026-11-24", next_due_on="2027-05-24")
    untrained = users.create(Role.MA)
    headers = {"Authorization": f"Bearer {users.token(untrained)}"}
    body = {**__import__("tests.equipment_factories").equipment_factories.HLD_RUN,
            "solution_opened_on": "2026-11-01", "solution_expires_on": "2026-11-28"}  # fmt: skip
    assert (
        client.post(f"/api/v1/hld-devices/{probe}/runs", json=body, headers=headers).status_code
        == 201
    )
    steri = Sterilization(client, users)
    autoclave = steri.sterilizer("steam_gravity")["code"]
    started = client.post(
        "/api/v1/cycles", headers=headers,
        json={"sterilizer": autoclave, "cycle_type": "gravity_121_30"},
    )  # fmt: skip
    assert started.status_code == 201
    clock.advance(dt.timedelta(days=8))  # Wednesday Dec 2: November is over
    return {"ultrasonic": ultrasonic, "washer": washer, "probe": probe, "untrained": untrained,
            "autoclave": autoclave, "ma": ma}  # fmt: skip


def report(eq):
    response = eq.client.get(
        "/api/v1/sterilization/compliance", params=PERIOD, headers=eq.users.headers(Role.AUDITOR)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_missed_and_failed_equipment_tests_are_compliance_findings(eq, clinic):
    found = {e["code"]: e for e in report(eq)["equipment"]["equipment"]}
    ultrasonic = found[clinic["ultrasonic"]]
    assert [m["period"] for m in ultrasonic["missed_tests"]] == ["2026-W46"]
    assert len(ultrasonic["failed_tests"]) == 1
    failed = ultrasonic["failed_tests"][0]
    assert failed["notes"] == "foil not pitted in the corners"
    assert failed["back_in_service_at"].startswith("2026-11-24")
    assert ultrasonic["tests"] == 4
    washer = found[clinic["washer"]]
    assert (washer["missed_tests"], washer["failed_tests"]) == ([], [])  # no cadence


def test_maintenance_done_after_its_due_date_is_a_finding_with_the_days_late(eq, clinic):
    late = report(eq)["equipment"]["maintenance_overdue"]
    assert late == [
        {
            "device": clinic["washer"],
            "device_kind": "equipment",
            "device_name": "Washer",
            "due_on": "2026-11-20",
            "done_on": "2026-11-24",
            "days_late": 4,
        }
    ]


def test_failed_hld_runs_are_findings_and_uses_rested_on_passed_runs(eq, clinic):
    devices = report(eq)["hld"]["devices"]
    assert len(devices) == 1
    probe = devices[0]
    assert (probe["runs"], probe["uses"]) == (3, 1)
    assert len(probe["failed_runs"]) == 1
    assert "MEC test strip failed" in probe["failed_runs"][0]["reasons"][0]
    assert probe["uses_without_passed_run"] == []


def test_work_by_staff_without_a_current_competency_is_listed_and_only_that(eq, clinic):
    untrained = report(eq)["untrained_operators"]
    assert [(u["username"], u["kind"], u["skill"]) for u in untrained] == [
        (clinic["untrained"], "cycle", "sterilizer_operation"),  # the same instant: by kind
        (clinic["untrained"], "hld_run", "hld"),
    ]
    assert all(u["reason"] == "no competency recorded" for u in untrained)


def test_the_compliance_page_shows_the_new_sections_with_their_exports(eq, clinic, client, users):
    page_login(client, users.create(Role.AUDITOR))
    page = client.get("/compliance", params=PERIOD)
    assert page.status_code == 200
    html = page.text
    for anchor in ("section-equipment", "section-hld", "section-untrained_operators"):
        assert f'id="{anchor}"' in html
    assert "2026-W46" in html and "foil not pitted" in html and "MEC test strip failed" in html
    assert clinic["untrained"] in html
    assert "/equipment/exports/hld-runs?from=2026-11-01&amp;to=2026-11-30" in html
    csv_file = client.get("/equipment/exports/hld-runs", params=PERIOD)
    assert csv_file.status_code == 200 and csv_file.text.startswith("device,device_name")


def rows(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_each_log_exports_as_csv_for_the_period(eq, clinic):
    auditor = eq.users.headers(Role.AUDITOR)
    get = lambda path: eq.client.get(path, params=PERIOD, headers=auditor)  # noqa: E731
    tests = rows(get("/api/v1/equipment/tests.csv"))
    assert [t["result"] for t in tests] == ["pass", "pass", "fail", "pass"]
    assert tests[0]["performed_at"].startswith("2026-11-02T09:00:00-06:00")
    maintenance = rows(get("/api/v1/maintenance.csv"))
    assert [m["performed_on"] for m in maintenance] == ["2026-11-24"]  # May's is outside
    runs = rows(get("/api/v1/hld-devices/runs.csv"))
    assert [r["result"] for r in runs] == ["pass", "fail", "pass"]
    assert "MEC test strip failed" in runs[1]["reasons"]
    assert "no current competency" in runs[2]["warnings"]
    uses = rows(get("/api/v1/hld-devices/uses.csv"))
    assert [(u["encounter_ref"], u["run_result"]) for u in uses] == [("ENC-1", "pass")]
    assert rows(get("/api/v1/equipment/runs.csv")) == []


def test_formula_like_cells_in_the_logs_are_defused_in_the_csv(eq):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    code = eq.equipment()
    eq.test(code, notes='=HYPERLINK("http://evil")')
    probe = eq.hld_device()
    eq.hld_run(probe, solution_lot="+SUM(A1)", encounter_ref="@enc")
    auditor = eq.users.headers(Role.AUDITOR)
    tests = rows(eq.client.get("/api/v1/equipment/tests.csv", headers=auditor))
    assert tests[0]["notes"] == '\'=HYPERLINK("http://evil")'
    runs = rows(eq.client.get("/api/v1/hld-devices/runs.csv", headers=auditor))
    assert runs[0]["solution_lot"] == "'+SUM(A1)"
    assert runs[0]["encounter_ref"] == "'@ENC"
