"""The HLD device page a scanned QR opens (`/d/{code}`), over real HTTP: OK TO USE only
after a passed run and no use since; the run form records failed runs with the reasons;
impossible input comes back at its field with nothing written."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from equipment.models import HldRun, HldUse
from kernel.auth.models import Role
from tests.equipment_factories import HLD_RUN
from tests.factories import form_post, page_login


def count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def run_fields(**change):
    return {k: str(v) for k, v in {**HLD_RUN, **change}.items()}


def test_device_page_says_do_not_use_until_a_passed_run_then_ok_to_use(eq, users, client):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    probe = eq.hld_device()
    page_login(client, users.create(Role.MA))
    page = client.get(f"/d/{probe.lower()}")
    assert page.status_code == 200
    assert "DO NOT USE" in page.text and "no high-level disinfection recorded yet" in page.text
    assert 'id="use-form"' not in page.text

    done = form_post(client, f"/d/{probe}", "run-form", **run_fields())
    assert done.status_code == 303 and done.headers["location"] == f"/d/{probe}"
    page = client.get(f"/d/{probe}")
    assert "OK TO USE" in page.text and "HLD run passed" in page.text
    # the next run's form starts from this solution and its minimums
    assert 'value="OPA-2231"' in page.text

    used = form_post(client, f"/d/{probe}", "use-form", encounter_ref=" enc-5 ")
    assert used.status_code == 303
    page = client.get(f"/d/{probe}")
    assert "DO NOT USE" in page.text and "used on ENC-5" in page.text
    assert count(eq.client.app.state.db, HldUse) == 1


def test_a_failed_run_from_the_form_is_recorded_and_flashed_with_its_reasons(
    eq, users, client, database
):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    probe = eq.hld_device()
    page_login(client, users.create(Role.MA))
    done = form_post(client, f"/d/{probe}", "run-form", **run_fields(mec_result="fail"))
    assert done.status_code == 303
    page = client.get(f"/d/{probe}")
    assert "HLD run FAILED" in page.text and "MEC test strip failed" in page.text
    assert "DO NOT USE" in page.text
    assert count(database, HldRun) == 1


def test_impossible_run_input_comes_back_at_its_field_and_nothing_is_written(
    eq, users, client, database
):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    probe = eq.hld_device()
    page_login(client, users.create(Role.MA))
    refused = form_post(client, f"/d/{probe}", "run-form", **run_fields(soak_minutes="-1"))
    assert refused.status_code == 422
    assert "Must be at least 0" in refused.text
    refused = form_post(
        client,
        f"/d/{probe}",
        "run-form",
        **run_fields(solution_opened_on="2026-12-01", solution_expires_on="2026-11-30"),
    )
    assert refused.status_code == 422
    assert "cannot expire" in refused.text
    assert count(database, HldRun) == 0


def test_the_auditor_reads_the_device_page_without_forms(eq, users, client):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    probe = eq.hld_device()
    eq.hld_run(probe)
    page_login(client, users.create(Role.AUDITOR))
    page = client.get(f"/d/{probe}")
    assert page.status_code == 200 and "OK TO USE" in page.text
    assert 'id="run-form"' not in page.text and 'id="use-form"' not in page.text


def test_scanning_a_device_qr_on_the_scan_page_opens_its_page(eq, users, client):
    probe = eq.hld_device()
    page_login(client, users.create(Role.MA))
    response = client.get("/scan", params={"code": f"https://x/d/{probe}"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/d/{probe}"
    response = client.get("/scan", params={"code": probe.lower()}, follow_redirects=False)
    assert response.headers["location"] == f"/d/{probe}"
