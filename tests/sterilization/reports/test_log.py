"""The sterilization log exports: CSV with exactly the spec's columns (parsed back with
pandas and compared with the database), streamed in batches; the printable PDF."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pandas as pd
import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select

from kernel.auth.models import Role
from kernel.clock import ClinicTime
from kernel.periods import Period
from sterilization.models import Cycle, Pack, Sterilizer
from sterilization.reports import log_export
from tests.sterilization.planted_record import CHICAGO, Record, at

# Copied from SPEC.md, Audit.
SPEC_LINE = (
    "sterilizer,cycle_number,cycle_type,started_at,ended_at,operator,temperature_c,"
    "pressure_kpa,exposure_minutes,mechanical_ok,chemical_ok,bi_lot,bi_result,implants,"
    "status,pack_count,pack_codes"
    # Second edition (SPEC section 7): appended.
    ",contents,integrator,bi_product,bi_read_at,iuss_reason,early_release"
)
SPEC_COLUMNS = SPEC_LINE.split(",")
DAY = dt.date(2026, 10, 5)  # a Monday, in daylight-saving time (UTC-05:00 in Chicago)


@pytest.fixture
def record(database):
    rec = Record(database)
    rec.sterilizer("AC-A", "steam_prevac")
    rec.sterilizer("AC-B", "steam_gravity")
    rec.cycle("AC-A", "bowie_dick", at(DAY, 7))
    first = rec.cycle(
        "AC-A", "prevac_132_4", at(DAY, 8), pack_codes=rec.packs(3, at(DAY, 6)), bi_lot="LOT-7"
    )
    rec.bi(first, "negative", at(DAY, 10))
    rec.cycle("AC-B", "gravity_121_30", at(DAY, 9), pack_codes=rec.packs(1, at(DAY, 6)))
    failed = rec.cycle("AC-B", "gravity_121_30", at(DAY, 11), temperature_c=118.0)
    rec.amend(failed, "temperature_c", 121.4, "Printer tape re-read: 121.4 °C", at(DAY, 15))
    rec.cycle("AC-A", "prevac_134_3", at(DAY + dt.timedelta(days=1), 8))  # next day
    return rec


def get_csv(client, users, role=Role.AUDITOR, **params):
    response = client.get(
        "/api/v1/sterilization/log.csv", params=params, headers=users.headers(role)
    )
    assert response.status_code == 200, response.text
    return response


def test_log_csv_has_exactly_the_spec_columns_and_matches_the_database(
    client, users, record, database
):
    response = get_csv(client, users, **{"from": str(DAY), "to": str(DAY)})
    assert response.headers["content-type"].startswith("text/csv")
    assert "content-length" not in response.headers  # streamed, not built in memory
    assert response.text.splitlines()[0] == ",".join(SPEC_COLUMNS)
    frame = pd.read_csv(io.StringIO(response.text), keep_default_na=False, dtype=str)
    assert list(frame.columns) == SPEC_COLUMNS
    with database.session(write=False) as s:
        rows = s.execute(
            select(Sterilizer.code, Cycle.number, Cycle.status, func.count(Pack.id))
            .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
            .outerjoin(Pack, Pack.cycle_id == Cycle.id)
            .where(Cycle.started_at >= at(DAY, 0), Cycle.started_at < at(DAY, 23, 59))
            .group_by(Sterilizer.code, Cycle.number, Cycle.status, Cycle.started_at)
            .order_by(Cycle.started_at)
        ).all()
    assert [(r[0], int(r[1]), r[2], int(r[3])) for r in rows] == [
        (s, int(n), st, int(c))
        for s, n, st, c in frame[["sterilizer", "cycle_number", "status", "pack_count"]].values
    ]
    assert len(frame) == 4  # the next day's cycle is outside the range

    load = frame[frame["bi_lot"] == "LOT-7"].iloc[0]
    assert load["started_at"] == f"{DAY}T08:00:00-05:00"
    assert load["ended_at"] == f"{DAY}T08:20:00-05:00"
    assert load["bi_result"] == "negative" and load["status"] == "passed"
    assert load["mechanical_ok"] == "true" and load["implants"] == "false"
    assert load["temperature_c"] == "132.5" and load["pressure_kpa"] == "205.0"
    assert load["pack_codes"].split() == sorted(load["pack_codes"].split())
    assert len(load["pack_codes"].split()) == 3
    assert load["contents"] == "Exam kit; Exam kit; Exam kit"  # what was in the load
    assert load["bi_product"] == "RAPID-1H" and load["bi_read_at"] == f"{DAY}T10:00:00-05:00"
    assert load["integrator"] == "" and load["iuss_reason"] == "" and load["early_release"] == ""
    failed = frame[frame["status"] == "failed"].iloc[0]
    assert failed["temperature_c"] == "118.0"  # the original; the amendment is shown in the PDF
    parsed = pd.read_csv(io.StringIO(response.text))
    assert (
        parsed["started_at"]
        .map(dt.datetime.fromisoformat)
        .map(lambda t: t.utcoffset())
        .eq(dt.timedelta(hours=-5))
        .all()
    )
    assert set(parsed["mechanical_ok"]) == {True}


def test_log_csv_filters_by_sterilizer_and_names_the_file_by_date(client, users, record):
    response = get_csv(
        client, users, sterilizer="AC-B", **{"from": "2026-10-01", "to": "2026-10-31"}
    )
    frame = pd.read_csv(io.StringIO(response.text))
    assert set(frame["sterilizer"]) == {"AC-B"} and len(frame) == 2
    assert (
        'filename="sterilization-log-AC-B-2026-10-01-to-2026-10-31.csv"'
        in response.headers["content-disposition"]
    )
    everything = pd.read_csv(io.StringIO(get_csv(client, users).text))
    assert len(everything) == 5
    unknown = client.get(
        "/api/v1/sterilization/log.csv",
        params={"sterilizer": "NOPE"},
        headers=users.headers(Role.AUDITOR),
    )
    assert unknown.status_code == 404


def test_free_text_in_the_log_csv_cannot_run_as_a_spreadsheet_formula(client, users, database):
    rec = Record(database)
    rec.sterilizer("AC-A", "steam_gravity")
    lots = ('=HYPERLINK("http://x")', "-2+3", "+1", "@SUM(A1)", "LOT-9")
    for i, lot in enumerate(lots):  # one cycle at a time: 40 minutes apart
        rec.cycle("AC-A", "gravity_121_30", at(DAY, 8) + dt.timedelta(minutes=40 * i), bi_lot=lot)
    frame = pd.read_csv(io.StringIO(get_csv(client, users).text), dtype=str)
    assert list(frame["bi_lot"]) == [
        '\'=HYPERLINK("http://x")',
        "'-2+3",
        "'+1",
        "'@SUM(A1)",
        "LOT-9",
    ]
    assert list(frame["temperature_c"]) == ["121.5"] * 5  # numbers stay numbers


def test_log_is_read_in_bounded_batches_whatever_the_range(database, record):
    """The export never holds more than one batch: the generator yields one chunk per batch
    and each batch is one bounded keyset query."""
    with database.session(write=False) as s:
        batches = list(log_export.iter_log(s, Period(), batch=2))
        assert [len(b) for b in batches] == [2, 2, 1]
        numbers = [(r.sterilizer, r.number) for b in batches for r in b]
        assert len(set(numbers)) == 5
        starts = [r.started_at for b in batches for r in b]
        assert starts == sorted(starts)
    chunks = list(log_export.log_csv_chunks(database, Period(), ClinicTime(CHICAGO), batch=2))
    assert len(chunks) == 4  # header + 3 batches
    assert sum(chunk.count("\r\n") for chunk in chunks) == 6


def test_cycles_started_at_the_same_instant_are_each_read_once_across_batches(database):
    """Two sterilizers started together: the keyset (start time, id) splits them over
    batches without losing or repeating one."""
    rec = Record(database)
    for code in ("AC-A", "AC-B", "AC-C"):
        rec.sterilizer(code, "steam_gravity")
    for hour in (8, 10):
        for code in ("AC-A", "AC-B", "AC-C"):
            rec.cycle(code, "gravity_121_30", at(DAY, hour))
    with database.session(write=False) as s:
        for size in (1, 2, 4):
            batches = list(log_export.iter_log(s, Period(), batch=size))
            rows = [(r.sterilizer, r.started_at) for b in batches for r in b]
            assert len(rows) == len(set(rows)) == 6, size


def pdf_text(content: bytes) -> tuple[int, str]:
    document = pdfium.PdfDocument(content)
    pages = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    return len(pages), "\n".join(pages)


def test_log_pdf_has_every_cycle_page_numbers_amendments_and_the_audit_head(client, users, record):
    headers = users.headers(Role.AUDITOR)
    response = client.get(
        "/api/v1/sterilization/log.pdf",
        params={"from": "2026-10-05", "to": "2026-10-06"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert pages == 2  # one section (page) per sterilizer
    assert "Page 1 of 2" in text and "Page 2 of 2" in text
    head = client.get("/api/v1/audit/verify", headers=headers).json()["head"]
    assert head in text.replace("\r", "").replace("\n", "")
    for cycle in record.cycles:
        assert f"#{cycle.number}" in text
    assert "AC-A - Autoclave AC-A (steam_prevac)" in text
    assert "Amended temperature_c: recorded 118.0 -> corrected 121.4" in text
    assert "Period: 2026-10-05 to 2026-10-06" in text
    assert "Generated:" in text and "LOT-7" in text and "negative" in text


def test_many_cycles_paginate_in_the_pdf(client, users, database):
    rec = Record(database)
    rec.sterilizer("AC-M", "steam_gravity")
    for i in range(45):
        rec.cycle("AC-M", "gravity_121_30", at(DAY, 6) + dt.timedelta(minutes=40 * i))
    response = client.get("/api/v1/sterilization/log.pdf", headers=users.headers(Role.AUDITOR))
    pages, text = pdf_text(response.content)
    assert pages >= 2 and f"Page {pages} of {pages}" in text
    assert all(f"#{n}" in text for n in range(1, 46))


@pytest.mark.parametrize("role", [Role.MA, Role.PURCHASING, Role.AUDITOR, Role.ADMIN])
def test_every_signed_in_role_reads_the_log_but_anonymous_does_not(client, users, role):
    for path in ("log.csv", "log.pdf", "compliance"):
        url = f"/api/v1/sterilization/{path}"
        assert client.get(url, headers=users.headers(role)).status_code == 200
        assert client.get(url).status_code == 401


def test_bad_log_parameters_are_refused(client, users):
    headers = users.headers(Role.AUDITOR)
    for params in (
        {"from": "not-a-date"},
        {"to": "2026-13-40"},
        {"from": "2026-10-05", "to": "2026-10-01"},
    ):
        for path in ("log.csv", "log.pdf"):
            response = client.get(f"/api/v1/sterilization/{path}", params=params, headers=headers)
            assert response.status_code == 422, (path, params, response.text)


def test_the_log_says_what_was_in_the_load_and_shows_invalid_tests_and_iuss(client, users, steri):
    ster = steri.sterilizer()
    kit = steri.packs(description="Suture kit")
    cycle = steri.run(ster["code"], kit, bi_lot="LOT-X")
    steri.bi(cycle["id"], "negative", control_grew=False, expect=201)
    [dropped] = steri.packs(description="Dropped forceps")
    iuss = steri.start(ster["code"], [dropped], cycle_type="flash_132_3")
    steri.complete(iuss, integrator="pass")
    frame = pd.read_csv(io.StringIO(get_csv(client, users).text), keep_default_na=False,
                        dtype=str)  # fmt: skip
    by_number = {int(r["cycle_number"]): r for _, r in frame.iterrows()}
    assert by_number[cycle["number"]]["contents"] == "Suture kit"
    assert by_number[cycle["number"]]["bi_result"] == "invalid"
    assert by_number[iuss["number"]]["iuss_reason"] == "instrument dropped during the procedure"
    assert by_number[iuss["number"]]["integrator"] == "pass"
    pdf = client.get("/api/v1/sterilization/log.pdf", headers=users.headers(Role.AUDITOR))
    _, text = pdf_text(pdf.content)
    assert "Contents: Suture kit" in text and "IUSS (immediate use)" in text


def test_an_export_stopped_early_ends_its_reading_thread_and_read_transaction(database, record):
    """A client that hangs up mid-download: the batch read ahead is dropped, the thread that
    read it ends and its read transaction is closed, before the response is gone."""
    # A batch a cycle: the read is surely midway (PostgreSQL: the stream still open).
    chunks = log_export.log_csv_chunks(database, Period(), ClinicTime(CHICAGO), batch=1)
    assert next(chunks).startswith("sterilizer,")
    assert next(chunks).count("\r\n") == 1
    assert any(t.name == "read-ahead" for t in threading.enumerate())
    chunks.close()
    assert not any(t.name == "read-ahead" for t in threading.enumerate())
    assert database.engine.pool.checkedout() == 0
