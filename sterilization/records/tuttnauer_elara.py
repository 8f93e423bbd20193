"""Tuttnauer Elara USB export: one `cycle_NNNNNN.txt` per cycle.

Layout: a header (`Date: 21/NOV/2017`, `Time:`, `Ser. Num:`, `Model:`, `Version:`,
`Software vers.:`, `Cycle Num:`), the program name (a customised one adds a `(Customized)`
line), set points (`Ster. Temp. 273.2 °F`, `Ster. Time 5.0 min*`, ...), the column line
`Time °F Psig`, then rows `<phase letter> <elapsed> <temperature> <pressure>`; a pressure
ending in `In` is vacuum in inHg. `CLK 1:`/`CLK 2:` clock lines frame the S (hold) rows;
`Cycle Error:` and a reason line mark an abort; `P1=25.337 (inHg)` lines are a vacuum
test's readings. `Status:` gives the verdict, the `Time:` after it the end clock time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sterilization.records.cycle_types import (
    AirRemoval,
    compatible_load_cycle_types,
    load_cycle_type_for,
)
from sterilization.records.decoding import degree_sign, is_filler, record_lines, squeeze
from sterilization.records.errors import MalformedRecord
from sterilization.records.machine_clock import (
    clock_after,
    clock_interval,
    local_datetime,
    parse_clock,
    parse_duration,
)
from sterilization.records.record import (
    Hold,
    MachineRecord,
    Outcome,
    PressureReading,
    ProgramKind,
    RecordFormat,
    Sample,
    SetPoint,
)
from sterilization.records.units import (
    fahrenheit_to_celsius,
    inhg_vacuum_to_kpa,
    psig_to_kpa,
)

FORMAT_ID = "tuttnauer_elara_txt"

_DEGREE = r"(?:Â?°|\?|º)?"  # °, a printer's ?, or UTF-8 ° read as Latin-1
_NUMBER = r"[0-9]{1,4}(?:\.[0-9]{1,3})?"
_HEADER = re.compile(
    r"(Date|Time|Ser\. Num|Model|Version|Software vers\.|Cycle Num|Status|Operator):[ \t]*(.*)",
    re.ASCII,
)
_HEADER_KEYS = ("Date", "Time", "Ser. Num", "Model", "Version", "Software vers.", "Cycle Num")
_DATE = re.compile(r"([0-9]{1,2})/([A-Za-z]{3})/([0-9]{4})", re.ASCII)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_SERIAL = re.compile(r"[!-~]{1,40}", re.ASCII)
_CYCLE_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)
_COLUMNS = re.compile(rf"Time[ \t]+{_DEGREE}([FC])[ \t]+Psig", re.ASCII)
_SET_POINT = re.compile(
    rf"(\S.*?)[ \t]+({_NUMBER})[ \t]*(min|{_DEGREE}[FC]|Psia|Psig)\*?", re.ASCII
)
_ROW = re.compile(
    rf"[ \t]*(?:([A-Z])[ \t]+)?([0-9]{{2,3}}:[0-9]{{2}}:[0-9]{{2}})[ \t]+(-?{_NUMBER})"
    rf"[ \t]+({_NUMBER})(In)?",
    re.ASCII,
)
_CLOCK_LINE = re.compile(r"CLK[ \t]*([0-9]):[ \t]*(.*)", re.ASCII)
_PRESSURE_READING = re.compile(rf"(P[0-9])[ \t]*=[ \t]*({_NUMBER})[ \t]*\(inHg\)", re.ASCII)
_CYCLE_ERROR = re.compile(r"Cycle Error:[ \t]*(.*)", re.ASCII)
_REMARK = re.compile(r"\([^()]{1,40}\)")
_SNIFF = re.compile(
    r"^(?:Ser\. Num:|Cycle Num:|Date: [0-9]{1,2}/[A-Za-z]{3}/[0-9]{4})", re.MULTILINE | re.ASCII
)

_STATUSES: dict[str, Outcome] = {
    "Cycle Ended": "passed",
    "Test Ended": "passed",
    "Process Done": "passed",
    "Cycle Failed": "failed",
    "Test Failed": "failed",
}
_PHASES = {
    "A": "air_removal",
    "H": "heating",
    "S": "sterilization",
    "E": "exhaust",
    "D": "drying",
    "V": "vacuum_test",
    "": "end",
}


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    phase: str
    elapsed: timedelta
    temperature_c: float
    pressure_kpa: float

    @property
    def vacuum(self) -> bool:
        return self.pressure_kpa < 0


@dataclass(slots=True)
class _Table:
    """Everything between the column line and the status."""

    rows: list[_Row] = field(default_factory=list)
    clocks: list[tuple[int, str, time]] = field(default_factory=list)  # line, CLK n, time
    readings: list[PressureReading] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    status: str = ""
    status_line: int = 0


class _Lines:
    """The record's content lines, in order, with their 1-based line numbers."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._index = 0

    def peek(self) -> tuple[int, str] | None:
        index = self._index
        while index < len(self._lines):
            if not is_filler(self._lines[index]):
                return index + 1, self._lines[index]
            index += 1
        return None

    def next(self, missing: str) -> tuple[int, str]:
        item = self.peek()
        if item is None:
            raise MalformedRecord(missing)
        self._index = item[0]
        return item


