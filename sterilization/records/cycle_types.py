"""Which SteriStock load cycle type a machine program stands for.

The nominal temperature and exposure of the built-in load types (the same figures as
`sterilization.cycle_types.BUILTIN_CYCLE_TYPES`; a test keeps the two in step). `flash_132_3` is
never inferred: immediate-use sterilization is a decision about how the load is used,
recorded with a reason and an encounter, which no machine program knows.
"""

from __future__ import annotations

from typing import Literal

AirRemoval = Literal["prevac", "gravity"]

LOAD_CYCLE_TYPES: dict[str, tuple[AirRemoval, float, float]] = {
    "prevac_132_4": ("prevac", 132, 4),
    "prevac_134_3": ("prevac", 134, 3),
    "gravity_121_30": ("gravity", 121, 30),
    "gravity_132_15": ("gravity", 132, 15),
}


def compatible_load_cycle_types(
    air_removal: AirRemoval | None, set_temperature_c: float | None, set_minutes: float | None
) -> tuple[str, ...]:
    """Every load type of that air removal whose minimums the set points meet."""
    if air_removal is None or set_temperature_c is None or set_minutes is None:
        return ()
    return tuple(
        code
        for code, (kind, temperature, minutes) in LOAD_CYCLE_TYPES.items()
        if kind == air_removal and set_temperature_c >= temperature and set_minutes >= minutes
    )


def load_cycle_type_for(
    air_removal: AirRemoval | None, set_temperature_c: float | None, set_minutes: float | None
) -> str | None:
    """The compatible type whose nominal temperature is nearest the set point (then the
    longer exposure): 273.2 °F (134.0 °C) / 5 min is `prevac_134_3`, 273 °F (133.9 °C) /
    4 min is `prevac_132_4`. None when no type fits."""
    candidates = compatible_load_cycle_types(air_removal, set_temperature_c, set_minutes)
    if not candidates or set_temperature_c is None:
        return None
    return min(
        candidates,
        key=lambda code: (
            abs(LOAD_CYCLE_TYPES[code][1] - set_temperature_c),
            -LOAD_CYCLE_TYPES[code][2],
        ),
    )
