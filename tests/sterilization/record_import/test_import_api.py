"""`POST /api/v1/cycle-records` (SPEC section 8) with the real sample records: the serial
finds the sterilizer, a record matches a typed cycle or creates one, typed values are never
overwritten, the same bytes import once."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

from kernel.auth.models import Role
from kernel.clock import FixedClock
from sterilization.models import CycleLoad
from tests.sterilization.records.samples import tuttnauer

from .conftest import ELARA_SERIAL


def utc(*args: int) -> str:
    return dt.datetime(*args, tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


def same_instant(text: str, expected: str) -> bool:
    return dt.datetime.fromisoformat(text) == dt.datetime.fromisoformat(expected)


def clinic(app, *args: int) -> str:
    """A machine clock time placed in the clinic's zone, as UTC text."""
    at = dt.datetime(*args)
    return app.state.clock.zone.instant(at.date(), at.time()).isoformat()


def test_the_records_serial_number_finds_the_sterilizer(records, app):
    elara = records.elara()
    records.dac()
    answer = records.imported("cycle_000259.txt")
    assert answer["sterilizer"] == elara["code"]
    assert answer["cycle_number"] == 259
    assert answer["program"] == "WRAPPED INSTU (Customized)"
    assert answer["outcome"] == "passed"
    assert same_instant(answer["started_at"], clinic(app, 2017, 11, 21, 16, 23, 33))
    assert same_instant(answer["ended_at"], clinic(app, 2017, 11, 21, 17, 16, 44))
    assert answer["sha256"] == hashlib.sha256(tuttnauer("cycle_000259.txt")).hexdigest()
    assert answer["created"] is True


def test_a_record_from_an_unknown_serial_without_a_sterilizer_is_refused(records):
    records.dac()
    response = records.post("cycle_000259.txt")
    assert response.status_code == 422
    assert ELARA_SERIAL in response.json()["detail"]
    assert records.log() == []


