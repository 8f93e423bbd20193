"""The registry and everything a file can throw at it: encodings, line ends, binary files,
truncation and fuzzing. Whatever the bytes, the answer is a record or a RecordFormatError."""

from __future__ import annotations

import codecs
import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sterilization.records import (
    FORMATS,
    MachineRecord,
    MalformedRecord,
    RecordFormatError,
    UnknownRecordFormat,
    format_names,
    parse_record,
)
from tests.sterilization.records.samples import (
    ALL_SAMPLES,
    TUTTNAUER,
    dac,
    tuttnauer,
    verdict_end,
    without_text,
)

SAMPLE_BYTES = [path.read_bytes() for path in ALL_SAMPLES]
FORMATS_READ = "Tuttnauer Elara (USB .txt), Sirona DAC Universal (printer output)"


def sample_ids(path: Path) -> str:
    return path.name


def assert_consistent(record: MachineRecord) -> None:
    """What any record the parsers return must satisfy."""
    assert record.format in {f.id for f in FORMATS}
    assert record.serial_number and record.machine_cycle_number >= 0
    assert record.program
    assert record.program_kind in ("load", "bowie_dick", "leak_test", "drying_only")
    assert record.outcome in ("passed", "failed", "aborted")
    assert (record.outcome == "passed") == (not record.failure_reasons)
    assert timedelta(0) <= record.ended_at - record.started_at < timedelta(days=1)
    if record.program_kind != "load":
        assert record.load_cycle_type is None
    if record.hold is not None:
        assert record.hold.temperature_min_c <= record.hold.temperature_max_c
        assert record.hold.pressure_min_kpa <= record.hold.pressure_max_kpa
        assert record.hold.exposure_minutes >= 0


def parse_or_error(data: bytes) -> MachineRecord | RecordFormatError:
    try:
        record = parse_record(data)
    except RecordFormatError as error:
        assert str(error)
        return error
    assert_consistent(record)
    return record


# -- the registry ----------------------------------------------------------------------


def test_format_names_list_every_format_read() -> None:
    assert format_names() == FORMATS_READ
    assert len({f.id for f in FORMATS}) == len(FORMATS)


@pytest.mark.parametrize(
    "data",
    [b"", b"\n\n", b"hello", b"Date,Time,Temp\n2024-01-01,10:00,134\n", "Grüße\n".encode()],
)
def test_unknown_content_names_the_formats_read(data: bytes) -> None:
    with pytest.raises(UnknownRecordFormat) as raised:
        parse_record(data, "record.txt")
    assert FORMATS_READ in str(raised.value)


def test_binary_cyc_file_is_unknown_and_points_to_the_txt_beside_it() -> None:
    data = (TUTTNAUER / "cycle_000259.cyc").read_bytes()
    with pytest.raises(UnknownRecordFormat) as raised:
        parse_record(data, "cycle_000259.cyc")
    message = str(raised.value)
    assert message.startswith("a binary file")
    assert FORMATS_READ in message
    assert "cycle_NNNNNN.txt" in message
    with pytest.raises(UnknownRecordFormat):
        parse_record(data)


def test_malformed_record_is_a_record_format_error_with_its_reason() -> None:
    data = tuttnauer("cycle_000259.txt").replace(b"Cycle Num: 000259", b"Cycle Num: 25x")
    with pytest.raises(MalformedRecord) as raised:
        parse_record(data)
    assert isinstance(raised.value, RecordFormatError)
    assert raised.value.reason == "Cycle Num '25x' is not a number"


# -- encodings and line ends -----------------------------------------------------------


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_ids)
def test_crlf_line_ends_read_the_same(path: Path) -> None:
    data = path.read_bytes()
    crlf = data.replace(b"\n", b"\r\n")
    record = parse_record(crlf)
    assert without_text(record) == without_text(parse_record(data))
    assert record.raw_text == crlf.decode("utf-8")


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_ids)
def test_cr_only_line_ends_read_the_same(path: Path) -> None:
    data = path.read_bytes()
    assert without_text(parse_record(data.replace(b"\n", b"\r"))) == without_text(
        parse_record(data)
    )


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_ids)
def test_latin1_encoding_reads_the_same(path: Path) -> None:
    data = path.read_bytes()
    if path.parent.name == "sirona-dac-universal":
        data = data.replace(b"?C", "°C".encode())  # a capture tool that restored the °
    latin1 = data.decode("utf-8").encode("latin-1")
    assert b"\xb0" in latin1 and "°".encode() not in latin1  # really not UTF-8
    record = parse_record(latin1)
    assert without_text(record) == without_text(parse_record(path.read_bytes()))
    assert "°" in record.raw_text


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_ids)
def test_utf8_byte_order_mark_is_tolerated(path: Path) -> None:
    data = path.read_bytes()
    record = parse_record(codecs.BOM_UTF8 + data)
    assert record == parse_record(data)
    assert not record.raw_text.startswith("\ufeff")


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_ids)
def test_utf16_with_byte_order_mark_is_read(path: Path) -> None:
    data = path.read_bytes()
    assert parse_record(data.decode("utf-8").encode("utf-16")) == parse_record(data)


def test_dac_printout_with_a_real_degree_sign_reads_the_same() -> None:
    data = dac("zyklus-13-ok.txt")
    with_degree = data.replace(b"?C", "°C".encode())
    assert without_text(parse_record(with_degree)) == without_text(parse_record(data))


def test_utf8_degree_misread_as_latin1_is_still_a_degree() -> None:
    # One stray invalid byte sends the whole file to Latin-1, where UTF-8 ° reads as "Â°".
    data = tuttnauer("cycle_000259.txt").replace(b"Operator: ", b"Operator:\xff")
    record = parse_record(data)
    assert "Â°F" in record.raw_text
    assert without_text(record) == without_text(parse_record(tuttnauer("cycle_000259.txt")))


