"""Tuttnauer Elara USB text files: every real sample read value by value, then the rules.

Expected values are read off the files by hand: °C = (°F - 32) * 5/9, kPa = psig * 6.895,
inHg vacuum → -inHg * 3.38639 kPa; hold extremes are over the S rows, rounded to 0.1.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from sterilization.records import (
    Hold,
    MachineRecord,
    MalformedRecord,
    PressureReading,
    SetPoint,
    parse_record,
)
from tests.sterilization.records.samples import TUTTNAUER_FILES, shift_clock_times, tuttnauer

SERIAL = "16032087"
WRAPPED = "WRAPPED INSTU (Customized)"
PREVAC_BOTH = ("prevac_132_4", "prevac_134_3")

# file: (cycle, program, kind, load type, compatible types, started, ended, outcome,
#        reasons, hold, number of sample rows)
EXPECTED = {
    "cycle_000259.txt": (
        259, WRAPPED, "load", "prevac_134_3", PREVAC_BOTH,
        datetime(2017, 11, 21, 16, 23, 33), datetime(2017, 11, 21, 17, 16, 44),
        "passed", (),
        # S 275.4..275.9 °F → 135.2..135.5 °C; 30.88..31.50 psig → 212.9..217.2 kPa;
        # CLK 1 16:49:48→16:54:49 (301 s), CLK 2 16:49:48→16:54:48 (300 s): the shorter.
        Hold(135.2, 135.5, 5.0, 212.9, 217.2),
        37,
    ),
    "cycle_000260.txt": (
        260, "Bowie and Dick", "bowie_dick", None, (),
        datetime(2017, 11, 22, 9, 6, 6), datetime(2017, 11, 22, 9, 43, 27),
        "passed", (),
        # S 275.4..275.9 °F; 30.85..31.56 psig → 212.7..217.6; CLK 09:35:56→09:39:26 = 3.5 min
        Hold(135.2, 135.5, 3.5, 212.7, 217.6),
        29,
    ),
    "cycle_000261.txt": (
        261, WRAPPED, "load", "prevac_134_3", PREVAC_BOTH,
        datetime(2017, 11, 22, 10, 8, 48), datetime(2017, 11, 22, 11, 4, 5),
        "passed", (),
        # S 275.4..276.1 °F → 135.2..135.6; 30.91..31.43 psig → 213.1..216.7; 300 s
        Hold(135.2, 135.6, 5.0, 213.1, 216.7),
        38,
    ),
    "cycle_000262.txt": (
        262, WRAPPED, "load", "prevac_134_3", PREVAC_BOTH,
        datetime(2017, 11, 22, 11, 48, 4), datetime(2017, 11, 22, 12, 43, 38),
        "passed", (),
        # S 275.5..276.1 °F → 135.3..135.6; 30.93..31.27 psig → 213.3..215.6;
        # both clocks 12:16:36→12:21:37 = 301 s
        Hold(135.3, 135.6, 301 / 60, 213.3, 215.6),
        38,
    ),
    "cycle_000263.txt": (
        263, WRAPPED, "load", "prevac_134_3", PREVAC_BOTH,
        datetime(2017, 11, 22, 14, 15, 54), datetime(2017, 11, 22, 15, 10, 49),
        "passed", (),
        # S 275.7..276.3 °F → 135.4..135.7; 30.88..31.54 psig → 212.9..217.5; 300 s
        Hold(135.4, 135.7, 5.0, 212.9, 217.5),
        38,
    ),
    "cycle_000264.txt": (
        264, "Bowie and Dick", "bowie_dick", None, (),
        datetime(2017, 11, 27, 10, 48, 35), datetime(2017, 11, 27, 11, 27, 44),
        "passed", (),
        # S 275.5..276.3 °F → 135.3..135.7; 30.86..31.41 psig → 212.8..216.6;
        # clocks 11:20:12→11:23:43 = 211 s (the rows say 210 s)
        Hold(135.3, 135.7, 211 / 60, 212.8, 216.6),
        30,
    ),
    "cycle_000341.txt": (
        341, WRAPPED, "load", "prevac_134_3", PREVAC_BOTH,
        datetime(2018, 1, 18, 11, 9, 57), datetime(2018, 1, 18, 11, 23, 20),
        "failed", ("Cycle Failed",),
        None,  # failed during air removal: no S rows
        12,
    ),
    "cycle_000414.txt": (
        414, "Extra Drying Time", "drying_only", None, (),
        datetime(2018, 3, 14, 14, 56, 17), datetime(2018, 3, 14, 15, 1, 59),
        "passed", (),
        None,
        5,
    ),
    "cycle_000428.txt": (
        428, "Bowie and Dick", "bowie_dick", None, (),
        datetime(2018, 3, 26, 16, 0, 43), datetime(2018, 3, 26, 16, 10, 51),
        "aborted", ("Cancelled by user",),
        None,
        15,
    ),
    "cycle_000429.txt": (
        429, "Vacuum Test", "leak_test", None, (),
        datetime(2018, 3, 26, 16, 13, 38), datetime(2018, 3, 26, 16, 24, 41),
        "aborted", ("Cancelled by user",),
        None,
        14,
    ),
}  # fmt: skip


def read(name: str) -> MachineRecord:
    return parse_record(tuttnauer(name), name)


def test_every_tuttnauer_sample_has_expected_values() -> None:
    assert sorted(EXPECTED) == TUTTNAUER_FILES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reads_every_value_of_the_sample(name: str) -> None:
    (cycle, program, kind, load_type, compatible, started, ended, outcome, reasons, hold, rows) = (
        EXPECTED[name]
    )
    record = read(name)
    assert record.format == "tuttnauer_elara_txt"
    assert (record.vendor, record.model, record.serial_number) == ("Tuttnauer", "ELARA11", SERIAL)
    assert record.software_version == "2.0.3.98"
    assert record.machine_cycle_number == cycle
    assert record.program == program
    assert record.program_kind == kind
    assert record.load_cycle_type == load_type
    assert record.compatible_load_cycle_types == compatible
    assert (record.started_at, record.ended_at) == (started, ended)
    assert record.started_at.tzinfo is None and record.ended_at.tzinfo is None
    assert record.outcome == outcome
    assert record.failure_reasons == reasons
    if hold is None:
        assert record.hold is None
    else:
        assert record.hold is not None
        assert record.hold.temperature_min_c == hold.temperature_min_c
        assert record.hold.temperature_max_c == hold.temperature_max_c
        assert record.hold.exposure_minutes == pytest.approx(hold.exposure_minutes)
        assert record.hold.pressure_min_kpa == hold.pressure_min_kpa
        assert record.hold.pressure_max_kpa == hold.pressure_max_kpa
    assert len(record.samples) == rows
    assert record.raw_text == tuttnauer(name).decode("utf-8")


def test_set_points_are_kept_as_printed() -> None:
    assert read("cycle_000259.txt").set_points == (
        SetPoint("Ster. Temp.", "273.2 °F"),
        SetPoint("Ster. Time", "5.0 min*"),
        SetPoint("Dry Time", "20 min"),
        SetPoint("End Temperature", "248 °F"),
    )
    assert read("cycle_000429.txt").set_points == (
        SetPoint("Vac. Pres.", "2.18 Psia"),
        SetPoint("Vac. Time1", "5 min"),
        SetPoint("Vac. Time2", "10 min"),
        SetPoint("End Temperature", "248 °F"),
    )


def test_sterilization_set_point_is_converted_to_celsius() -> None:
    wrapped = read("cycle_000259.txt")
    # 273.2 °F = (273.2 - 32) * 5/9 = 134.0 °C; "5.0 min*" (the * marks a customised value)
    assert (wrapped.set_temperature_c, wrapped.set_exposure_minutes) == (134.0, 5.0)
    bowie_dick = read("cycle_000260.txt")
    assert (bowie_dick.set_temperature_c, bowie_dick.set_exposure_minutes) == (134.0, 3.5)


def test_programs_without_a_sterilization_set_point_have_none() -> None:
    for name in ("cycle_000414.txt", "cycle_000429.txt"):
        record = read(name)
        assert (record.set_temperature_c, record.set_exposure_minutes) == (None, None)


def test_fahrenheit_readings_become_celsius() -> None:
    first = read("cycle_000259.txt").samples[0]
    # "A 00:00:07 138.2 00.55": (138.2 - 32) * 5/9 = 59.0 °C
    assert first.temperature_c == 59.0


def test_psig_becomes_gauge_kpa() -> None:
    first = read("cycle_000259.txt").samples[0]
    # 0.55 psig * 6.895 = 3.79225 kPa
    assert first.pressure_kpa == 3.79


def test_inhg_vacuum_becomes_negative_gauge_kpa() -> None:
    third = read("cycle_000259.txt").samples[2]
    # "A 00:03:08 149.0 24.78In": -24.78 * 3.38639 = -83.9147 kPa, (149 - 32) * 5/9 = 65.0 °C
    assert (third.phase, third.elapsed, third.temperature_c) == (
        "air_removal",
        timedelta(minutes=3, seconds=8),
        65.0,
    )
    assert third.pressure_kpa == -83.91


def test_phase_letters_become_phase_names() -> None:
    phases = [sample.phase for sample in read("cycle_000259.txt").samples]
    assert phases == (
        ["air_removal"] * 13
        + ["heating"] * 5
        + ["sterilization"] * 7
        + ["exhaust"] * 2
        + ["drying"] * 8
        + ["end"] * 2
    )
    assert {sample.phase for sample in read("cycle_000429.txt").samples} == {"vacuum_test", "end"}


def test_last_row_elapsed_matches_the_end_clock() -> None:
    record = read("cycle_000259.txt")
    # "  00:53:11 189.5 00.97In": 16:23:33 + 53:11 = 17:16:44, the end Time
    last = record.samples[-1]
    assert (last.elapsed, last.temperature_c, last.pressure_kpa) == (
        timedelta(minutes=53, seconds=11),
        87.5,
        -3.28,
    )
    assert record.started_at + last.elapsed == record.ended_at


def test_exposure_is_the_shorter_of_the_two_clocks_framing_the_hold() -> None:
    # CLK 1 says 301 s, CLK 2 says 300 s: never claim more exposure than either clock saw.
    hold = read("cycle_000259.txt").hold
    assert hold is not None and hold.exposure_minutes == 5.0


def test_exposure_counts_the_clock_seconds_not_the_rows() -> None:
    # S rows 00:31:38 → 00:35:08 (210 s) but both clocks 11:20:12 → 11:23:43 (211 s)
    hold = read("cycle_000264.txt").hold
    assert hold is not None and hold.exposure_minutes == pytest.approx(211 / 60)


def test_exposure_falls_back_to_row_elapsed_times_without_clock_lines() -> None:
    data = re.sub(rb"CLK \d: [^\n]*\n", b"", tuttnauer("cycle_000264.txt"))
    hold = parse_record(data).hold
    assert hold is not None and hold.exposure_minutes == 3.5  # 00:31:38 → 00:35:08


def test_cycle_crossing_midnight_ends_next_day() -> None:
    # Cycle 259 moved 7:08:12 later: starts 23:31:45, hold 23:58:00 → 00:03:00, ends 00:24:56.
    data = shift_clock_times(
        tuttnauer("cycle_000259.txt"),
        timedelta(hours=7, minutes=8, seconds=12),
        re.compile(rb"Time:|CLK"),
    )
    assert b"CLK 1: 23:58:00" in data and b"CLK 2: 00:03:00" in data
    record = parse_record(data)
    assert record.started_at == datetime(2017, 11, 21, 23, 31, 45)
    assert record.ended_at == datetime(2017, 11, 22, 0, 24, 56)
    assert record.hold is not None and record.hold.exposure_minutes == 5.0


def test_a_cancelled_test_is_aborted_with_the_machines_reason() -> None:
    record = read("cycle_000428.txt")
    assert (record.outcome, record.failure_reasons) == ("aborted", ("Cancelled by user",))


def test_a_failed_cycle_without_a_printed_reason_gives_its_status() -> None:
    record = read("cycle_000341.txt")
    assert (record.outcome, record.failure_reasons) == ("failed", ("Cycle Failed",))


def test_elapsed_times_restarting_after_an_abort_are_kept_as_printed() -> None:
    samples = read("cycle_000341.txt").samples
    # "A 00:04:46 ..." then "E 00:00:04 177.6 15.12In": the machine restarted its counter
    assert (samples[5].elapsed, samples[6].phase, samples[6].elapsed) == (
        timedelta(minutes=4, seconds=46),
        "exhaust",
        timedelta(seconds=4),
    )


def test_a_cycle_error_outweighs_an_ended_status() -> None:
    data = tuttnauer("cycle_000341.txt").replace(b"Cycle Failed", b"Cycle Ended")
    data = data.replace(b"E 00:00:04", b"Cycle Error:\nLow water\nE 00:00:04")
    record = parse_record(data)
    assert (record.outcome, record.failure_reasons) == ("failed", ("Low water",))


def test_drying_only_program_sterilizes_nothing() -> None:
    record = read("cycle_000414.txt")
    assert (record.program_kind, record.outcome, record.hold, record.load_cycle_type) == (
        "drying_only",
        "passed",
        None,
        None,
    )
    assert {sample.phase for sample in record.samples} == {"drying", "end"}


def test_bowie_dick_test_keeps_its_hold() -> None:
    record = read("cycle_000260.txt")
    assert record.program_kind == "bowie_dick" and record.load_cycle_type is None
    assert record.hold is not None and record.hold.exposure_minutes == 3.5


def test_vacuum_test_readings_are_negative_gauge_kpa() -> None:
    record = read("cycle_000429.txt")
    assert record.hold is None
    # P1 -25.337 * 3.38639 = -85.801, P2 -23.654 * 3.38639 = -80.102, P3 -79.600
    assert record.pressure_readings == (
        PressureReading("P1", -85.8, "25.337 (inHg)"),
        PressureReading("P2", -80.1, "23.654 (inHg)"),
        PressureReading("P3", -79.6, "23.506 (inHg)"),
    )


def test_load_with_vacuum_pulses_is_prevac() -> None:
    # 273.2 °F = 134.0 °C for 5 min meets both pre-vacuum types; 134 °C is the nearer one.
    record = read("cycle_000259.txt")
    assert record.load_cycle_type == "prevac_134_3"
    assert record.compatible_load_cycle_types == PREVAC_BOTH


def test_load_reaching_its_hold_without_vacuum_pulses_is_gravity() -> None:
    data = re.sub(rb"\nA [^\n]*", b"", tuttnauer("cycle_000259.txt"))
    record = parse_record(data)
    # a gravity cycle at 134 °C for 5 min meets neither gravity type (121/30, 132/15)
    assert (record.load_cycle_type, record.compatible_load_cycle_types) == (None, ())
    data = data.replace(b"Ster. Time 5.0 min*", b"Ster. Time 15.0 min*")
    assert parse_record(data).load_cycle_type == "gravity_132_15"


def test_a_record_in_celsius_is_not_converted() -> None:
    data = tuttnauer("cycle_000259.txt").replace("°F".encode(), "°C".encode())
    record = parse_record(data)
    assert record.set_temperature_c == 273.2
    assert record.hold is not None and record.hold.temperature_min_c == 275.4


def test_a_status_the_parser_does_not_know_is_refused() -> None:
    data = tuttnauer("cycle_000259.txt").replace(b"Cycle Ended", b"Cycle Paused")
    with pytest.raises(MalformedRecord, match="Cycle Paused"):
        parse_record(data)
