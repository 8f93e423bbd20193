"""The vendor-neutral reading of one sterilizer cycle record.

Units are SteriStock's everywhere: °C, kPa gauge (vacuum is negative), minutes. Times are
naive local datetimes as the machine's clock showed them: the machine knows no time zone,
so the importer applies the sterilizer's site zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

ProgramKind = Literal["load", "bowie_dick", "leak_test", "drying_only"]
Outcome = Literal["passed", "failed", "aborted"]


@dataclass(frozen=True, slots=True)
class SetPoint:
    """A programmed value exactly as printed, e.g. `Ster. Temp.` / `273.2 °F`."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class Sample:
    """One printed reading. `phase` is a vendor-neutral name (`air_removal`, `heating`,
    `sterilization`, `exhaust`, `drying`, `vacuum_test`, `end`), or the machine's own letter
    when it prints one this parser does not know. `elapsed` counts from the cycle start as
    the machine prints it (a Tuttnauer restarts it after an abort)."""

    phase: str
    elapsed: timedelta
    temperature_c: float
    pressure_kpa: float


@dataclass(frozen=True, slots=True)
class Hold:
    """The sterilization hold (exposure phase): extremes over it, and its measured length."""

    temperature_min_c: float
    temperature_max_c: float
    exposure_minutes: float
    pressure_min_kpa: float
    pressure_max_kpa: float


@dataclass(frozen=True, slots=True)
class PressureReading:
    """A named pressure the machine reports outside the sample table (a leak test's P1..P3)."""

    label: str
    pressure_kpa: float
    text: str


@dataclass(frozen=True, slots=True)
class MachineRecord:
    format: str
    vendor: str
    model: str | None
    serial_number: str
    software_version: str | None
    machine_cycle_number: int
    program: str
    program_kind: ProgramKind
    # The SteriStock load type the program's set points stand for (None for tests, drying,
    # or when unclear), and every built-in load type whose minimums the set points meet.
    load_cycle_type: str | None
    compatible_load_cycle_types: tuple[str, ...]
    set_temperature_c: float | None
    set_exposure_minutes: float | None
    set_points: tuple[SetPoint, ...]
    started_at: datetime
    ended_at: datetime
    outcome: Outcome
    failure_reasons: tuple[str, ...]
    hold: Hold | None
    samples: tuple[Sample, ...]
    pressure_readings: tuple[PressureReading, ...]
    raw_text: str


@dataclass(frozen=True, slots=True)
class RecordFormat:
    """One vendor format: `sniff` is a cheap look at the decoded text (may it be ours?),
    `parse` reads it or raises `MalformedRecord`. `hint` may explain, for content no format
    recognised, what the user should upload instead."""

    id: str
    name: str
    sniff: Callable[[str, str | None], bool]
    parse: Callable[[str], MachineRecord]
    hint: Callable[[bytes, str | None], str | None] | None = None