def test_a_named_sterilizer_with_a_different_serial_is_refused(records):
    records.elara()
    dac = records.dac()
    response = records.post("cycle_000259.txt", sterilizer=dac["code"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sterilizer"
    assert records.log() == []


def test_a_named_sterilizer_with_the_records_serial_is_accepted(records):
    elara = records.elara()
    answer = records.imported("cycle_000259.txt", sterilizer=elara["code"])
    assert answer["sterilizer"] == "ELARA"


def test_unknown_content_is_refused_naming_the_formats_read(records):
    records.elara()
    response = records.post("notes.txt", b"Shopping list\nmilk\n")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "Tuttnauer Elara" in detail and "Sirona DAC" in detail
    binary = records.post("cycle_000259.cyc", tuttnauer("cycle_000259.cyc"))
    assert binary.status_code == 422
    assert "binary" in binary.json()["detail"]
    assert records.log() == []


def test_a_truncated_record_is_refused_and_nothing_is_written(records):
    records.elara()
    data = tuttnauer("cycle_000259.txt")
    response = records.post("cycle_000259.txt", data[: len(data) // 2])
    assert response.status_code == 422
    assert records.log() == []


def test_importing_the_same_bytes_again_creates_nothing(records):
    records.elara()
    first = records.imported("cycle_000259.txt")
    again = records.imported("cycle_000259.txt")
    assert again["created"] is False
    assert again["imported"] is False
    assert again["cycle_id"] == first["cycle_id"]
    assert len(records.log()) == 1
    assert len(records.cycle(first["cycle_id"])["attachments"]) == 1


def test_a_record_nobody_typed_creates_its_cycle_with_the_machines_readings(records, app):
    records.elara()
    answer = records.imported("cycle_000259.txt")
    cycle = records.cycle(answer["cycle_id"])
    assert cycle["cycle_type"] == "prevac_134_3"
    assert cycle["status"] == "passed"
    assert cycle["machine_cycle_number"] == 259
    assert cycle["packs"] == []
    assert same_instant(cycle["started_at"], clinic(app, 2017, 11, 21, 16, 23, 33))
    p = cycle["parameters"]
    assert (p["temperature_c"], p["pressure_kpa"], p["exposure_minutes"]) == (135.2, 212.9, 5.0)
    assert (cycle["temperature_max_c"], cycle["pressure_max_kpa"]) == (135.5, 217.2)
    assert p["mechanical_ok"] is True
    assert p["chemical_ok"] is None
    assert cycle["discrepancies"] == []
    assert [r["machine_cycle_number"] for r in cycle["machine_records"]] == [259]


def test_a_cycle_made_from_a_record_has_an_empty_load_list(records, database):
    records.elara()
    answer = records.imported("cycle_000259.txt")
    with database.session(write=False) as session:
        load = session.get(CycleLoad, answer["cycle_id"])
    assert load is not None
    assert (load.pack_count, load.pack_codes, load.pack_descriptions) == (0, "", "")


def test_imported_records_keep_the_machines_own_times_whatever_their_age(records, app):
    records.elara()
    answer = records.imported("cycle_000261.txt")
    cycle = records.cycle(answer["cycle_id"])
    assert same_instant(cycle["started_at"], clinic(app, 2017, 11, 22, 10, 8, 48))


def test_the_machine_clock_is_read_in_the_clinics_zone(records, app):
    app.state.clock = FixedClock(ZoneInfo("Europe/Berlin"), dt.datetime(2026, 12, 4, tzinfo=dt.UTC))
    records.elara()
    answer = records.imported("cycle_000259.txt")
    # 16:23:33 on 21 Nov 2017 in Berlin (CET, UTC+1)
    assert same_instant(answer["started_at"], utc(2017, 11, 21, 15, 23, 33))


def test_a_failed_record_fails_its_cycle_with_the_machines_reason(records):
    records.dac()
    answer = records.imported("zyklus-14-fehler-97.txt")
    cycle = records.cycle(answer["cycle_id"])
    assert cycle["status"] == "failed"
    assert cycle["parameters"]["failure_reasons"] == ["Error code 97", "Abbruch Sterilisation"]
    assert cycle["parameters"]["mechanical_ok"] is False


def test_a_cancelled_record_fails_its_cycle_with_cancelled_by_user(records):
    elara = records.elara()
    answer = records.imported("cycle_000429.txt")
    cycle = records.cycle(answer["cycle_id"])
    assert cycle["cycle_type"] == "leak_test"
    assert cycle["status"] == "failed"
    assert cycle["parameters"]["failure_reasons"] == ["Cancelled by user"]
    # A test the operator cancelled did not run: the sterilizer stays in service.
    sterilizers = records.steri.ok(records.steri.client.get("/api/v1/sterilizers",
                                                           headers=records.steri.ma))  # fmt: skip
    items = sterilizers["items"] if isinstance(sterilizers, dict) else sterilizers
    mine = next(s for s in items if s["code"] == elara["code"])
    assert mine["status"] == "in_service"


def test_a_bowie_dick_record_waits_for_the_sheet_read_by_a_person(records):
    records.elara()
    answer = records.imported("cycle_000260.txt")
    cycle = records.cycle(answer["cycle_id"])
    assert cycle["cycle_type"] == "bowie_dick"
    assert cycle["status"] == "running"
    assert cycle["parameters"] is None
    done = records.steri.complete(cycle, chemical_ok=True, temperature_c=135.2,
                                  exposure_minutes=3.5)  # fmt: skip
    assert done["status"] == "passed"
    assert done["discrepancies"] == []


def test_a_record_matches_the_typed_cycle_with_its_machine_cycle_number(records):
    elara = records.elara()
    body = {"sterilizer": elara["code"], "cycle_type": "prevac_132_4",
            "machine_cycle_number": 259}  # fmt: skip
    typed = records.steri.ok(records.steri.client.post("/api/v1/cycles", json=body,
                                                       headers=records.steri.ma), 201)  # fmt: skip
    records.steri.complete(typed, temperature_c=135.0, exposure_minutes=5.0, pressure_kpa=214)
    answer = records.imported("cycle_000259.txt")
    assert answer["cycle_id"] == typed["id"]
    assert answer["created"] is False
    assert answer["matched_by"] == "machine_cycle_number"
    # Typed as 132_4 on a 273.2 °F / 5 min program: compatible, no discrepancy there; the
    # start (typed now, recorded 2017) differs.
    assert [d["field"] for d in answer["discrepancies"]] == ["started_at"]
    assert len(records.log()) == 1


def test_a_typed_value_that_differs_is_listed_and_never_overwritten(records):
    elara = records.elara()
    body = {"sterilizer": elara["code"], "cycle_type": "prevac_134_3",
            "machine_cycle_number": 259}  # fmt: skip
    typed = records.steri.ok(records.steri.client.post("/api/v1/cycles", json=body,
                                                       headers=records.steri.ma), 201)  # fmt: skip
    records.steri.complete(typed, temperature_c=131.0, exposure_minutes=4.0, pressure_kpa=213)
    answer = records.imported("cycle_000259.txt")
    expected = [
        {"field": "temperature_c", "typed": 131.0, "recorded": 135.2},
        {"field": "exposure_minutes", "typed": 4.0, "recorded": 5.0},
    ]
    assert [d for d in answer["discrepancies"] if d["field"] != "started_at"] == expected
    cycle = records.cycle(typed["id"])
    assert cycle["parameters"]["temperature_c"] == 131.0
    assert cycle["parameters"]["exposure_minutes"] == 4.0
    assert [d for d in cycle["discrepancies"] if d["field"] != "started_at"] == expected


def test_a_record_matches_the_cycle_started_within_15_minutes(records, app):
    # The MA starts the load at the machine's 16:23:33 plus 10 minutes, typing no number.
    start = dt.datetime(2017, 11, 21, 16, 33, 33, tzinfo=dt.UTC)
    app.state.clock = FixedClock(ZoneInfo("UTC"), start)
    elara = records.elara()
    typed = records.steri.start(elara["code"], cycle_type="prevac_134_3")
    answer = records.imported("cycle_000259.txt")
    assert answer["cycle_id"] == typed["id"]
    assert answer["matched_by"] == "started_at"
    assert answer["discrepancies"] == []


def test_a_cycle_started_more_than_15_minutes_away_is_not_matched(records, app):
    start = dt.datetime(2017, 11, 21, 16, 39, 34, tzinfo=dt.UTC)
    app.state.clock = FixedClock(ZoneInfo("UTC"), start)
    elara = records.elara()
    typed = records.steri.start(elara["code"], cycle_type="prevac_134_3")
    answer = records.imported("cycle_000259.txt")
    assert answer["created"] is True
    assert answer["cycle_id"] != typed["id"]


def test_a_drying_only_program_creates_no_cycle_and_attaches_to_the_cycle_before_it(records):
    records.elara()
    before = records.imported("cycle_000341.txt")  # 18 Jan 2018, before the drying program
    drying = records.imported("cycle_000414.txt")  # 14 Mar 2018, Extra Drying Time
    assert drying["created"] is False
    assert drying["cycle_id"] == before["cycle_id"]
    assert drying["program"] == "Extra Drying Time"
    assert len(records.log()) == 1
    cycle = records.cycle(before["cycle_id"])
    assert [r["program_kind"] for r in cycle["machine_records"]] == ["load", "drying_only"]


def test_only_ma_and_admin_import_records(records):
    records.elara()
    auditor = records.steri.users.headers(Role.AUDITOR)
    assert records.post("cycle_000259.txt", headers=auditor).status_code == 403
    assert records.log() == []


def test_a_record_over_10_mb_is_refused(records):
    records.elara()
    response = records.post(
        "cycle_000259.txt", tuttnauer("cycle_000259.txt") + bytes(11 * 1024 * 1024)
    )
    assert response.status_code == 413
    assert records.log() == []


def test_the_log_pdf_lists_the_machine_record_its_discrepancies_and_attachments(records):
    from tests.sterilization.reports.test_log import pdf_text

    elara = records.elara()
    body = {"sterilizer": elara["code"], "cycle_type": "prevac_134_3",
            "machine_cycle_number": 259}  # fmt: skip
    typed = records.steri.ok(records.steri.client.post("/api/v1/cycles", json=body,
                                                       headers=records.steri.ma), 201)  # fmt: skip
    records.steri.complete(typed, temperature_c=131.0, exposure_minutes=5.0)
    records.imported("cycle_000259.txt")
    response = records.steri.client.get(
        "/api/v1/sterilization/log.pdf", headers=records.steri.users.headers(Role.AUDITOR)
    )
    assert response.status_code == 200
    _, text = pdf_text(response.content)
    flat = " ".join(text.split())
    assert "Machine record: WRAPPED INSTU (Customized), machine cycle 259, passed" in flat
    assert "Discrepancy temperature_c: typed 131.0, machine 135.2" in flat
    assert "Attached: cycle_000259.txt" in flat
