"""One cycle at a time, real times, plausible readings and the Class 5 integrator
(SPEC section 7): each rule as an infection-control lead would try it over the API."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kernel.clock import FixedClock
from tests.sterilization_factories import let_time_pass

CHICAGO = ZoneInfo("America/Chicago")  # the `settings` fixture's zone
NOW = dt.datetime(2026, 12, 3, 15, 0, tzinfo=CHICAGO)


@pytest.fixture
def clock(client) -> FixedClock:
    client.app.state.clock = FixedClock(CHICAGO, NOW)
    return client.app.state.clock


def iso(at: dt.datetime) -> str:
    return at.isoformat()


def start(steri, client, sterilizer: str, **body):
    return client.post(
        "/api/v1/cycles",
        json={"sterilizer": sterilizer, "cycle_type": "gravity_121_30", "packs": [], **body},
        headers=steri.ma,
    )


def complete(steri, client, cycle_id: int, **body):
    readings = {"mechanical_ok": True, "chemical_ok": True, "exposure_minutes": 30.0}
    if "temperature_f" not in body:
        readings["temperature_c"] = 121.5
    return client.post(
        f"/api/v1/cycles/{cycle_id}/complete", json={**readings, **body}, headers=steri.ma
    )


def field_of(response) -> str:
    return response.json()["errors"][0]["field"]


# One cycle at a time ------------------------------------------------------------------


def test_a_second_cycle_on_a_busy_sterilizer_is_refused_naming_the_running_cycle(
    steri, client, clock
):
    ster = steri.sterilizer()
    first = steri.start(ster["code"])
    [code] = steri.packs()
    refused = start(steri, client, ster["code"], packs=[code])
    assert refused.status_code == 409
    assert f"Cycle {first['number']} (gravity_121_30) is still running" in refused.json()["detail"]
    assert refused.json()["running_cycle"] == {"id": first["id"], "number": first["number"]}
    assert steri.pack(code)["status"] == "assembled"  # nothing written
    # Another sterilizer is free; and once the first cycle completes, so is this one.
    assert start(steri, client, steri.sterilizer()["code"]).status_code == 201
    steri.complete(first)
    assert start(steri, client, ster["code"], packs=[code]).status_code == 201


def test_the_running_cycle_check_comes_before_the_time_checks(steri, client, clock):
    ster = steri.sterilizer()
    steri.start(ster["code"])
    future = start(steri, client, ster["code"], started_at=iso(NOW + dt.timedelta(hours=2)))
    assert future.status_code == 409 and "still running" in future.json()["detail"]


# Real times ---------------------------------------------------------------------------


def test_a_cycle_can_be_logged_after_the_fact_with_started_and_ended_at(steri, client, clock):
    ster = steri.sterilizer()
    began = NOW - dt.timedelta(days=2, hours=3)
    started = steri.ok(start(steri, client, ster["code"], started_at=iso(began)), 201)
    assert started["started_at"] == "2026-12-01T18:00:00Z"
    ended = began + dt.timedelta(minutes=50)
    done = steri.ok(complete(steri, client, started["id"], ended_at=iso(ended)))
    assert done["status"] == "passed"
    assert done["started_at"] == "2026-12-01T18:00:00Z"
    assert done["ended_at"] == "2026-12-01T18:50:00Z"


def test_start_and_end_times_default_to_now(steri, client, clock):
    ster = steri.sterilizer()
    started = steri.ok(start(steri, client, ster["code"]), 201)
    assert started["started_at"] == "2026-12-03T21:00:00Z"
    clock.advance(dt.timedelta(minutes=42))
    assert steri.ok(complete(steri, client, started["id"]))["ended_at"] == "2026-12-03T21:42:00Z"


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (NOW + dt.timedelta(minutes=5), "in the future"),
        (NOW - dt.timedelta(days=7, minutes=1), "more than 7 days back"),
    ],
)
def test_a_start_time_in_the_future_or_more_than_7_days_back_is_refused(
    steri, client, clock, when, words
):
    ster = steri.sterilizer()
    refused = start(steri, client, ster["code"], started_at=iso(when))
    assert refused.status_code == 422 and field_of(refused) == "started_at"
    assert words in refused.json()["detail"]
    assert steri.ok(client.get("/api/v1/cycles", headers=steri.ma))["total"] == 0


def test_a_time_without_an_offset_is_refused(steri, client, clock):
    refused = start(steri, client, steri.sterilizer()["code"], started_at="2026-12-03T08:00:00")
    assert refused.status_code == 422 and field_of(refused) == "started_at"


def test_a_cycle_cannot_start_before_the_previous_cycle_on_its_sterilizer_ended(
    steri, client, clock
):
    ster = steri.sterilizer()
    began = NOW - dt.timedelta(hours=3)
    first = steri.ok(start(steri, client, ster["code"], started_at=iso(began)), 201)
    steri.ok(complete(steri, client, first["id"], ended_at=iso(began + dt.timedelta(hours=1))))
    overlap = start(steri, client, ster["code"], started_at=iso(began + dt.timedelta(minutes=30)))
    assert overlap.status_code == 422 and field_of(overlap) == "started_at"
    assert "previous cycle ended at 2026-12-03 13:00" in overlap.json()["detail"]
    right_after = start(steri, client, ster["code"], started_at=iso(began + dt.timedelta(hours=1)))
    assert right_after.status_code == 201


def test_exposure_longer_than_the_cycle_ran_is_refused(steri, client, clock):
    ster = steri.sterilizer()
    cycle = steri.ok(start(steri, client, ster["code"]), 201)
    clock.advance(dt.timedelta(seconds=0.036))  # "30 minutes exposure" 36 ms after the start
    refused = complete(steri, client, cycle["id"])
    assert refused.status_code == 422 and field_of(refused) == "exposure_minutes"
    assert "longer than the cycle ran" in refused.json()["detail"]
    clock.advance(dt.timedelta(minutes=20))
    short = complete(steri, client, cycle["id"], ended_at=iso(NOW + dt.timedelta(minutes=20)))
    assert short.status_code == 422 and field_of(short) == "exposure_minutes"
    assert steri.ok(client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma))["status"] == (
        "running"
    )


def test_an_end_time_before_the_start_or_in_the_future_is_refused(steri, client, clock):
    ster = steri.sterilizer()
    cycle = steri.ok(start(steri, client, ster["code"]), 201)
    clock.advance(dt.timedelta(hours=1))
    early = complete(steri, client, cycle["id"], ended_at=iso(NOW - dt.timedelta(minutes=1)))
    assert early.status_code == 422 and field_of(early) == "ended_at"
    late = complete(steri, client, cycle["id"], ended_at=iso(NOW + dt.timedelta(hours=2)))
    assert late.status_code == 422 and field_of(late) == "ended_at"


# Plausible readings -------------------------------------------------------------------


@pytest.mark.parametrize("celsius", [99.0, 151.0])
def test_a_steam_temperature_outside_100_to_150_celsius_is_refused(steri, client, celsius):
    cycle = steri.start(steri.sterilizer()["code"])
    let_time_pass(client, 45)
    refused = complete(steri, client, cycle["id"], temperature_c=celsius)
    assert refused.status_code == 422 and field_of(refused) == "temperature_c"
    assert "outside the 100-150 °C" in refused.json()["detail"]


def test_a_fahrenheit_reading_typed_as_celsius_is_refused_saying_it_looks_like_fahrenheit(
    steri, client
):
    cycle = steri.start(steri.sterilizer()["code"])
    let_time_pass(client, 45)
    refused = complete(steri, client, cycle["id"], temperature_c=270)
    assert refused.status_code == 422 and field_of(refused) == "temperature_c"
    assert "looks like °F" in refused.json()["detail"]
    assert "270 °F is 132.2 °C" in refused.json()["detail"]


def test_dry_heat_takes_120_to_220_celsius(steri, client):
    body = {"code": "dry_160_60", "name": "Dry heat 160 °C", "min_temperature_c": 160,
            "min_exposure_minutes": 60, "sterilizer_kinds": ["dry_heat"]}  # fmt: skip
    steri.ok(client.post("/api/v1/cycle-types", json=body, headers=steri.admin), 201)
    oven = steri.sterilizer("dry_heat")
    cycle = steri.start(oven["code"], cycle_type="dry_160_60")
    let_time_pass(client, 70)
    hot = complete(steri, client, cycle["id"], temperature_c=230, exposure_minutes=60)
    assert hot.status_code == 422 and "120-220 °C" in hot.json()["detail"]
    ok = steri.ok(complete(steri, client, cycle["id"], temperature_c=170, exposure_minutes=60))
    assert ok["status"] == "passed" and ok["parameters"]["temperature_c"] == 170


def test_temperature_f_and_pressure_psi_are_stored_in_celsius_and_kpa_keeping_what_was_entered(
    steri, client
):
    cycle = steri.start(steri.sterilizer()["code"])
    let_time_pass(client, 45)
    done = steri.ok(complete(steri, client, cycle["id"], temperature_f=250.7, pressure_psi=15.0))
    params = done["parameters"]
    assert params["temperature_c"] == pytest.approx(121.5, abs=0.01)
    assert params["pressure_kpa"] == pytest.approx(103.4, abs=0.1)
    assert params["entered"] == {"temperature_f": 250.7, "pressure_psi": 15.0}
    assert done["status"] == "passed"


def test_a_fahrenheit_reading_below_the_minimum_fails_the_cycle(steri, client):
    cycle = steri.start(steri.sterilizer()["code"])
    let_time_pass(client, 45)
    done = steri.ok(complete(steri, client, cycle["id"], temperature_f=248.0))  # 120 °C
    assert done["status"] == "failed"
    assert "below the 121 °C minimum" in done["parameters"]["failure_reasons"][0]


def test_an_implausible_fahrenheit_reading_is_refused_naming_temperature_f(steri, client):
    cycle = steri.start(steri.sterilizer()["code"])
    let_time_pass(client, 45)
    refused = complete(steri, client, cycle["id"], temperature_f=120.0)
    assert refused.status_code == 422 and field_of(refused) == "temperature_f"


def test_giving_a_reading_in_both_units_is_refused(steri, client):
    cycle = steri.start(steri.sterilizer()["code"])
    let_time_pass(client, 45)
    both = complete(steri, client, cycle["id"], temperature_c=121.5, temperature_f=250.7)
    assert both.status_code == 422 and field_of(both) == "temperature_f"
    psi = complete(steri, client, cycle["id"], pressure_kpa=100.0, pressure_psi=15.0)
    assert psi.status_code == 422 and field_of(psi) == "pressure_psi"


# Class 5 integrator / PCD ---------------------------------------------------------------


def test_a_failed_integrator_fails_the_cycle_like_a_failed_chemical_indicator(steri, client):
    [code] = steri.packs()
    cycle = steri.start(steri.sterilizer()["code"], [code])
    done = steri.complete(cycle, integrator="fail")
    assert done["status"] == "failed"
    assert done["parameters"]["integrator"] == "fail"
    assert "Class 5 integrator / PCD did not pass" in done["parameters"]["failure_reasons"]
    assert steri.pack(code)["status"] == "failed"


def test_a_passed_integrator_or_none_is_recorded_with_the_cycle(steri, client):
    ster = steri.sterilizer()
    with_pcd = steri.complete(steri.start(ster["code"]), integrator="pass")
    assert with_pcd["status"] == "passed" and with_pcd["parameters"]["integrator"] == "pass"
    without = steri.complete(steri.start(ster["code"]))
    assert without["parameters"]["integrator"] is None
    bad = steri.start(ster["code"])
    let_time_pass(client, 45)
    refused = complete(steri, client, bad["id"], integrator="maybe")
    assert refused.status_code in (400, 422) and "integrator" in refused.text
