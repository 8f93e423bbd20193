"""What a machine's record means for a cycle (plain functions, on the real sample files):
the cycle type, the parameters of a cycle created from it, and the discrepancies with what a
person typed. The expected values are read off the sample files by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from sterilization.cycle_types import BUILTIN_CYCLE_TYPES
from sterilization.record_readings import (
    Recorded,
    Typed,
    accepted_cycle_types,
    cycle_parameters,
    cycle_type_for,
    discrepancies,
    recorded_from,
)
from sterilization.records import parse_record
from tests.sterilization.records.samples import dac, tuttnauer

START = dt.datetime(2017, 11, 21, 15, 23, 33, tzinfo=dt.UTC)  # 16:23:33 in Berlin (CET)
MINIMUMS = {
    code: (rule.min_temperature_c, rule.min_exposure_minutes)
    for code, rule in BUILTIN_CYCLE_TYPES.items()
    if rule.min_temperature_c is not None and rule.min_exposure_minutes is not None
}


def recorded(data: bytes, name: str) -> Recorded:
    return recorded_from(parse_record(data, name), started_at=START)


def cycle_259() -> Recorded:
    return recorded(tuttnauer("cycle_000259.txt"), "cycle_000259.txt")


def typed(**values: object) -> Typed:
    base: dict[str, object] = {"cycle_type": "prevac_134_3", "started_at": START}
    return Typed(**{**base, **values})  # type: ignore[arg-type]


def test_a_load_record_becomes_parameters_in_celsius_and_kpa_gauge_over_the_hold():
    # cycle 259: S rows 275.4..275.9 °F = 135.2..135.5 °C; 30.88..31.50 psig x 6.895.
    params = cycle_parameters(cycle_259())
    assert params == {
        "temperature_c": 135.2,
        "pressure_kpa": 212.9,
        "exposure_minutes": 5.0,
        "dry_minutes": None,
        "mechanical_ok": True,
        "chemical_ok": None,
    }


def test_the_hold_maximum_is_kept_beside_the_minimum():
    record = cycle_259()
    assert (record.temperature_min_c, record.temperature_max_c) == (135.2, 135.5)
    assert (record.pressure_min_kpa, record.pressure_max_kpa) == (212.9, 217.2)


def test_dac_bar_absolute_becomes_kpa_gauge_and_dauer_is_the_exposure():
    # Zyklus 13: Minimum 135.3 °C 3.17 bar, Maximum 135.4 °C 3.21 bar, Dauer 03-11.
    record = recorded(dac("zyklus-13-ok.txt"), "zyklus-13-ok.txt")
    params = cycle_parameters(record)
    assert params["temperature_c"] == 135.3
    assert params["pressure_kpa"] == pytest.approx((3.17 - 1.013) * 100, abs=0.05)
    assert params["exposure_minutes"] == pytest.approx(3 + 11 / 60, abs=0.005)
    assert record.temperature_max_c == 135.4


def test_the_machine_verdict_is_mechanical_ok():
    assert cycle_parameters(cycle_259())["mechanical_ok"] is True
    failed = recorded(dac("zyklus-14-fehler-97.txt"), "zyklus-14-fehler-97.txt")
    assert cycle_parameters(failed)["mechanical_ok"] is False
    assert failed.failure_reasons == ("Error code 97", "Abbruch Sterilisation")
    aborted = recorded(tuttnauer("cycle_000428.txt"), "cycle_000428.txt")
    assert cycle_parameters(aborted)["mechanical_ok"] is False
    assert aborted.failure_reasons == ("Cancelled by user",)


def test_a_record_never_claims_a_chemical_indicator_reading():
    assert cycle_parameters(cycle_259())["chemical_ok"] is None


def test_program_becomes_cycle_type_bowie_dick_leak_test_or_the_load_type():
    bowie = recorded(tuttnauer("cycle_000260.txt"), "cycle_000260.txt")
    leak = recorded(tuttnauer("cycle_000429.txt"), "cycle_000429.txt")
    drying = recorded(tuttnauer("cycle_000414.txt"), "cycle_000414.txt")
    dac_load = recorded(dac("zyklus-13-ok.txt"), "zyklus-13-ok.txt")
    assert cycle_type_for(bowie, MINIMUMS) == "bowie_dick"
    assert cycle_type_for(leak, MINIMUMS) == "leak_test"
    assert cycle_type_for(cycle_259(), MINIMUMS) == "prevac_134_3"
    assert cycle_type_for(dac_load, MINIMUMS) == "prevac_134_3"
    assert cycle_type_for(drying, MINIMUMS) is None


def test_a_hold_below_the_preferred_types_minimum_picks_a_compatible_type_it_meets():
    record = cycle_259()
    cooler = Recorded(**{**record.__dict__, "temperature_min_c": 133.0})
    assert cycle_type_for(cooler, MINIMUMS) == "prevac_132_4"
    too_cold = Recorded(**{**record.__dict__, "temperature_min_c": 131.0})
    assert cycle_type_for(too_cold, MINIMUMS) == "prevac_134_3"  # then fails its minimum


def test_273_2_f_accepts_a_cycle_typed_as_132_4_or_134_3():
    assert set(accepted_cycle_types(cycle_259())) == {"prevac_132_4", "prevac_134_3"}
    assert discrepancies(typed(cycle_type="prevac_132_4"), cycle_259()) == []
    assert discrepancies(typed(cycle_type="prevac_134_3"), cycle_259()) == []
    assert discrepancies(typed(cycle_type="gravity_121_30"), cycle_259()) == [
        {"field": "cycle_type", "typed": "gravity_121_30", "recorded": "prevac_134_3"}
    ]


def test_values_typed_within_the_hold_range_are_no_discrepancy():
    same = typed(temperature_c=135.0, pressure_kpa=215.0, exposure_minutes=5.0, mechanical_ok=True)
    assert discrepancies(same, cycle_259()) == []
    # A whole-degree reading of the display: 135.2 .. 135.5 °C read as 136 is within 0.5.
    assert discrepancies(typed(temperature_c=136.0), cycle_259()) == []


def test_typed_values_that_differ_from_the_record_are_discrepancies():
    wrong = typed(
        temperature_c=275.4,  # typed in °F
        pressure_kpa=31.0,  # typed in psig
        exposure_minutes=4.0,
        mechanical_ok=False,
    )
    assert discrepancies(wrong, cycle_259()) == [
        {"field": "temperature_c", "typed": 275.4, "recorded": 135.2},
        {"field": "pressure_kpa", "typed": 31.0, "recorded": 212.9},
        {"field": "exposure_minutes", "typed": 4.0, "recorded": 5.0},
        {"field": "mechanical_ok", "typed": False, "recorded": True},
    ]


def test_a_typed_start_more_than_15_minutes_from_the_record_is_a_discrepancy():
    late = typed(started_at=START + dt.timedelta(minutes=16))
    assert discrepancies(late, cycle_259()) == [
        {
            "field": "started_at",
            "typed": "2017-11-21T15:39:33+00:00",
            "recorded": "2017-11-21T15:23:33+00:00",
        }
    ]
    assert discrepancies(typed(started_at=START + dt.timedelta(minutes=15)), cycle_259()) == []


def test_nothing_typed_nothing_to_compare():
    assert discrepancies(typed(), cycle_259()) == []


def test_a_failed_record_compares_its_verdict_not_its_missing_hold():
    failed = recorded(tuttnauer("cycle_000341.txt"), "cycle_000341.txt")
    assert failed.temperature_min_c is None
    assert discrepancies(typed(temperature_c=134.0, mechanical_ok=True), failed) == [
        {"field": "mechanical_ok", "typed": True, "recorded": False}
    ]