def sniff(text: str, filename: str | None = None) -> bool:
    return _SNIFF.search(text[:2048].replace("\r", "\n")) is not None


def hint(data: bytes, filename: str | None) -> str | None:
    if filename and filename.lower().endswith(".cyc"):
        return (
            "a Tuttnauer .cyc file is the machine's binary copy of the cycle; "
            "import the cycle_NNNNNN.txt file written beside it"
        )
    return None


def parse(text: str) -> MachineRecord:
    lines = _Lines(record_lines(text))
    header = _read_header(lines)
    started_at = _start(header)
    program = _read_program(lines)
    set_points, set_values, celsius = _read_set_points(lines)
    table = _read_table(lines, celsius)
    ended_at = clock_after(started_at, _read_end_clock(lines))

    set_temperature_c, set_minutes = _set_temperature_and_time(set_values)
    kind = _program_kind(program, table.status, set_temperature_c)
    air_removal = _air_removal(table.rows)
    outcome, failure_reasons = _verdict(table.status, table.reasons)
    is_load = kind == "load"
    return MachineRecord(
        format=FORMAT_ID,
        vendor="Tuttnauer",
        model=header.get("Model") or None,
        serial_number=_serial(header),
        software_version=header.get("Software vers.") or None,
        machine_cycle_number=_cycle_number(header),
        program=program,
        program_kind=kind,
        load_cycle_type=(
            load_cycle_type_for(air_removal, set_temperature_c, set_minutes) if is_load else None
        ),
        compatible_load_cycle_types=(
            compatible_load_cycle_types(air_removal, set_temperature_c, set_minutes)
            if is_load
            else ()
        ),
        set_temperature_c=set_temperature_c,
        set_exposure_minutes=set_minutes,
        set_points=tuple(set_points),
        started_at=started_at,
        ended_at=ended_at,
        outcome=outcome,
        failure_reasons=failure_reasons,
        hold=_hold(table),
        samples=tuple(
            Sample(
                phase=_PHASES.get(row.phase, row.phase),
                elapsed=row.elapsed,
                temperature_c=round(row.temperature_c, 2),
                pressure_kpa=round(row.pressure_kpa, 2),
            )
            for row in table.rows
        ),
        pressure_readings=tuple(table.readings),
        raw_text=text,
    )


def _read_header(lines: _Lines) -> dict[str, str]:
    header: dict[str, str] = {}
    while "Cycle Num" not in header:
        number, line = lines.next("the record ends inside its header (no Cycle Num line)")
        match = _HEADER.fullmatch(line.strip())
        if match is None or match[1] not in _HEADER_KEYS:
            raise MalformedRecord(f"line {number}: {line.strip()[:60]!r} in the header")
        if match[1] in header:
            raise MalformedRecord(f"line {number}: a second {match[1]!r} line in the header")
        header[match[1]] = match[2].strip()
    return header


