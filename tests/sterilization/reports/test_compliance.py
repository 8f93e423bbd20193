"""The compliance report finds exactly the gaps planted in a constructed month, and nothing
else; each rule also has its own small case."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from kernel.auth.models import Role
from sterilization.models import Pack
from tests.sterilization.planted_record import (
    EARLY_IMPLANT_DAY,
    FAILED_DAY,
    LATE_BOWIE_DICK_DAY,
    MONTH_FROM,
    MONTH_TO,
    NO_BI_WEEK,
    NO_BOWIE_DICK_DAY,
    Record,
    at,
    plant_month,
)
from tests.sterilization_factories import Sterilization

URL = "/api/v1/sterilization/compliance"


@pytest.fixture
def month(database):
    return plant_month(database)


def report(client, users, **params):
    response = client.get(URL, params=params, headers=users.headers(Role.AUDITOR))
    assert response.status_code == 200, response.text
    return response.json()


def by_code(body):
    return {s["code"]: s for s in body["sterilizers"]}


def test_the_planted_month_shows_exactly_its_gaps(client, users, month):
    body = report(client, users, **{"from": str(MONTH_FROM), "to": str(MONTH_TO)})
    assert body["from"] == "2026-10-05" and body["to"] == "2026-10-30"
    assert body["retention_years"] == 10 and len(body["audit_head"]) == 64
    prevac, grav = by_code(body)["PREVAC"], by_code(body)["GRAV"]

    assert [w["week"] for w in grav["weeks_without_bi"]] == [NO_BI_WEEK]
    assert grav["weeks_without_bi"][0]["week_start"] == "2026-10-12"
    assert prevac["weeks_without_bi"] == []

    days = [(d["date"], d["bowie_dick"]) for d in prevac["days_without_bowie_dick"]]
    assert days == [
        (str(NO_BOWIE_DICK_DAY), "none"),
        (str(LATE_BOWIE_DICK_DAY), "after the first load"),
    ]
    assert grav["days_without_bowie_dick"] == []  # gravity sterilizers need no air-removal test

    assert [p["code"] for p in prevac["implants_used_before_negative_bi"]] == [month.early_implant]
    early = prevac["implants_used_before_negative_bi"][0]
    # Released early on a passed integrator; its BI read negative the next morning.
    assert early["bi_result"] == "negative" and early["encounter_ref"] == "ENC-IMPLANT-EARLY"
    assert early["bi_read_at"].startswith(f"{EARLY_IMPLANT_DAY + dt.timedelta(days=1)}T07:30")
    [release] = prevac["early_releases"]
    assert release["packs"] == [month.early_implant] and release["integrator"] == "pass"
    assert release["reason"] == "emergency implant case" and release["bi_result"] == "negative"
    assert grav["implants_used_before_negative_bi"] == []
    assert prevac["bi_frequency"] == "weekly" and prevac["invalid_bi_tests"] == []

    [failed] = grav["failed_cycles"]
    assert failed["number"] == month.failed.number
    assert failed["started_at"].startswith(f"{FAILED_DAY}T11:00:00-05:00")
    assert "temperature 110 °C is below the 121 °C minimum" in failed["reasons"]
    assert failed["next_cycle"]["number"] == month.retest.number
    assert failed["next_passed_same_type"]["number"] == month.retest.number
    assert prevac["failed_cycles"] == []

    for s in (prevac, grav):
        assert s["positive_bis"] == []
        assert s["out_of_service"] == {"hours": 0.0, "periods": []}
    assert prevac["used_after_expiry"]["checked"] == len(month.used) + 2
    assert prevac["used_after_expiry"]["packs"] == []
    assert prevac["loads"] == 20 and grav["loads"] == 22
    assert prevac["bi_tests"] == 5 and grav["bi_tests"] == 3  # 4 Mondays + the implant load
    assert [g["period"] for g in grav["bi_gaps"]] == [NO_BI_WEEK] and prevac["bi_gaps"] == []


def test_week_without_a_bi_is_reported(client, users, database):
    plant_month(database, dt.date(2026, 10, 12), dt.date(2026, 10, 19))
    body = report(client, users, **{"from": "2026-10-12", "to": "2026-10-19"})
    assert [w["week"] for w in by_code(body)["GRAV"]["weeks_without_bi"]] == [NO_BI_WEEK]
    assert by_code(body)["GRAV"]["weeks_without_bi"][0]["loads"] == 5


def test_prevac_day_without_bowie_dick_is_reported(client, users, database):
    plant_month(database, NO_BOWIE_DICK_DAY, NO_BOWIE_DICK_DAY)
    body = report(client, users, **{"from": str(NO_BOWIE_DICK_DAY), "to": str(NO_BOWIE_DICK_DAY)})
    [day] = by_code(body)["PREVAC"]["days_without_bowie_dick"]
    assert day["date"] == str(NO_BOWIE_DICK_DAY) and day["loads"] == 1
    assert day["first_load_at"] == f"{NO_BOWIE_DICK_DAY}T08:00:00-05:00"


def test_implant_used_before_negative_bi_is_reported(client, users, database):
    month = plant_month(database, dt.date(2026, 10, 19), EARLY_IMPLANT_DAY)
    body = report(client, users, **{"from": str(EARLY_IMPLANT_DAY), "to": str(EARLY_IMPLANT_DAY)})
    found = by_code(body)["PREVAC"]["implants_used_before_negative_bi"]
    # The implant held for its BI and used after the negative read-out is not a finding.
    assert [p["code"] for p in found] == [month.early_implant]
    assert month.proper_implant not in str(body)


def test_pack_used_after_expiry_is_reported(client, users, database):
    month = plant_month(database, MONTH_FROM, MONTH_FROM + dt.timedelta(days=1))
    # Packs cannot be used after expiry through the API, so the check is proven on a record
    # changed behind the system's back (as an import from an old binder could).
    with database.session() as s:
        # Used on its expiry day (fine) and the day after its expiry (a finding).
        s.execute(update(Pack).where(Pack.code.in_(month.used[:2])).values(expires_on=MONTH_FROM))
    body = report(client, users, **{"from": str(MONTH_FROM), "to": str(MONTH_TO)})
    check = by_code(body)["PREVAC"]["used_after_expiry"]
    assert [p["code"] for p in check["packs"]] == [month.used[1]]
    assert check["packs"][0]["expires_on"] == str(MONTH_FROM)


def test_positive_bi_is_reported_with_its_recall_and_resolution(client, users):
    steri = Sterilization(client, users)
    ster = steri.sterilizer()
    codes = steri.packs(2)
    cycle = steri.run(ster["code"], codes, bi_lot="LOT-9")
    assert steri.use(codes[0], "ENC-TRACE").status_code == 200
    steri.bi(cycle["id"], "positive")
    [recall] = client.get("/api/v1/recalls", headers=steri.admin).json()["items"]
    resolved = client.post(
        f"/api/v1/recalls/{recall['id']}/resolve",
        json={"resolution": "confirmed", "reason": "Second BI also positive; packs reprocessed"},
        headers=steri.admin,
    )
    assert resolved.status_code == 200, resolved.text
    steri.requalify(ster)
    back = client.patch(
        f"/api/v1/sterilizers/{ster['code']}",
        json={"status": "in_service", "reason": "repaired, three negative BIs"},
        headers=steri.admin,
    )
    assert back.status_code == 200, back.text
    found = by_code(report(client, users))[ster["code"]]
    [positive] = found["positive_bis"]
    assert positive["cycle_number"] == cycle["number"] and positive["lot"] == "LOT-9"
    assert positive["recall"]["status"] == "confirmed"
    assert positive["recall"]["pack_count"] == 2 and positive["recall"]["used_pack_count"] == 1
    assert positive["recall"]["resolution_reason"].startswith("Second BI")
    [failed] = found["failed_cycles"]
    assert failed["reasons"] == ["positive spore test (BI)"]
    period = found["out_of_service"]["periods"][0]
    assert period["reason"] == f"positive spore test (BI) on cycle {cycle['number']}"
    assert period["end"] is not None and found["out_of_service"]["hours"] >= 0


def test_time_out_of_service_comes_from_the_status_history(client, users):
    steri = Sterilization(client, users)
    ster = steri.sterilizer()
    out = client.patch(
        f"/api/v1/sterilizers/{ster['code']}",
        json={"status": "out_of_service", "reason": "door gasket replaced"},
        headers=steri.admin,
    )
    assert out.status_code == 200
    found = by_code(report(client, users))[ster["code"]]
    [period] = found["out_of_service"]["periods"]
    assert period["reason"] == "door gasket replaced" and period["end"] is None
    # Before the change it was in service: nothing counted before today.
    earlier = report(client, users, **{"from": "2026-01-01", "to": "2026-01-31"})
    assert by_code(earlier)[ster["code"]]["out_of_service"] == {"hours": 0.0, "periods": []}


def test_a_clean_record_has_no_findings(client, users, database):
    rec = Record(database)
    rec.sterilizer("CLEAN", "steam_prevac")
    day = dt.date(2026, 9, 7)  # a Monday
    rec.cycle("CLEAN", "bowie_dick", at(day, 7))
    cycle = rec.cycle("CLEAN", "prevac_134_3", at(day, 8), pack_codes=rec.packs(3, at(day, 6)),
                      bi_lot="LOT-C")  # fmt: skip
    rec.bi(cycle, "negative", at(day, 9, 30))
    s = by_code(report(client, users, **{"from": str(day), "to": str(day)}))["CLEAN"]
    assert s["loads"] == 1 and s["bi_tests"] == 1
    for finding in (
        "weeks_without_bi",
        "days_without_bowie_dick",
        "failed_cycles",
        "positive_bis",
        "implants_used_before_negative_bi",
    ):
        assert s[finding] == [], finding


def test_bad_periods_are_refused_with_a_clear_problem(client, users):
    headers = users.headers(Role.AUDITOR)
    for params in ({"from": "yesterday"}, {"from": "2026-10-10", "to": "2026-10-01"}):
        response = client.get(URL, params=params, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
