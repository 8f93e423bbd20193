"""The maintenance log (SPEC section 12): any device by code, next-due dates, and a
sterilizer repair that sends the sterilizer back through requalification."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from equipment.models import MaintenanceRecord


def records(database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(MaintenanceRecord))


def test_maintenance_is_recorded_for_equipment_and_sterilizers_alike(eq):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    cleaner = eq.equipment()
    autoclave = eq.sterilizer()
    first = eq.maintenance(cleaner, next_due_on="2027-05-02")
    second = eq.maintenance(autoclave, kind="inspection", notes="door gasket ok")
    assert (first["device_kind"], second["device_kind"]) == ("equipment", "sterilizer")
    log = eq.get("/api/v1/maintenance", device=autoclave)
    assert [r["id"] for r in log["items"]] == [second["id"]]
    assert eq.get(f"/api/v1/maintenance/{first['id']}")["next_due_on"] == "2027-05-02"


def test_maintenance_of_an_unknown_device_is_refused_naming_the_field(eq, database):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    refused = eq.maintenance("NO-SUCH", expect=422)
    assert refused["errors"][0]["field"] == "device"
    assert "NO-SUCH" in refused["detail"]
    assert records(database) == 0


def test_maintenance_in_the_future_or_due_before_it_was_done_is_refused(eq, database):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    cleaner = eq.equipment()
    future = eq.maintenance(cleaner, performed_on="2026-12-03", expect=422)
    assert future["errors"][0]["field"] == "performed_on"
    backwards = eq.maintenance(
        cleaner, performed_on="2026-12-01", next_due_on="2026-11-01", expect=422
    )
    assert backwards["errors"][0]["field"] == "next_due_on"
    assert records(database) == 0


def test_next_maintenance_is_due_as_the_latest_record_that_set_one_says(eq):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    cleaner = eq.equipment()
    washer = eq.equipment("washer_disinfector")
    eq.maintenance(cleaner, performed_on="2026-06-01", next_due_on="2026-12-01")
    # A repair that sets no date leaves the preventive schedule as it was.
    eq.maintenance(cleaner, kind="repair", performed_on="2026-11-20")
    eq.maintenance(washer, performed_on="2026-10-01", next_due_on="2026-12-20")
    due = eq.get("/api/v1/maintenance/due")["items"]
    assert [(d["device"], d["overdue"], d["days_overdue"]) for d in due] == [
        (cleaner, True, 1),
        (washer, False, 0),
    ]
    assert [d["device"] for d in eq.get("/api/v1/maintenance/due", within_days=7)["items"]] == [
        cleaner
    ]
    eq.maintenance(cleaner, performed_on="2026-12-02", next_due_on="2027-06-02")
    due = eq.get("/api/v1/maintenance/due")["items"]
    assert [(d["device"], d["overdue"]) for d in due] == [(washer, False), (cleaner, False)]


def test_a_sterilizer_repair_takes_it_out_of_service_for_requalification(eq):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    autoclave = eq.sterilizer()
    eq.maintenance(autoclave, kind="inspection")
    assert eq.get(f"/api/v1/sterilizers/{autoclave}")["status"] == "in_service"
    eq.maintenance(autoclave, kind="repair", performed_by="Tuttnauer service", notes="new valve")
    got = eq.get(f"/api/v1/sterilizers/{autoclave}")
    assert got["status"] == "out_of_service"
    assert "Repaired on 2026-11-02 by Tuttnauer service" in got["status_reason"]
    assert "requalif" in got["status_reason"]
    assert got["requalification"]["bi_tests_needed"] == 3
    assert got["requalification"]["bi_tests_passed"] == 0


def test_an_equipment_repair_changes_nothing_but_the_log(eq):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    cleaner = eq.equipment()
    eq.maintenance(cleaner, kind="repair")
    assert eq.get(f"/api/v1/equipment/{cleaner}")["status"] == "in_service"