# -- truncation ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_SAMPLES, ids=sample_ids)
def test_truncated_records_never_read_as_something_else(path: Path) -> None:
    """Cut at every byte: before the verdict (Tuttnauer `Status:` and end `Time:`, DAC
    `Zyklusende`) is complete the cut file is refused; after it, it reads as the whole record
    or is refused, never as anything different."""
    data = path.read_bytes()
    whole = parse_record(data)
    verdict = verdict_end(data)
    read_after_verdict = 0
    for cut in range(len(data) + 1):
        result = parse_or_error(data[:cut])
        if cut < verdict:
            assert isinstance(result, RecordFormatError), f"cut at {cut} read as a record"
            continue
        if isinstance(result, MachineRecord):
            read_after_verdict += 1
            # a DAC printout cut inside its closing `Fehler!` block keeps fewer reasons
            assert set(result.failure_reasons) <= set(whole.failure_reasons)
            assert without_reasons(result) == without_reasons(whole)
    assert read_after_verdict > 0


def without_reasons(record: MachineRecord) -> MachineRecord:
    return dataclasses.replace(record, failure_reasons=(), raw_text="")


def test_a_record_cut_mid_line_is_refused() -> None:
    data = dac("zyklus-14-fehler-97.txt")
    cut = data[: data.rindex(b"97") + 1]  # "... Error code   9"
    with pytest.raises(MalformedRecord, match="cut off"):
        parse_record(cut)


def test_a_tuttnauer_record_without_status_is_refused_not_passed() -> None:
    data = tuttnauer("cycle_000259.txt")
    with pytest.raises(MalformedRecord, match="no Status line"):
        parse_record(data[: data.index(b"Status:")])


def test_a_dac_printout_without_zyklusende_is_refused_not_passed() -> None:
    data = dac("zyklus-13-ok.txt")
    with pytest.raises(MalformedRecord, match="no Zyklusende"):
        parse_record(data[: data.index(b"Zyklusende")])


# -- fuzzing ---------------------------------------------------------------------------

INTERESTING = [
    b"9",
    b"0",
    b":",
    b"-",
    b".",
    b" ",
    b"\n",
    b"\r",
    b"\x00",
    b"\xb0",
    b"\xc2",
    b"\xff",
    b"In",
    b"?",
    b"99999999999999999999",
    b"Status: Cycle Ended\n",
    b"Time: 23:59:59\n",
    b"CLK 1: 00:00:00\n",
    b"S 99:59:59 999.9 99.99\n",
    b"Cycle Error:\n",
    b"Zyklusende         23:59:59 Ok\n",
    b"Fehler!\n",
    b"Error code   99999\n",
    b"Dauer (m-s)        999-99\n",
    b"Dat.(T-M-J) 31-12-9999\n",
    b"Date: 31/DEC/9999\n",
]


@st.composite
def byte_mutations(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLE_BYTES)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["replace", "insert", "delete"]))
        if operation == "replace" and position < len(data):
            data[position] = draw(st.integers(0, 255))
        elif operation == "insert":
            data[position:position] = draw(
                st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=6))
            )
        else:
            del data[position : position + draw(st.integers(1, 40))]
    return bytes(data)


@st.composite
def line_mutations(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(SAMPLE_BYTES)).split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "swap", "digits", "insert"]))
        if operation == "delete" and len(lines) > 1:
            del lines[i]
        elif operation == "duplicate":
            lines.insert(i, lines[i])
        elif operation == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "digits":
            digit = draw(st.sampled_from(b"0123456789"))
            lines[i] = re.sub(rb"\d", bytes([digit]), lines[i], count=draw(st.integers(1, 3)))
        else:
            lines.insert(i, draw(st.sampled_from(INTERESTING)).rstrip(b"\n"))
    return b"\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_raise_only_record_format_errors(data: bytes) -> None:
    parse_or_error(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600).map(lambda text: ("Ser. Num: 1\n" + text).encode()))
def test_random_text_after_a_recognised_header_raises_only_record_format_errors(
    data: bytes,
) -> None:
    assert isinstance(parse_or_error(data), RecordFormatError)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(byte_mutations())
def test_mutated_samples_raise_only_record_format_errors(data: bytes) -> None:
    parse_or_error(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line_mutations())
def test_samples_with_lines_deleted_duplicated_or_swapped_raise_only_record_format_errors(
    data: bytes,
) -> None:
    parse_or_error(data)


@pytest.mark.parametrize(
    ("original", "replacement", "reason"),
    [
        (b"21/NOV/2017", b"31/FEB/2017", "not a date"),
        (b"21/NOV/2017", b"21/NOVEMBER/2017", "not like 21/NOV/2017"),
        (b"Time: 16:23:33", b"Time: 24:23:33", "not a time of day"),
        (b"CLK 1: 16:49:48", b"CLK 1: 16:69:48", "not a time of day"),
        (b"Cycle Num: 000259", b"Cycle Num: 1234567890123", "not a number"),
    ],
)
def test_an_impossible_date_time_or_number_is_refused(
    original: bytes, replacement: bytes, reason: str
) -> None:
    data = tuttnauer("cycle_000259.txt").replace(original, replacement)
    with pytest.raises(MalformedRecord, match=reason):
        parse_record(data)


def test_a_cycle_running_past_the_last_day_of_the_calendar_is_refused() -> None:
    data = dac("zyklus-14-fehler-97.txt").replace(b"05-04-2016", b"31-12-9999")
    data = data.replace(b"Zeit(H-M-S) 21:58:02", b"Zeit(H-M-S) 23:58:02")
    with pytest.raises(MalformedRecord, match="out of range"):
        parse_record(data)
