"""Which SteriStock load cycle type a program's set points stand for."""

from __future__ import annotations

import pytest

from sterilization.cycle_types import BUILTIN_CYCLE_TYPES
from sterilization.records.cycle_types import (
    LOAD_CYCLE_TYPES,
    compatible_load_cycle_types,
    load_cycle_type_for,
)


def test_load_cycle_types_agree_with_the_builtin_cycle_types() -> None:
    for code, (air_removal, temperature, minutes) in LOAD_CYCLE_TYPES.items():
        rule = BUILTIN_CYCLE_TYPES[code]
        assert rule.purpose == "load"
        assert (rule.min_temperature_c, rule.min_exposure_minutes) == (temperature, minutes)
        assert code.startswith(air_removal)
    loads = {code for code, rule in BUILTIN_CYCLE_TYPES.items() if rule.purpose == "load"}
    assert loads - set(LOAD_CYCLE_TYPES) == {"flash_132_3"}


@pytest.mark.parametrize(
    ("air_removal", "temperature_c", "minutes", "expected"),
    [
        ("prevac", 134.0, 5.0, "prevac_134_3"),  # 273.2 °F: both fit, 134 is nearer
        ("prevac", 133.9, 4.0, "prevac_132_4"),  # 273 °F / 4 min
        ("prevac", 132.2, 4.0, "prevac_132_4"),  # 270 °F / 4 min
        ("prevac", 134.0, 3.0, "prevac_134_3"),  # DAC Universal/134°C/3min
        ("prevac", 133.9, 3.0, None),  # 273 °F / 3 min meets neither minimum
        ("gravity", 121.1, 30.0, "gravity_121_30"),  # 250 °F / 30 min
        ("gravity", 132.2, 15.0, "gravity_132_15"),
        ("gravity", 134.0, 5.0, None),
        (None, 134.0, 5.0, None),
        ("prevac", None, 5.0, None),
        ("prevac", 134.0, None, None),
    ],
)
def test_set_points_map_to_the_nearest_type_they_meet(
    air_removal: str | None,
    temperature_c: float | None,
    minutes: float | None,
    expected: str | None,
) -> None:
    assert load_cycle_type_for(air_removal, temperature_c, minutes) == expected  # type: ignore[arg-type]


def test_flash_is_never_inferred_from_a_machine_program() -> None:
    assert compatible_load_cycle_types("gravity", 132.2, 3.0) == ()
    assert load_cycle_type_for("gravity", 134.0, 3.5) is None


def test_every_type_whose_minimums_are_met_is_compatible() -> None:
    assert compatible_load_cycle_types("prevac", 134.0, 5.0) == ("prevac_132_4", "prevac_134_3")
    assert compatible_load_cycle_types("gravity", 132.2, 30.0) == (
        "gravity_121_30",
        "gravity_132_15",
    )
