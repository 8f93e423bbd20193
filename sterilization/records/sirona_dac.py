"""Sirona DAC Universal printer output (as captured from its serial printer port).

Layout (German, ASCII; the printer's `°` arrives as `?`): `DAC Universal`, `Serien Nr:`,
`Programm: Universal/134?C/3min` (the set points live in the program name), `Deckel:`,
`Zyklus:` (cycle number), `Dat.(T-M-J) 16-03-2016`, `Zeit(H-M-S) 00:53:20` (the start);
a phase table `<phase> <clock> Ok|FEHL`; the hold's samples `<clock> <°C> <bar absolute>`
with `Maximum`, `Minimum` and `Dauer (m-s)`; then `Sterilisation`, `Prozessende` and
`Zyklusende` with their verdicts. A failure adds `Error code NN` lines and, after
`Fehler!`, the machine's explanation (`Abbruch Sterilisation`).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from sterilization.records.cycle_types import compatible_load_cycle_types, load_cycle_type_for
from sterilization.records.decoding import degree_sign, is_filler, record_lines, squeeze
from sterilization.records.errors import MalformedRecord
from sterilization.records.machine_clock import (
    CLOCK,
    clock_after,
    clock_interval,
    local_datetime,
    parse_clock,
)
from sterilization.records.record import (
    Hold,
    MachineRecord,
    Outcome,
    ProgramKind,
    RecordFormat,
    Sample,
    SetPoint,
)
from sterilization.records.units import absolute_bar_to_kpa

FORMAT_ID = "sirona_dac_printer"

_DEGREE = r"(?:Â?°|\?|º)?"
_NUMBER = r"[0-9]{1,4}(?:\.[0-9]{1,3})?"
_MODEL = re.compile(r"DAC\b.{0,40}", re.ASCII)
_KEY = re.compile(r"(Serien Nr|Programm|Deckel|Zyklus):[ \t]*(.*)", re.ASCII)
_DATE = re.compile(r"Dat\.\(T-M-J\)[ \t]*([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})", re.ASCII)
_START = re.compile(r"Zeit\(H-M-S\)[ \t]*(.*)", re.ASCII)
_PHASE_COLUMNS = re.compile(r"Phase:[ \t]+Uhrzeit:[ \t]+Erg:", re.ASCII)
_SAMPLE_COLUMNS = re.compile(rf"Uhrzeit:[ \t]+{_DEGREE}C:[ \t]+bar:", re.ASCII)
_PHASE = re.compile(rf"(\S.*?)[ \t]+({CLOCK})[ \t]+(Ok|OK|FEHL)", re.ASCII)
_DISABLED = re.compile(r"\S.*?[ \t]+Deaktiviert", re.ASCII)
_SAMPLE = re.compile(rf"({CLOCK})[ \t]+({_NUMBER})[ \t]+({_NUMBER})", re.ASCII)
_EXTREME = re.compile(rf"(?:Maximum|Minimum)[ \t]+({_NUMBER})[ \t]+({_NUMBER})", re.ASCII)
_DURATION = re.compile(r"Dauer \(m-s\)[ \t]+([0-9]{1,3})-([0-9]{2})", re.ASCII)
_ERROR_CODE = re.compile(r"Error code[ \t]+([0-9]{1,5})", re.ASCII)
_FAILURE = "Fehler!"
_SERIAL = re.compile(r"[!-~]{1,40}", re.ASCII)
_CYCLE_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)
_SET_TEMPERATURE = re.compile(r"([0-9]{2,3}(?:[.,][0-9])?)[ \t]*°C", re.ASCII)
_SET_MINUTES = re.compile(r"([0-9]{1,3}(?:[.,][0-9])?)[ \t]*min\b", re.ASCII)
_SNIFF = re.compile(r"^(?:[ \t]*DAC Universal|Serien Nr:|Dat\.\(T-M-J\))", re.MULTILINE | re.ASCII)
_HOLD_START, _HOLD_END, _CYCLE_END = "Beginn Haltezeit", "Sterilisation", "Zyklusende"


def sniff(text: str, filename: str | None = None) -> bool:
    return _SNIFF.search(text[:2048].replace("\r", "\n")) is not None


class _Printout:
    """What the printout says, gathered line by line."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.header: dict[str, str] = {}
        self.date: tuple[int, int, int] | None = None
        self.start: time | None = None
        self.phases: list[tuple[str, time, bool]] = []
        self.samples: list[tuple[time, float, float]] = []
        self.extremes: list[tuple[float, float]] = []
        self.duration: timedelta | None = None
        self.reasons: list[str] = []
        self.failure_printed = False

    def read(self, lines: list[str]) -> None:
        ended = False
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if is_filler(line):
                continue
            if self.failure_printed:
                self._reason(_footer_reason(stripped))
            elif stripped == _FAILURE:
                self.failure_printed = True
            elif ended:
                raise MalformedRecord(f"line {number}: {stripped[:60]!r} after Zyklusende")
            elif not self.phases and self._header_line(number, stripped):
                continue
            elif phase := _PHASE.fullmatch(stripped):
                at = parse_clock(phase[2], f"line {number}: the clock time")
                self.phases.append((squeeze(phase[1]), at, phase[3] != "FEHL"))
                ended = squeeze(phase[1]) == _CYCLE_END
            else:
                self._body_line(number, stripped)

    def _header_line(self, number: int, stripped: str) -> bool:
        if self.model is None and not self.header and _MODEL.fullmatch(stripped):
            self.model = squeeze(stripped)
        elif key := _KEY.fullmatch(stripped):
            if key[1] in self.header:
                raise MalformedRecord(f"line {number}: a second {key[1]!r} line")
            self.header[key[1]] = squeeze(key[2])
        elif date := _DATE.fullmatch(stripped):
            self.date = (int(date[3]), int(date[2]), int(date[1]))
        elif start := _START.fullmatch(stripped):
            self.start = parse_clock(start[1], "Zeit(H-M-S)")
        elif not _PHASE_COLUMNS.fullmatch(stripped):
            return False
        return True

    def _body_line(self, number: int, stripped: str) -> None:
        if sample := _SAMPLE.fullmatch(stripped):
            at = parse_clock(sample[1], f"line {number}: the clock time")
            self.samples.append((at, float(sample[2]), float(sample[3])))
        elif extreme := _EXTREME.fullmatch(stripped):
            self.extremes.append((float(extreme[1]), float(extreme[2])))
        elif duration := _DURATION.fullmatch(stripped):
            minutes, seconds = int(duration[1]), int(duration[2])
            if seconds > 59 or self.duration is not None:
                raise MalformedRecord(f"line {number}: Dauer {stripped[-6:]!r} is unreadable")
            self.duration = timedelta(minutes=minutes, seconds=seconds)
        elif error := _ERROR_CODE.fullmatch(stripped):
            self._reason(f"Error code {error[1]}")
        elif not (
            _DISABLED.fullmatch(stripped)
            or _SAMPLE_COLUMNS.fullmatch(stripped)
            or _PHASE_COLUMNS.fullmatch(stripped)
        ):
            raise MalformedRecord(f"line {number}: {stripped[:60]!r} is not a DAC printout line")

    def _reason(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


def _footer_reason(line: str) -> str:
    error = _ERROR_CODE.fullmatch(line)
    return f"Error code {error[1]}" if error else squeeze(line)


def parse(text: str) -> MachineRecord:
    printout = _Printout()
    printout.read(record_lines(text))
    started_at = _start(printout)
    end = next((at for name, at, _ in printout.phases if name == _CYCLE_END), None)
    if end is None:
        raise MalformedRecord(
            "the printout has no Zyklusende line: it is incomplete (cut off?) and proves nothing"
        )
    program = _program(printout.header)
    set_temperature_c, set_minutes = _set_points(program)
    kind = _program_kind(program)
    air_removal = "prevac" if kind == "load" else None
    outcome, reasons = _verdict(printout)
    return MachineRecord(
        format=FORMAT_ID,
        vendor="Sirona",
        model=printout.model,
        serial_number=_serial(printout.header),
        software_version=None,
        machine_cycle_number=_cycle_number(printout.header),
        program=program,
        program_kind=kind,
        load_cycle_type=load_cycle_type_for(air_removal, set_temperature_c, set_minutes),
        compatible_load_cycle_types=compatible_load_cycle_types(
            air_removal, set_temperature_c, set_minutes
        ),
        set_temperature_c=set_temperature_c,
        set_exposure_minutes=set_minutes,
        set_points=(SetPoint(label="Programm", text=program),),
        started_at=started_at,
        ended_at=clock_after(started_at, end),
        outcome=outcome,
        failure_reasons=reasons,
        hold=_hold(printout),
        samples=tuple(
            Sample(
                phase="sterilization",
                elapsed=clock_interval(started_at.time(), at),
                temperature_c=round(temperature, 2),
                pressure_kpa=round(absolute_bar_to_kpa(bar), 2),
            )
            for at, temperature, bar in printout.samples
        ),
        pressure_readings=(),
        raw_text=text,
    )


def _start(printout: _Printout) -> datetime:
    if printout.date is None or printout.start is None:
        raise MalformedRecord("the printout has no Dat.(T-M-J) or no Zeit(H-M-S) line")
    year, month, day = printout.date
    return local_datetime(year, month, day, printout.start, "Dat.(T-M-J)")


def _serial(header: dict[str, str]) -> str:
    serial = header.get("Serien Nr", "")
    if _SERIAL.fullmatch(serial) is None:
        raise MalformedRecord(f"Serien Nr {serial!r} is missing or unreadable")
    return serial


def _cycle_number(header: dict[str, str]) -> int:
    number = header.get("Zyklus", "")
    if _CYCLE_NUMBER.fullmatch(number) is None:
        raise MalformedRecord(f"Zyklus {number!r} is missing or not a number")
    return int(number)


def _program(header: dict[str, str]) -> str:
    """The program name with the printer's `?` put back as the `°` it stands for."""
    program = degree_sign(header.get("Programm", ""))
    if not program:
        raise MalformedRecord("the printout has no Programm line")
    return program


def _set_points(program: str) -> tuple[float | None, float | None]:
    temperature = _SET_TEMPERATURE.search(program)
    minutes = _SET_MINUTES.search(program)
    return (
        float(temperature[1].replace(",", ".")) if temperature else None,
        float(minutes[1].replace(",", ".")) if minutes else None,
    )


def _program_kind(program: str) -> ProgramKind:
    name = program.lower()
    if "bowie" in name:
        return "bowie_dick"
    if "vakuumtest" in name or "vacuum test" in name or "leak" in name:
        return "leak_test"
    return "load"


def _verdict(printout: _Printout) -> tuple[Outcome, tuple[str, ...]]:
    """Passed only when every phase says Ok and nothing reports an error. The samples show
    no operator abort, so a DAC record is never read as `aborted`."""
    failed_phases = [name for name, _, ok in printout.phases if not ok]
    if not failed_phases and not printout.reasons and not printout.failure_printed:
        return "passed", ()
    reasons = printout.reasons or [f"{failed_phases[0]} FEHL" if failed_phases else _FAILURE]
    return "failed", tuple(reasons)


def _hold(printout: _Printout) -> Hold | None:
    readings = [(t, bar) for _, t, bar in printout.samples] + printout.extremes
    if not readings:
        if printout.duration is not None:
            raise MalformedRecord("the printout gives a hold duration but no hold readings")
        return None
    temperatures = [t for t, _ in readings]
    pressures = [absolute_bar_to_kpa(bar) for _, bar in readings]
    return Hold(
        temperature_min_c=round(min(temperatures), 1),
        temperature_max_c=round(max(temperatures), 1),
        exposure_minutes=_exposure(printout).total_seconds() / 60,
        pressure_min_kpa=round(min(pressures), 1),
        pressure_max_kpa=round(max(pressures), 1),
    )


def _exposure(printout: _Printout) -> timedelta:
    """`Dauer (m-s)`; without it, from the hold's start to the Sterilisation verdict, else
    from the first to the last sample."""
    if printout.duration is not None:
        return printout.duration
    phases = {name: at for name, at, _ in printout.phases}
    if _HOLD_START in phases and _HOLD_END in phases:
        return clock_interval(phases[_HOLD_START], phases[_HOLD_END])
    if printout.samples:
        return clock_interval(printout.samples[0][0], printout.samples[-1][0])
    raise MalformedRecord("the printout gives hold extremes but no hold duration")


FORMAT = RecordFormat(
    id=FORMAT_ID, name="Sirona DAC Universal (printer output)", sniff=sniff, parse=parse
)
