"""High-level disinfection (SPEC section 12): a run fails on an expired solution, a
failed MEC strip, or a soak or temperature below minimum (201, the reasons in words);
a device is OK TO USE only after a passed run and no use since; use is recorded on an
encounter, and an encounter traces back to the device and its run."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from equipment.models import HldRun, HldUse


def count(database, model) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def probe(eq):
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    return eq.hld_device()


def test_a_device_is_not_ok_to_use_before_its_first_hld_run(eq, probe):
    got = eq.get(f"/api/v1/hld-devices/{probe}")
    assert got["ok_to_use"] is False
    assert got["reasons"] == ["no high-level disinfection recorded yet"]


def test_a_passed_run_makes_the_device_ok_to_use_until_its_next_use(eq, probe, database):
    run = eq.hld_run(probe)
    assert (run["result"], run["reasons"]) == ("pass", [])
    assert eq.get(f"/api/v1/hld-devices/{probe}")["ok_to_use"] is True

    use = eq.use(probe, "ENC-100")
    assert use["run_id"] == run["id"]
    got = eq.get(f"/api/v1/hld-devices/{probe}")
    assert got["ok_to_use"] is False
    assert "used on ENC-100" in got["reasons"][0]
    refused = eq.use(probe, "ENC-101", expect=409)
    assert "used on ENC-100" in refused["detail"]
    assert refused["reasons"] == got["reasons"]
    assert count(database, HldUse) == 1

    eq.hld_run(probe)
    assert eq.get(f"/api/v1/hld-devices/{probe}")["ok_to_use"] is True


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"solution_expires_on": "2026-12-01"}, "solution (lot OPA-2231) expired on 2026-12-01"),
        ({"mec_result": "fail"}, "MEC test strip failed"),
        ({"soak_minutes": 8}, "soaked 8 min, less than the minimum 12 min"),
        ({"temperature_c": 18.5}, "solution at 18.5 °C, below the minimum 20 °C"),
    ],
)
def test_an_hld_run_fails_on_expired_solution_failed_mec_short_soak_or_low_temperature(
    eq, probe, change, reason
):
    run = eq.hld_run(probe, **change)
    assert run["result"] == "fail"
    assert len(run["reasons"]) == 1
    assert reason in run["reasons"][0]
    got = eq.get(f"/api/v1/hld-devices/{probe}")
    assert got["ok_to_use"] is False
    assert "failed" in got["reasons"][0] and reason in got["reasons"][0]


def test_a_failed_run_lists_every_reason(eq, probe):
    run = eq.hld_run(probe, mec_result="fail", soak_minutes=5, temperature_c=15)
    assert len(run["reasons"]) == 3


def test_a_solution_used_on_its_expiry_day_is_not_expired(eq, probe):
    assert eq.hld_run(probe, solution_expires_on="2026-12-02")["result"] == "pass"


def test_use_of_a_device_whose_last_run_failed_is_refused_with_the_reason(eq, probe, database):
    eq.hld_run(probe)
    eq.hld_run(probe, mec_result="fail")
    refused = eq.use(probe, expect=409)
    assert "MEC test strip failed" in refused["detail"]
    assert count(database, HldUse) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"soak_minutes": -1}, "soak_minutes"),
        ({"solution_opened_on": "2026-12-01", "solution_expires_on": "2026-11-30"},
         "solution_expires_on"),
        ({"solution_opened_on": "2026-12-03"}, "solution_opened_on"),
        ({"min_soak_minutes": 0}, "min_soak_minutes"),
        ({"temperature_c": 250}, "temperature_c"),
        ({"mec_result": "maybe"}, "mec_result"),
        ({"performed_at": "2026-12-03T09:00:00-06:00"}, "performed_at"),
    ],
)  # fmt: skip
def test_impossible_hld_run_input_is_refused_naming_the_field_and_nothing_is_written(
    eq, probe, database, change, field
):
    refused = eq.hld_run(probe, expect=422, **change)
    assert field in refused["detail"] or refused["errors"][0]["field"].endswith(field)
    assert count(database, HldRun) == 0


def test_unknown_devices_are_404_and_nothing_is_written(eq, database):
    assert eq.hld_run("NO-PROBE", expect=404)["status"] == 404
    assert "NO-PROBE" in eq.use("NO-PROBE", expect=404)["detail"]
    assert count(database, HldRun) == 0


def test_encounter_references_are_normalised_on_use_and_in_the_trace(eq, probe):
    run = eq.hld_run(probe, encounter_ref=" enc-76\u200b")
    assert run["encounter_ref"] == "ENC-76"
    eq.use(probe, " enc-77\u200b")
    traced = eq.get("/api/v1/encounters/Enc-77/devices")
    assert len(traced) == 1
    assert traced[0]["device"] == probe
    assert traced[0]["run"]["id"] == run["id"]
    assert traced[0]["run"]["solution_lot"] == "OPA-2231"
    assert eq.get("/api/v1/encounters/ENC-999/devices") == []


def test_runs_and_uses_are_listed_newest_first_with_the_operator(eq, probe, users):
    first = eq.hld_run(probe)
    eq.use(probe, "ENC-1")
    second = eq.hld_run(probe, soak_minutes=13)
    runs = eq.get(f"/api/v1/hld-devices/{probe}/runs")["items"]
    assert [r["id"] for r in runs] == [second["id"], first["id"]]
    assert runs[0]["operator"].startswith("ma")
    assert eq.get(f"/api/v1/hld-devices/{probe}/runs/{first['id']}")["soak_minutes"] == 12
    assert [u["encounter_ref"] for u in eq.get(f"/api/v1/hld-devices/{probe}/uses")["items"]] == [
        "ENC-1"
    ]


def test_the_device_qr_resolves_through_scan_as_a_device(eq, probe):
    eq.hld_run(probe)
    for text in (f"https://old-host/d/{probe}", f"/d/{probe}", probe, probe.lower()):
        got = eq.get("/api/v1/scan", code=text)
        assert (got["type"], got["code"], got["ok_to_use"]) == ("device", probe, True), text
    missing = eq.client.get("/api/v1/scan", params={"code": "/d/NOPE-1"}, headers=eq.ma)
    assert missing.status_code == 404


def test_hld_devices_may_be_named_in_the_maintenance_log(eq, probe):
    record = eq.maintenance(probe, kind="inspection", performed_on="2026-12-01")
    assert record["device_kind"] == "hld_device"