def _start(header: dict[str, str]) -> datetime:
    if "Date" not in header or "Time" not in header:
        raise MalformedRecord("the header has no Date or no Time line")
    date = _DATE.fullmatch(header["Date"])
    if date is None or date[2].upper() not in _MONTHS:
        raise MalformedRecord(f"Date {header['Date']!r} is not like 21/NOV/2017")
    month = _MONTHS.index(date[2].upper()) + 1
    start_clock = parse_clock(header["Time"], "start Time")
    return local_datetime(int(date[3]), month, int(date[1]), start_clock, "Date")


def _serial(header: dict[str, str]) -> str:
    serial = header.get("Ser. Num", "")
    if _SERIAL.fullmatch(serial) is None:
        raise MalformedRecord(f"serial number {serial!r} is missing or unreadable")
    return serial


def _cycle_number(header: dict[str, str]) -> int:
    number = header["Cycle Num"]
    if _CYCLE_NUMBER.fullmatch(number) is None:
        raise MalformedRecord(f"Cycle Num {number!r} is not a number")
    return int(number)


def _read_program(lines: _Lines) -> str:
    number, line = lines.next("the record ends before its program name")
    stripped = line.strip()
    if _HEADER.fullmatch(stripped) or _COLUMNS.fullmatch(stripped) or _ROW.fullmatch(line):
        raise MalformedRecord(f"line {number}: no program name after Cycle Num")
    program = squeeze(stripped)
    while (item := lines.peek()) is not None and _REMARK.fullmatch(item[1].strip()):
        program = f"{program} {squeeze(lines.next('')[1])}"
    return program


def _read_set_points(
    lines: _Lines,
) -> tuple[list[SetPoint], list[tuple[str, float, str]], bool]:
    set_points: list[SetPoint] = []
    values: list[tuple[str, float, str]] = []
    while True:
        number, line = lines.next("the record ends before its table of readings")
        stripped = line.strip()
        if columns := _COLUMNS.fullmatch(stripped):
            return set_points, values, columns[1] == "C"
        match = _SET_POINT.fullmatch(stripped)
        if match is None:
            raise MalformedRecord(f"line {number}: {stripped[:60]!r} is not a set point")
        label = squeeze(match[1])
        text = degree_sign(squeeze(stripped[match.start(2) :]))
        set_points.append(SetPoint(label=label, text=text))
        unit = match[3] if match[3] in ("min", "Psia", "Psig") else match[3][-1]  # °F → F
        values.append((label.lower(), float(match[2]), unit))


def _set_temperature_and_time(
    values: list[tuple[str, float, str]],
) -> tuple[float | None, float | None]:
    temperature = minutes = None
    for label, value, unit in values:
        if label.startswith("ster. temp") and unit in ("F", "C"):
            temperature = round(fahrenheit_to_celsius(value) if unit == "F" else value, 1)
        elif label.startswith("ster. time") and unit == "min":
            minutes = value
    return temperature, minutes


def _read_table(lines: _Lines, celsius: bool) -> _Table:
    table = _Table()
    while True:
        number, line = lines.next(
            "the record has no Status line: it is incomplete (cut off?) and proves nothing"
        )
        stripped = line.strip()
        if row := _ROW.fullmatch(line):
            table.rows.append(_row(number, row, celsius))
        elif clock := _CLOCK_LINE.fullmatch(stripped):
            at = parse_clock(clock[2], f"line {number}: CLK")
            table.clocks.append((number, clock[1], at))
        elif reading := _PRESSURE_READING.fullmatch(stripped):
            table.readings.append(
                PressureReading(
                    label=reading[1],
                    pressure_kpa=round(inhg_vacuum_to_kpa(float(reading[2])), 2),
                    text=squeeze(stripped[reading.start(2) :]),
                )
            )
        elif error := _CYCLE_ERROR.fullmatch(stripped):
            reason = squeeze(error[1]) or squeeze(
                lines.next("the record ends after 'Cycle Error:'")[1]
            )
            table.reasons.append(reason)
        elif (header := _HEADER.fullmatch(stripped)) and header[1] == "Status":
            table.status, table.status_line = squeeze(header[2]), number
            return table
        else:
            raise MalformedRecord(f"line {number}: {stripped[:60]!r} is not a reading")


