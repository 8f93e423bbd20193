"""The log CSV's text, cell by cell: clinic wall-clock times with their offset, and the same
quoting and formula defusing as every other export (`kernel.csv_export`), whatever the
free text holds. The export builds its lines itself for speed; these tests hold it to the
general writer."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest

from kernel.clock import ClinicTime
from kernel.csv_export import csv_text, defuse
from sterilization.reports.log_export import (
    LOG_COLUMNS,
    LocalTimeText,
    log_csv_lines,
)

# Zones with every kind of change: whole-hour daylight saving both ways (Chicago, Sydney),
# a half-hour offset (Kolkata), a half-hour daylight-saving shift (Lord Howe Island), a
# 45-minute offset (Kathmandu) and a zone that changed its standard offset (Samoa, 2011).
ZONES = (
    "America/Chicago",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Apia",
    "UTC",
)


def exact(utc: dt.datetime, tz: ZoneInfo) -> str:
    return utc.replace(tzinfo=dt.UTC).astimezone(tz).isoformat(timespec="seconds")


def instants() -> list[dt.datetime]:
    """Every 7 minutes 13 seconds through days around the transitions of these zones."""
    days = [dt.datetime(2011, 12, 29), dt.datetime(2026, 3, 7), dt.datetime(2026, 4, 4)]
    days += [dt.datetime(2026, 10, 3), dt.datetime(2026, 10, 31)]
    step = dt.timedelta(minutes=7, seconds=13)
    return [day + step * i for day in days for i in range(3 * 24 * 60 * 60 // 433)]


@pytest.mark.parametrize("zone", ZONES)
def test_log_times_are_the_sites_wall_clock_with_its_offset_across_every_zone_change(zone):
    tz = ZoneInfo(zone)
    text = LocalTimeText(tz).text
    for utc in instants():
        expected = exact(utc, tz)
        assert text(utc.isoformat(sep=" ")) == expected  # SQLite's stored text
        assert text(utc.isoformat(sep=" ", timespec="microseconds")) == expected
        assert text(utc.replace(tzinfo=ZoneInfo("Etc/UTC"))) == expected  # PostgreSQL
        assert text(utc.replace(tzinfo=dt.UTC).astimezone(tz)) == expected  # any session zone
    assert text(None) == ""


def raw_row(**cells: object) -> tuple[object, ...]:
    """A log row as `iter_log(csv_cells=True)` yields it, with plain values by default."""
    row = {
        "sterilizer": "AC-A", "number": 7, "cycle_type": "prevac_132_4",
        "started_at": "2026-10-05 13:00:00", "ended_at": "2026-10-05 13:20:00.250000",
        "operator": "Ana", "temperature_c": 132.5, "pressure_kpa": 205.0,
        "exposure_minutes": 4.0, "mechanical_ok": 1, "chemical_ok": None, "bi_lot": "LOT-7",
        "bi_result": "negative", "implants": 0, "status": "passed",
        "pack_count": 2, "pack_codes": "PK-000001 PK-000002",
        "pack_descriptions": "Exam kit; Suture set",
        "integrator": "pass", "bi_product": "RAPID-1H",
        "bi_read_at": None, "iuss_reason": None, "early_released_at": None, "site_id": 1,
    }  # fmt: skip
    row.update(cells)
    return tuple(row.values())


TRICKY_TEXT = (
    'Ana "the MA", RN',
    "line one\nline two",
    "carriage\rreturn",
    '=HYPERLINK("http://x")',
    "-2+3",
    "@SUM(A1)",
    "\ttabbed",
    "",
    "ü, naïve; ✓",
)


@pytest.mark.parametrize("site_column", [False, True])
def test_the_log_csv_quotes_and_defuses_free_text_exactly_as_the_csv_writer_does(site_column):
    chicago = ClinicTime(ZoneInfo("America/Chicago"))
    rows = [raw_row()]
    rows += [raw_row(operator=t, bi_lot=t, iuss_reason=t) for t in TRICKY_TEXT]
    rows += [
        raw_row(pack_count=1, pack_codes="PK-000009", pack_descriptions=t) for t in TRICKY_TEXT
    ]
    rows.append(raw_row(pack_count=0, pack_codes="", pack_descriptions="", operator=None,
                        temperature_c=None, bi_lot=None, bi_result=None, integrator=None,
                        bi_product=None, mechanical_ok=True, implants=False,
                        site_id=2))  # fmt: skip
    sites = {1: ("MAIN", chicago), 2: ("NORTH", ClinicTime(ZoneInfo("Asia/Kolkata")))}
    text = "".join(log_csv_lines([rows[:4], rows[4:]], chicago, sites, site_column=site_column))

    shift = 1 if site_column else 0
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert len(parsed) == len(rows)
    assert all(len(line) == len(LOG_COLUMNS) + shift for line in parsed)
    column = {name: i + shift for i, name in enumerate(LOG_COLUMNS)}
    for line, tricky in zip(parsed[1:], TRICKY_TEXT, strict=False):
        assert line[column["operator"]] == line[column["bi_lot"]] == defuse(tricky)
        assert line[column["iuss_reason"]] == defuse(tricky)
    assert [line[column["contents"]] for line in parsed[1 + len(TRICKY_TEXT) : -1]] == [
        defuse(t) for t in TRICKY_TEXT
    ]
    first, last = parsed[0], parsed[-1]
    assert first[column["started_at"]] == "2026-10-05T08:00:00-05:00"
    assert first[column["ended_at"]] == "2026-10-05T08:20:00-05:00"
    assert first[column["pack_count"]] == "2"
    assert first[column["pack_codes"]] == "PK-000001 PK-000002"
    assert first[column["contents"]] == "Exam kit; Suture set"
    assert first[column["mechanical_ok"]] == "true" and first[column["chemical_ok"]] == ""
    assert last[column["started_at"]] == "2026-10-05T18:30:00+05:30"  # the site's own zone
    assert last[column["pack_count"]] == "0" and last[column["pack_codes"]] == ""
    assert last[column["temperature_c"]] == "" and last[column["implants"]] == "false"
    if site_column:
        assert [line[0] for line in (first, last)] == ["MAIN", "NORTH"]

    # Line for line what the general writer makes of the same cells.
    general = csv_text(
        [line for line in csv.reader(io.StringIO(text, newline=""))],
        text_columns=(),
    )
    assert text == general


def test_log_readings_are_written_as_the_sterilizer_recorded_them_however_often_they_repeat():
    """The readings' texts are kept for speed; a kept text must never stand in for another
    value (0.0 and -0.0 are one key to a dict, NaN is never equal to itself)."""
    readings = [132.6, 132.6, 0.0, -0.0, -0.0, 0.0, None, 1e-07, float("nan"), 205.0, 132.6]
    rows = [raw_row(temperature_c=r, pressure_kpa=r, exposure_minutes=r) for r in readings]
    text = "".join(log_csv_lines([rows], ClinicTime(ZoneInfo("UTC"))))

    column = LOG_COLUMNS.index("temperature_c")
    written = [line[column : column + 3] for line in csv.reader(io.StringIO(text, newline=""))]
    expected = ["" if r is None else f"{r}" for r in readings]
    assert written == [[e, e, e] for e in expected]
    assert expected[2:6] == ["0.0", "-0.0", "-0.0", "0.0"]
