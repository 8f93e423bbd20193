"""What a sterilizer's own record means for a cycle, as plain functions: the cycle type its
program stands for, the parameters a cycle created from it gets, and where it disagrees with
what a person typed (`discrepancies`). No database: the importer (`record_import`) and the
cycle detail call these with what they read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sterilization.records import MachineRecord

# How far a typed value may sit from the machine's before it is a discrepancy: what reading
# a display or a printout to its last digit (or typing whole degrees) can explain.
TEMPERATURE_TOLERANCE_C = 0.5
PRESSURE_TOLERANCE_KPA = 2.0
EXPOSURE_TOLERANCE_MINUTES = 0.1
# A record and a typed cycle whose starts are further apart than this are not the same run.
MATCH_WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Recorded:
    """The machine's word on one cycle, as stored with an imported record (times in UTC)."""

    program_kind: str
    load_cycle_type: str | None
    compatible_cycle_types: tuple[str, ...]
    started_at: dt.datetime
    outcome: str
    failure_reasons: tuple[str, ...]
    temperature_min_c: float | None
    temperature_max_c: float | None
    exposure_minutes: float | None
    pressure_min_kpa: float | None
    pressure_max_kpa: float | None

    @property
    def mechanical_ok(self) -> bool:
        """The machine's verdict: only a record that ended well passes it."""
        return self.outcome == "passed"


@dataclass(frozen=True)
class Typed:
    """What a person entered for the cycle (None: not entered, e.g. still running)."""

    cycle_type: str
    started_at: dt.datetime
    temperature_c: float | None = None
    pressure_kpa: float | None = None
    exposure_minutes: float | None = None
    mechanical_ok: bool | None = None


def recorded_from(record: MachineRecord, *, started_at: dt.datetime) -> Recorded:
    """The readings of a parsed record; `started_at` is its start placed in the clinic's
    zone (the machine's clock has none)."""
    hold = record.hold
    return Recorded(
        program_kind=record.program_kind,
        load_cycle_type=record.load_cycle_type,
        compatible_cycle_types=tuple(record.compatible_load_cycle_types),
        started_at=started_at,
        outcome=record.outcome,
        failure_reasons=tuple(record.failure_reasons),
        temperature_min_c=hold.temperature_min_c if hold else None,
        temperature_max_c=hold.temperature_max_c if hold else None,
        exposure_minutes=hold.exposure_minutes if hold else None,
        pressure_min_kpa=hold.pressure_min_kpa if hold else None,
        pressure_max_kpa=hold.pressure_max_kpa if hold else None,
    )


def accepted_cycle_types(recorded: Recorded) -> tuple[str, ...]:
    """The cycle types a typed cycle may have for this record: the test it ran, or any load
    type whose minimums the program's set points meet (273.2 °F / 5 min is both
    `prevac_132_4` and `prevac_134_3`). Empty: the record does not say (no check)."""
    if recorded.program_kind in ("bowie_dick", "leak_test"):
        return (recorded.program_kind,)
    if recorded.program_kind == "load":
        types = recorded.compatible_cycle_types
        if recorded.load_cycle_type and recorded.load_cycle_type not in types:
            types = (*types, recorded.load_cycle_type)
        return types
    return ()


def cycle_type_for(recorded: Recorded, minimums: dict[str, tuple[float, float]]) -> str | None:
    """The cycle type a cycle created from the record gets: `bowie_dick`, `leak_test`, or the
    load type the set points stand for, unless the measured hold misses that type's minimum
    and meets another compatible type's (then that one). None: the program names no type
    SteriStock knows (the record is refused). `minimums` maps a type to its (°C, minutes)."""
    if recorded.program_kind in ("bowie_dick", "leak_test"):
        return recorded.program_kind
    if recorded.program_kind != "load":
        return None
    preferred = recorded.load_cycle_type
    candidates = [t for t in accepted_cycle_types(recorded) if t in minimums]
    if preferred in candidates:
        candidates.remove(preferred)
        candidates.insert(0, preferred)

    def met(code: str) -> bool:
        temperature, minutes = minimums[code]
        return (
            recorded.temperature_min_c is not None
            and recorded.exposure_minutes is not None
            and recorded.temperature_min_c >= temperature
            and recorded.exposure_minutes >= minutes
        )

    return next((t for t in candidates if met(t)), candidates[0] if candidates else None)


def cycle_parameters(recorded: Recorded) -> dict[str, Any]:
    """The readings a cycle created from the record gets, in SteriStock's units: the hold's
    minimum temperature and pressure, its measured length, the machine's verdict. No
    chemical indicator reading: that is a person's to enter."""
    return {
        "temperature_c": recorded.temperature_min_c,
        "pressure_kpa": recorded.pressure_min_kpa,
        "exposure_minutes": _round(recorded.exposure_minutes, 2),
        "dry_minutes": None,
        "mechanical_ok": recorded.mechanical_ok,
        "chemical_ok": None,
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _outside(typed: float, low: float, high: float, tolerance: float) -> bool:
    return typed < low - tolerance - 1e-9 or typed > high + tolerance + 1e-9


def discrepancies(typed: Typed, recorded: Recorded) -> list[dict[str, Any]]:
    """Where what was typed disagrees with the machine's record: `[{field, typed,
    recorded}]`, in a fixed field order. A temperature or pressure agrees when it lies
    within the hold's range (give or take a display's last digit); exposure when it is
    within 6 seconds; the start when within 15 minutes. Nothing typed, nothing to compare."""
    found: list[dict[str, Any]] = []
    accepted = accepted_cycle_types(recorded)
    if accepted and typed.cycle_type not in accepted:
        found.append(
            {
                "field": "cycle_type",
                "typed": typed.cycle_type,
                "recorded": recorded.load_cycle_type or recorded.program_kind,
            }
        )
    if abs(typed.started_at - recorded.started_at) > MATCH_WINDOW:
        found.append(
            {
                "field": "started_at",
                "typed": typed.started_at.astimezone(dt.UTC).isoformat(),
                "recorded": recorded.started_at.astimezone(dt.UTC).isoformat(),
            }
        )
    low, high = recorded.temperature_min_c, recorded.temperature_max_c
    if (
        typed.temperature_c is not None
        and low is not None
        and high is not None
        and _outside(typed.temperature_c, low, high, TEMPERATURE_TOLERANCE_C)
    ):
        found.append({"field": "temperature_c", "typed": typed.temperature_c, "recorded": low})
    low, high = recorded.pressure_min_kpa, recorded.pressure_max_kpa
    if (
        typed.pressure_kpa is not None
        and low is not None
        and high is not None
        and _outside(typed.pressure_kpa, low, high, PRESSURE_TOLERANCE_KPA)
    ):
        found.append({"field": "pressure_kpa", "typed": typed.pressure_kpa, "recorded": low})
    exposure = recorded.exposure_minutes
    if (
        typed.exposure_minutes is not None
        and exposure is not None
        and _outside(typed.exposure_minutes, exposure, exposure, EXPOSURE_TOLERANCE_MINUTES)
    ):
        found.append(
            {
                "field": "exposure_minutes",
                "typed": typed.exposure_minutes,
                "recorded": round(exposure, 2),
            }
        )
    if typed.mechanical_ok is not None and typed.mechanical_ok != recorded.mechanical_ok:
        found.append(
            {
                "field": "mechanical_ok",
                "typed": typed.mechanical_ok,
                "recorded": recorded.mechanical_ok,
            }
        )
    return found