def _row(number: int, match: re.Match[str], celsius: bool) -> _Row:
    temperature = float(match[3])
    pressure = float(match[4])
    return _Row(
        line=number,
        phase=match[1] or "",
        elapsed=parse_duration(match[2], f"line {number}: elapsed time"),
        temperature_c=temperature if celsius else fahrenheit_to_celsius(temperature),
        pressure_kpa=inhg_vacuum_to_kpa(pressure) if match[5] else psig_to_kpa(pressure),
    )


def _read_end_clock(lines: _Lines) -> time:
    end: time | None = None
    while lines.peek() is not None:
        number, line = lines.next("")
        match = _HEADER.fullmatch(line.strip())
        if match is not None and match[1] == "Time" and end is None:
            end = parse_clock(match[2], "end Time")
        elif match is None or match[1] != "Operator":
            raise MalformedRecord(f"line {number}: {line.strip()[:60]!r} after the status")
    if end is None:
        raise MalformedRecord("no end Time after the status: the record is incomplete")
    return end


def _verdict(status: str, reasons: list[str]) -> tuple[Outcome, tuple[str, ...]]:
    """The machine's verdict. A printed `Cycle Error` outweighs an `Ended` status; a user's
    cancel is `aborted`; a failure with no reason printed gives its status as the reason."""
    verdict = _STATUSES.get(status)
    if verdict is None:
        known = ", ".join(_STATUSES)
        raise MalformedRecord(f"status {status[:40]!r} is not one of {known}")
    outcome: Outcome = verdict
    if reasons and verdict == "passed":
        outcome = "failed"
    if outcome == "failed" and any("cancel" in reason.lower() for reason in reasons):
        outcome = "aborted"
    if outcome != "passed" and not reasons:
        reasons = [status]
    return outcome, tuple(reasons)


def _program_kind(program: str, status: str, set_temperature_c: float | None) -> ProgramKind:
    name = program.lower()
    if "bowie" in name:
        return "bowie_dick"
    if "vacuum test" in name or "leak" in name:
        return "leak_test"
    if status == "Process Done" or ("drying" in name and set_temperature_c is None):
        return "drying_only"
    return "load"


def _air_removal(rows: list[_Row]) -> AirRemoval | None:
    """Pre-vacuum when the air-removal phase pulled a vacuum; gravity when the cycle reached
    its hold without one; unclear otherwise."""
    if any(row.phase == "A" and row.vacuum for row in rows):
        return "prevac"
    if any(row.phase == "S" for row in rows):
        return "gravity"
    return None


def _hold(table: _Table) -> Hold | None:
    """The S rows. Exposure comes from the `CLK` lines framing them (the shorter reading when
    the machine's clocks disagree by a second), else from the rows' elapsed times."""
    rows = table.rows
    hold = [row for row in rows if row.phase == "S"]
    if not hold:
        return None
    first, last = hold[0].line, hold[-1].line
    before = max((row.line for row in rows if row.line < first), default=0)
    after = min((row.line for row in rows if row.line > last), default=table.status_line)
    opening = {name: at for line, name, at in table.clocks if before < line < first}
    closing = {name: at for line, name, at in table.clocks if last < line < after}
    by_clock = [clock_interval(opening[name], closing[name]) for name in opening if name in closing]
    exposure = min(by_clock) if by_clock else hold[-1].elapsed - hold[0].elapsed
    if exposure < timedelta(0):
        raise MalformedRecord("the hold rows' elapsed times run backwards")
    temperatures = [row.temperature_c for row in hold]
    pressures = [row.pressure_kpa for row in hold]
    return Hold(
        temperature_min_c=round(min(temperatures), 1),
        temperature_max_c=round(max(temperatures), 1),
        exposure_minutes=exposure.total_seconds() / 60,
        pressure_min_kpa=round(min(pressures), 1),
        pressure_max_kpa=round(max(pressures), 1),
    )


FORMAT = RecordFormat(
    id=FORMAT_ID, name="Tuttnauer Elara (USB .txt)", sniff=sniff, parse=parse, hint=hint
)
