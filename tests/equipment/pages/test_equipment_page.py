"""The equipment page over real HTTP: status and test cadence at a glance, the efficacy
test form (a failure takes the equipment out of service and says so), runs, maintenance
due and its form; refusals at their fields with nothing written."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from equipment.models import MaintenanceRecord
from kernel.auth.models import Role
from tests.factories import form_post, page_login


def test_a_failed_test_on_the_page_takes_the_equipment_out_of_service_and_says_so(
    eq, users, client
):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    code = eq.equipment(name="Ultrasonic", test_frequency="weekly")
    page_login(client, users.create(Role.MA))
    page = client.get("/equipment")
    assert page.status_code == 200
    assert "Ultrasonic" in page.text and "test due by 2026-12-06" in page.text
    done = form_post(client, "/equipment", f"test-{code}", kind="foil", result="fail",
                     notes="no pitting")  # fmt: skip
    assert done.status_code == 303
    page = client.get("/equipment")
    assert "OUT OF SERVICE" in page.text and "foil test failed on 2026-12-02" in page.text
    assert f'id="run-{code}"' not in page.text  # no runs while out of service
    form_post(client, "/equipment", f"test-{code}", kind="foil", result="pass")
    page = client.get("/equipment")
    assert "Test recorded" in page.text and f'id="run-{code}"' in page.text
    assert form_post(client, "/equipment", f"run-{code}", result="pass",
                     program="Heavy").status_code == 303  # fmt: skip
    assert eq.get(f"/api/v1/equipment/{code}/runs")["total"] == 1


def test_maintenance_from_the_page_and_its_refusals(eq, users, client, database):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    code = eq.equipment(name="Washer")
    page_login(client, users.create(Role.MA))
    refused = form_post(client, "/equipment", "maintenance-form", device="NOPE", kind="repair",
                        performed_by="Biomed", performed_on="2026-12-01")  # fmt: skip
    assert refused.status_code == 422 and "NOPE" in refused.text
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(MaintenanceRecord)) == 0
    done = form_post(client, "/equipment", "maintenance-form", device=code, kind="preventive",
                     performed_by="Biomed", performed_on="2026-06-01",
                     next_due_on="2026-12-01")  # fmt: skip
    assert done.status_code == 303
    page = client.get("/equipment")
    assert "overdue 1 days: 2026-12-01" in page.text


def test_the_auditor_reads_the_equipment_page_without_forms(eq, users, client):
    code = eq.equipment()
    probe = eq.hld_device()
    page_login(client, users.create(Role.AUDITOR))
    page = client.get("/equipment")
    assert page.status_code == 200 and code in page.text and f'href="/d/{probe}"' in page.text
    assert f'id="test-{code}"' not in page.text and 'id="maintenance-form"' not in page.text


def test_the_dashboard_tile_lists_overdue_maintenance_missed_and_due_tests(eq, users, client):
    clock = eq.pin(dt.datetime(2026, 11, 2, 9, 0))
    code = eq.equipment(name="Ultrasonic", test_frequency="weekly")
    eq.test(code)
    eq.maintenance(code, performed_on="2026-06-01", next_due_on="2026-11-10")
    probe = eq.hld_device(name="TEE probe")
    eq.hld_run(probe, mec_result="fail", solution_opened_on="2026-11-01",
               solution_expires_on="2026-11-20")  # fmt: skip
    clock.advance(dt.timedelta(days=15))  # Tue Nov 17, week 47: week 46 missed
    page_login(client, users.create(Role.MA))
    tile = client.get("/").text.split('id="equipment"', 1)[1].split("</section>", 1)[0]
    assert "Ultrasonic: test missed (2026-W46)" in tile
    assert "Ultrasonic: weekly test due by 2026-11-22" in tile
    assert "maintenance overdue since 2026-11-10" in tile
    assert "TEE probe: last HLD run failed" in tile
