"""Equipment, its runs and efficacy tests (SPEC section 12): a failed test takes it out of
service until a passing one; a test cadence per device with the missed periods found."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from equipment.models import EquipmentRun, EquipmentTest
from kernel.audit.models import AuditEntry


def count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_equipment_is_registered_with_its_kind_and_test_cadence(eq):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    code = eq.equipment(
        "ultrasonic",
        manufacturer="L&R",
        model="Quantrex 140",
        serial_number="QX-1",
        test_frequency="weekly",
    )
    got = eq.get(f"/api/v1/equipment/{code}")
    assert got["kind"] == "ultrasonic"
    assert got["status"] == "in_service"
    assert got["test_frequency"] == "weekly"
    assert got["test_due"] is True
    assert got["test_due_by"] == "2026-12-06"  # the Sunday closing ISO week 49
    listed = eq.get("/api/v1/equipment", kind="ultrasonic")
    assert [e["code"] for e in listed["items"]] == [code]


def test_equipment_codes_and_serial_numbers_are_unique(eq):
    code = eq.equipment(serial_number="SN-9")
    again = eq.client.post(
        "/api/v1/equipment", json={"code": code, "kind": "other", "name": "x"}, headers=eq.admin
    )
    assert again.status_code == 409
    same_serial = eq.client.post(
        "/api/v1/equipment",
        json={"code": "OTHER-1", "kind": "other", "name": "x", "serial_number": "SN-9"},
        headers=eq.admin,
    )
    assert same_serial.status_code == 409
    assert same_serial.json()["errors"][0]["field"] == "serial_number"


def test_a_failed_efficacy_test_takes_equipment_out_of_service_until_a_passing_one(eq, database):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    code = eq.equipment(test_frequency="weekly")
    failed = eq.test(code, "fail", notes="foil barely pitted")
    assert failed["equipment_status"] == "out_of_service"
    assert "foil test failed on 2026-12-02" in failed["equipment_status_reason"]
    assert "barely pitted" in failed["equipment_status_reason"]
    assert eq.get(f"/api/v1/equipment/{code}")["status"] == "out_of_service"

    refused = eq.client.post(
        f"/api/v1/equipment/{code}/runs", json={"result": "pass"}, headers=eq.ma
    )
    assert refused.status_code == 409
    assert "out of service" in refused.json()["detail"]
    assert "foil test failed" in refused.json()["detail"]
    assert count(database, EquipmentRun) == 0

    passed = eq.test(code, "pass")
    assert passed["equipment_status"] == "in_service"
    eq.run(code, program="Heavy 10 min")
    assert count(database, EquipmentRun) == 1
    tests = eq.get(f"/api/v1/equipment/{code}/tests")
    assert [t["result"] for t in tests["items"]] == ["pass", "fail"]


def test_a_failed_test_and_the_status_changes_are_in_the_audit_trail(eq, database):
    code = eq.equipment()
    eq.test(code, "fail")
    with database.session() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity_id == code)
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == ["equipment.create", "equipment.test", "equipment.out_of_service"]


def test_runs_and_tests_may_be_logged_after_the_fact_never_in_the_future_nor_over_a_week_back(
    eq, database
):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    code = eq.equipment()
    run = eq.run(code, started_at="2026-11-30T08:00:00-06:00")
    assert run["started_at"].startswith("2026-11-30T14:00:00")
    future = eq.run(code, started_at="2026-12-02T12:00:00-06:00", expect=422)
    assert future["errors"][0]["field"] == "started_at"
    old = eq.test(code, performed_at="2026-11-20T08:00:00-06:00", expect=422)
    assert old["errors"][0]["field"] == "performed_at"
    assert count(database, EquipmentRun) == 1
    assert count(database, EquipmentTest) == 0


def test_a_week_without_a_foil_test_is_a_missed_test_and_the_week_in_progress_only_due(eq):
    clock = eq.pin(dt.datetime(2026, 11, 2, 9, 0))  # Monday, ISO week 45
    code = eq.equipment(test_frequency="weekly")
    eq.test(code)  # week 45
    clock.advance(dt.timedelta(days=14))
    eq.test(code)  # week 47 (week 46 missed)
    clock.advance(dt.timedelta(days=14, hours=3))  # Monday of week 49
    gaps = eq.get(f"/api/v1/equipment/{code}/missed-tests", **{"from": "2026-11-01"})
    assert [g["period"] for g in gaps["missed"]] == ["2026-W46", "2026-W48"]
    assert gaps["missed"][0]["first_day"] == "2026-11-09"
    got = eq.get(f"/api/v1/equipment/{code}")
    assert got["test_due"] is True  # week 49 in progress: due, not missed
    eq.test(code)
    got = eq.get(f"/api/v1/equipment/{code}")
    assert got["test_due"] is False
    assert got["test_due_by"] == "2026-12-13"


def test_daily_and_monthly_cadences_count_clinic_days_and_calendar_months(eq):
    clock = eq.pin(dt.datetime(2026, 10, 30, 20, 30))  # 20:30 in Chicago is the next UTC day
    daily = eq.equipment("washer_disinfector", test_frequency="daily")
    monthly = eq.equipment("incubator", test_frequency="monthly")
    eq.test(daily)
    eq.test(monthly)
    clock.advance(dt.timedelta(days=3))  # Nov 2: Oct 31 and Nov 1 had no test
    got = eq.get(f"/api/v1/equipment/{daily}/missed-tests", **{"from": "2026-10-01"})
    assert [g["period"] for g in got["missed"]] == ["2026-10-31", "2026-11-01"]
    clock.advance(dt.timedelta(days=30))  # Dec 2: November had no test
    got = eq.get(f"/api/v1/equipment/{monthly}/missed-tests", **{"from": "2026-10-01"})
    assert [g["period"] for g in got["missed"]] == ["2026-11"]


def test_equipment_without_a_cadence_never_misses_a_test(eq):
    clock = eq.pin(dt.datetime(2026, 11, 2, 9, 0))
    code = eq.equipment("other")
    clock.advance(dt.timedelta(days=40))
    assert eq.get(f"/api/v1/equipment/{code}/missed-tests")["missed"] == []
    assert eq.get(f"/api/v1/equipment/{code}")["test_due"] is False


def test_an_administrator_puts_equipment_out_of_service_with_a_reason(eq):
    code = eq.equipment()
    changed = eq.client.patch(
        f"/api/v1/equipment/{code}",
        json={"status": "out_of_service", "reason": "transducer replaced"},
        headers=eq.admin,
    )
    assert changed.status_code == 200
    assert changed.json()["status_reason"] == "transducer replaced"
    by_ma = eq.client.patch(
        f"/api/v1/equipment/{code}", json={"status": "in_service", "reason": "fine"}, headers=eq.ma
    )
    assert by_ma.status_code == 403


def test_unknown_equipment_is_a_404_naming_the_code(eq):
    response = eq.client.post(
        "/api/v1/equipment/NOPE/tests", json={"kind": "foil", "result": "pass"}, headers=eq.ma
    )
    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]
