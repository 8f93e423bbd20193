"""The real sterilizer records in tests/fixtures/sterilizer-records, and helpers that derive
variants of them (line ends, encodings, clock shifts) without inventing new files."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from pathlib import Path

from sterilization.records import MachineRecord

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sterilizer-records"
TUTTNAUER = FIXTURES / "tuttnauer-elara11"
DAC = FIXTURES / "sirona-dac-universal"
TUTTNAUER_FILES = sorted(p.name for p in TUTTNAUER.glob("*.txt"))
DAC_FILES = sorted(p.name for p in DAC.glob("*.txt"))
ALL_SAMPLES = [TUTTNAUER / name for name in TUTTNAUER_FILES] + [DAC / name for name in DAC_FILES]


def tuttnauer(name: str) -> bytes:
    return (TUTTNAUER / name).read_bytes()


def dac(name: str) -> bytes:
    return (DAC / name).read_bytes()


def without_text(record: MachineRecord) -> MachineRecord:
    """The record minus `raw_text`, to compare readings of differently encoded bytes."""
    return dataclasses.replace(record, raw_text="")


def shift_clock_times(data: bytes, delta: timedelta, lines: re.Pattern[bytes]) -> bytes:
    """Move every HH:MM:SS time of day on the lines matching `lines` by `delta` (wrapping
    at midnight); elapsed times on other lines stay."""

    def shift(match: re.Match[bytes]) -> bytes:
        moved = datetime(2000, 1, 1, *map(int, match.group().split(b":"))) + delta
        return moved.strftime("%H:%M:%S").encode()

    return b"\n".join(
        re.sub(rb"\b\d\d:\d\d:\d\d\b", shift, line) if lines.match(line) else line
        for line in data.split(b"\n")
    )


def verdict_end(data: bytes) -> int:
    """Offset just past the last byte that carries the record's verdict: the Tuttnauer end
    `Time:` after `Status:`, or the DAC `Zyklusende` line's Ok/FEHL."""
    tuttnauer_end = re.search(rb"Status: [^\n]*\nTime: \d\d:\d\d:\d\d", data)
    if tuttnauer_end:
        return tuttnauer_end.end()
    dac_end = re.search(rb"Zyklusende +\d\d:\d\d:\d\d (Ok|FEHL)", data)
    assert dac_end is not None
    return dac_end.end()
