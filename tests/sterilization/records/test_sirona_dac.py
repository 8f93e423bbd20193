"""Sirona DAC Universal printer output: both real samples read value by value, then the
rules. Expected values are read off the files by hand: kPa gauge = (bar - 1.013) * 100."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from sterilization.records import MalformedRecord, SetPoint, parse_record
from tests.sterilization.records.samples import dac, shift_clock_times


def test_reads_every_value_of_the_passed_cycle() -> None:
    record = parse_record(dac("zyklus-13-ok.txt"), "zyklus-13-ok.txt")
    assert record.format == "sirona_dac_printer"
    assert (record.vendor, record.model, record.serial_number) == (
        "Sirona",
        "DAC Universal",
        "601362",
    )
    assert record.software_version is None
    assert record.machine_cycle_number == 13
    assert record.program == "Universal/134°C/3min"
    assert record.program_kind == "load"
    assert record.load_cycle_type == "prevac_134_3"
    assert record.compatible_load_cycle_types == ("prevac_134_3",)
    assert (record.set_temperature_c, record.set_exposure_minutes) == (134.0, 3.0)
    assert record.set_points == (SetPoint("Programm", "Universal/134°C/3min"),)
    # Dat.(T-M-J) 16-03-2016, Zeit(H-M-S) 00:53:20; Zyklusende 01:12:08 Ok
    assert record.started_at == datetime(2016, 3, 16, 0, 53, 20)
    assert record.ended_at == datetime(2016, 3, 16, 1, 12, 8)
    assert (record.outcome, record.failure_reasons) == ("passed", ())
    hold = record.hold
    assert hold is not None
    # Minimum 135.3 / Maximum 135.4 °C; Dauer (m-s) 03-11 = 191 s;
    # Minimum 3.17 bar → (3.17 - 1.013) * 100 = 215.7 kPa, Maximum 3.21 bar → 219.7 kPa
    assert (hold.temperature_min_c, hold.temperature_max_c) == (135.3, 135.4)
    assert hold.exposure_minutes == pytest.approx(191 / 60)
    assert (hold.pressure_min_kpa, hold.pressure_max_kpa) == (215.7, 219.7)
    assert len(record.samples) == 7
    assert record.pressure_readings == ()
    assert record.raw_text == dac("zyklus-13-ok.txt").decode("ascii")


def test_reads_every_value_of_the_failed_cycle() -> None:
    record = parse_record(dac("zyklus-14-fehler-97.txt"), "zyklus-14-fehler-97.txt")
    assert (record.vendor, record.model, record.serial_number) == (
        "Sirona",
        "DAC Universal",
        "601362",
    )
    assert record.machine_cycle_number == 14
    assert record.program == "Universal/134°C/3min"
    assert record.program_kind == "load"
    assert record.load_cycle_type == "prevac_134_3"
    # Dat.(T-M-J) 05-04-2016, Zeit(H-M-S) 21:58:02; Zyklusende 22:01:49 FEHL
    assert record.started_at == datetime(2016, 4, 5, 21, 58, 2)
    assert record.ended_at == datetime(2016, 4, 5, 22, 1, 49)
    assert record.outcome == "failed"
    assert record.failure_reasons == ("Error code 97", "Abbruch Sterilisation")
    assert record.hold is None  # it failed in Aussenreinigung, before the hold
    assert record.samples == ()


def test_absolute_bar_becomes_gauge_kpa() -> None:
    first = parse_record(dac("zyklus-13-ok.txt")).samples[0]
    # "01:05:30 135.3 3.18": (3.18 - 1.013) * 100 = 216.7 kPa gauge
    assert (first.phase, first.temperature_c, first.pressure_kpa) == (
        "sterilization",
        135.3,
        216.7,
    )


def test_sample_elapsed_counts_from_the_start() -> None:
    samples = parse_record(dac("zyklus-13-ok.txt")).samples
    # 00:53:20 → 01:05:30 = 12:10; 00:53:20 → 01:08:32 = 15:12
    assert samples[0].elapsed == timedelta(minutes=12, seconds=10)
    assert samples[-1].elapsed == timedelta(minutes=15, seconds=12)


def test_hold_extremes_include_the_machines_own_minimum_line() -> None:
    # The printed samples never go below 3.18 bar; the machine's Minimum line says 3.17.
    hold = parse_record(dac("zyklus-13-ok.txt")).hold
    assert hold is not None and hold.pressure_min_kpa == 215.7


def test_printer_question_mark_is_the_degree_sign() -> None:
    assert b"134?C" in dac("zyklus-13-ok.txt")
    assert parse_record(dac("zyklus-13-ok.txt")).program == "Universal/134°C/3min"


def test_exposure_falls_back_to_the_hold_phase_times_without_dauer() -> None:
    data = re.sub(rb"Dauer \(m-s\)[^\n]*\n", b"", dac("zyklus-13-ok.txt"))
    hold = parse_record(data).hold
    # Beginn Haltezeit 01:05:22 → Sterilisation 01:08:33 = 3:11, the same as Dauer
    assert hold is not None and hold.exposure_minutes == pytest.approx(191 / 60)


def test_error_code_printed_twice_is_one_reason() -> None:
    data = dac("zyklus-14-fehler-97.txt")
    assert data.count(b"Error code   97") == 2
    assert parse_record(data).failure_reasons.count("Error code 97") == 1


def test_a_failed_phase_without_an_error_code_is_its_reason() -> None:
    data = dac("zyklus-13-ok.txt").replace(
        b"Sterilisation      01:08:33 Ok  ", b"Sterilisation      01:08:33 FEHL"
    )
    record = parse_record(data)
    assert (record.outcome, record.failure_reasons) == ("failed", ("Sterilisation FEHL",))


def test_cycle_crossing_midnight_ends_next_day() -> None:
    # Cycle 13 moved an hour earlier: starts 23:53:20 on 16 March, ends 00:12:08 on the 17th.
    data = shift_clock_times(
        dac("zyklus-13-ok.txt"), timedelta(hours=-1), re.compile(rb".*\d\d:\d\d:\d\d")
    )
    assert b"Zeit(H-M-S) 23:53:20" in data and b"Zyklusende         00:12:08" in data
    record = parse_record(data)
    assert record.started_at == datetime(2016, 3, 16, 23, 53, 20)
    assert record.ended_at == datetime(2016, 3, 17, 0, 12, 8)
    assert record.samples[0].elapsed == timedelta(minutes=12, seconds=10)
    assert record.hold is not None and record.hold.exposure_minutes == pytest.approx(191 / 60)


def test_german_phase_names_with_umlauts_in_latin1_are_read() -> None:
    data = dac("zyklus-13-ok.txt").replace(
        b"Dichtheitspruefung", "Dichtheitsprüfung".encode("latin-1")
    )
    assert parse_record(data).outcome == "passed"


def test_a_printout_line_the_parser_does_not_know_is_refused() -> None:
    data = dac("zyklus-13-ok.txt").replace(b"Maximum ", b"Mittel  ")
    with pytest.raises(MalformedRecord, match="line 26"):
        parse_record(data)
