"""BI products and read times, invalid tests as records, implant loads and early
release (SPEC section 7), each rule as an infection-control lead would try it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from kernel.clock import FixedClock
from sterilization.models import BiResult, InvalidBiTest

CHICAGO = ZoneInfo("America/Chicago")
NOW = dt.datetime(2026, 12, 3, 15, 0, tzinfo=CHICAGO)


@pytest.fixture
def clock(client) -> FixedClock:
    client.app.state.clock = FixedClock(CHICAGO, NOW)
    return client.app.state.clock


def post_bi(steri, client, cycle_id: int, **body):
    return client.post(
        f"/api/v1/cycles/{cycle_id}/bi-result",
        json={"result": "negative", "control_grew": True, **body},
        headers=steri.ma,
    )


def product(steri, client, code="ATTEST-1292", minutes=180, **extra):
    body = {"code": code, "name": "3M Attest 1292 rapid", "min_incubation_minutes": minutes,
            "manufacturer": "3M", **extra}  # fmt: skip
    return client.post("/api/v1/bi-products", json=body, headers=steri.admin)


# BI products --------------------------------------------------------------------------


def test_bi_products_are_added_by_an_admin_and_read_by_everyone(steri, client, users):
    assert product(steri, client).status_code == 201
    assert (
        client.post(
            "/api/v1/bi-products",
            json={"code": "X", "name": "X", "min_incubation_minutes": 60},
            headers=steri.ma,
        ).status_code
        == 403
    )
    listed = steri.ok(client.get("/api/v1/bi-products", headers=steri.ma))["items"]
    assert {p["code"]: p["min_incubation_minutes"] for p in listed} == {
        "ATTEST-1292": 180,
        "DEFAULT": 1440,
    }
    one = steri.ok(client.get("/api/v1/bi-products/ATTEST-1292", headers=steri.ma))
    assert one["manufacturer"] == "3M"
    assert product(steri, client).status_code == 409
    assert product(steri, client, code="Z", minutes=0).status_code in (400, 422)
    assert client.get("/api/v1/bi-products/NOPE", headers=steri.ma).status_code == 404


def test_the_default_bi_product_incubates_1440_minutes_and_is_used_when_a_cycle_names_none(
    steri, client
):
    cycle = steri.run(steri.sterilizer()["code"], bi_lot="LOT-1")
    assert cycle["bi_product"] == "DEFAULT"
    ended = dt.datetime.fromisoformat(cycle["ended_at"])
    assert dt.datetime.fromisoformat(cycle["earliest_bi_read_at"]) == ended + dt.timedelta(
        minutes=1440
    )


def test_an_unknown_bi_product_is_refused_naming_the_field(steri, client):
    ster = steri.sterilizer()
    body = {"sterilizer": ster["code"], "cycle_type": "gravity_121_30", "packs": [],
            "bi_lot": "LOT-1", "bi_product": "NOPE"}  # fmt: skip
    refused = client.post("/api/v1/cycles", json=body, headers=steri.ma)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "bi_product"
    no_lot = client.post("/api/v1/cycles", json={**body, "bi_lot": None, "bi_product": "DEFAULT"},
                         headers=steri.ma)  # fmt: skip
    assert no_lot.status_code == 422 and no_lot.json()["errors"][0]["field"] == "bi_lot"
    assert steri.ok(client.get("/api/v1/cycles", headers=steri.ma))["total"] == 0


# Read times ---------------------------------------------------------------------------


def test_bi_read_before_minimum_incubation_is_refused_with_earliest_time(steri, client, clock):
    product(steri, client, minutes=180)
    ster = steri.sterilizer()
    start = {"sterilizer": ster["code"], "cycle_type": "gravity_121_30", "packs": [],
             "bi_lot": "LOT-3", "bi_product": "ATTEST-1292"}  # fmt: skip
    cycle = steri.ok(client.post("/api/v1/cycles", json=start, headers=steri.ma), 201)
    clock.advance(dt.timedelta(minutes=40))
    steri.complete(cycle, ended_at=(NOW + dt.timedelta(minutes=40)).isoformat())
    clock.advance(dt.timedelta(minutes=60))
    early = post_bi(steri, client, cycle["id"])
    assert early.status_code == 409
    assert early.json()["earliest_read_at"] == "2026-12-04T00:40:00+00:00"  # end + 180 min
    assert "read it at 2026-12-03 18:40 or later" in early.json()["detail"]
    with steri_db_counts(client) as counts:
        assert counts() == (0, 0)
    # A read time given explicitly counts too; at the earliest time it is accepted.
    late_read = (NOW + dt.timedelta(minutes=219)).isoformat()
    clock.advance(dt.timedelta(hours=3))
    assert post_bi(steri, client, cycle["id"], read_at=late_read).status_code == 409
    ok = post_bi(steri, client, cycle["id"], read_at=(NOW + dt.timedelta(minutes=220)).isoformat())
    assert ok.status_code == 200, ok.text
    assert ok.json()["bi"]["read_at"] == "2026-12-04T00:40:00Z"
    assert ok.json()["bi"]["incubation_started_at"] == "2026-12-03T21:40:00Z"
    assert ok.json()["bi"]["bi_product"] == "ATTEST-1292"


def test_incubation_counts_from_the_time_given(steri, client, clock):
    product(steri, client, minutes=60)
    ster = steri.sterilizer()
    start = {"sterilizer": ster["code"], "cycle_type": "gravity_121_30", "packs": [],
             "bi_lot": "LOT-4", "bi_product": "ATTEST-1292"}  # fmt: skip
    cycle = steri.ok(client.post("/api/v1/cycles", json=start, headers=steri.ma), 201)
    clock.advance(dt.timedelta(minutes=40))
    steri.complete(cycle, ended_at=(NOW + dt.timedelta(minutes=40)).isoformat())
    clock.advance(dt.timedelta(minutes=100))
    incubated = (NOW + dt.timedelta(minutes=90)).isoformat()  # put in the incubator later
    early = post_bi(steri, client, cycle["id"], incubation_started_at=incubated)
    assert early.status_code == 409 and "2026-12-03 17:30" in early.json()["detail"]
    future = post_bi(steri, client, cycle["id"], read_at=(NOW + dt.timedelta(days=1)).isoformat())
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "read_at"


class steri_db_counts:
    """(valid results, invalid tests) in the database of the test client's app."""

    def __init__(self, client) -> None:
        self.database = client.app.state.db

    def __enter__(self):
        def counts() -> tuple[int, int]:
            with self.database.session(write=False) as s:
                return (
                    s.scalar(select(func.count()).select_from(BiResult)) or 0,
                    s.scalar(select(func.count()).select_from(InvalidBiTest)) or 0,
                )

        return counts

    def __exit__(self, *exc: object) -> None:
        return None


# Invalid tests ------------------------------------------------------------------------


def test_an_invalid_bi_is_kept_as_a_record_and_the_cycle_takes_a_further_result(steri, client):
    ster = steri.sterilizer()
    [implant] = steri.packs(implant=True)
    cycle = steri.run(ster["code"], [implant], bi_lot="LOT-1")
    invalid = steri.bi(cycle["id"], "negative", control_grew=False, expect=201)
    assert [r["result"] for r in invalid["bi_results"]] == ["invalid"]
    assert invalid["bi"] is None and invalid["status"] == "awaiting_bi"
    assert steri.pack(implant)["status"] == "quarantined"  # released nothing
    sterilizer = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert sterilizer["last_bi_at"] is None and sterilizer["status"] == "in_service"
    valid = steri.bi(cycle["id"], "negative")
    assert [r["result"] for r in valid["bi_results"]] == ["invalid", "negative"]
    assert valid["bi"]["result"] == "negative" and valid["status"] == "passed"
    assert steri.pack(implant)["status"] == "sterile"


def test_an_invalid_positive_reading_changes_no_status_and_opens_no_recall(steri, client):
    ster = steri.sterilizer()
    cycle = steri.run(ster["code"], bi_lot="LOT-9")
    steri.bi(cycle["id"], "positive", control_grew=False, expect=201)
    sterilizer = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert sterilizer["status"] == "in_service"
    assert steri.ok(client.get("/api/v1/recalls", headers=steri.ma))["total"] == 0


# Implant loads ------------------------------------------------------------------------


def test_implant_load_without_bi_is_refused(steri, client):
    ster = steri.sterilizer()
    [implant] = steri.packs(implant=True)
    refused = steri.start(ster["code"], [implant], expect=422)
    assert refused["errors"][0]["field"] == "bi_lot"
    declared = steri.start(ster["code"], implants=True, expect=422)
    assert declared["errors"][0]["field"] == "bi_lot"
    assert steri.pack(implant)["status"] == "assembled"


def test_implant_packs_stay_quarantined_until_a_negative_bi(steri):
    ster = steri.sterilizer()
    [implant] = steri.packs(implant=True)
    cycle = steri.run(ster["code"], [implant], bi_lot="LOT-2")
    assert cycle["status"] == "awaiting_bi"
    assert steri.pack(implant)["status"] == "quarantined"
    assert steri.use(implant).status_code == 409
    steri.bi(cycle["id"], "negative")
    assert steri.pack(implant)["status"] == "sterile"


def test_early_release_needs_a_passed_integrator(steri, client):
    ster = steri.sterilizer()
    [implant] = steri.packs(implant=True)
    cycle = steri.start(ster["code"], [implant], bi_lot="LOT-5")
    steri.complete(cycle)  # no integrator in the load
    refused = client.post(f"/api/v1/cycles/{cycle['id']}/early-release",
                          json={"reason": "patient in the chair"}, headers=steri.ma)  # fmt: skip
    assert refused.status_code == 409 and "integrator" in refused.json()["detail"]
    assert steri.pack(implant)["status"] == "quarantined"


def test_early_release_with_a_passed_integrator_releases_records_and_reports(steri, client, users):
    ster = steri.sterilizer()
    [implant, plain] = [*steri.packs(implant=True), *steri.packs()]
    cycle = steri.complete(steri.start(ster["code"], [implant, plain], bi_lot="LOT-6"),
                           integrator="pass")  # fmt: skip
    assert cycle["status"] == "awaiting_bi"
    no_reason = client.post(f"/api/v1/cycles/{cycle['id']}/early-release", json={},
                            headers=steri.ma)  # fmt: skip
    assert no_reason.status_code in (400, 422)
    released = steri.ok(
        client.post(
            f"/api/v1/cycles/{cycle['id']}/early-release",
            json={"reason": "emergency implant case"},
            headers=steri.ma,
        )
    )
    assert released["early_release"]["reason"] == "emergency implant case"
    assert released["status"] == "awaiting_bi"  # the BI is still due
    assert steri.pack(implant)["status"] == "sterile" and steri.pack(implant)["usable"]
    events = steri.ok(client.get(f"/api/v1/packs/{implant}/history", headers=steri.ma))["items"]
    assert "early_release" in [e["event"] for e in events]
    again = client.post(f"/api/v1/cycles/{cycle['id']}/early-release",
                        json={"reason": "twice"}, headers=steri.ma)  # fmt: skip
    assert again.status_code == 409
    report = steri.ok(client.get("/api/v1/sterilization/compliance", headers=steri.admin))
    [findings] = [s for s in report["sterilizers"] if s["code"] == ster["code"]]
    [release] = findings["early_releases"]
    assert release["cycle_number"] == cycle["number"] and release["packs"] == [implant]
    assert release["reason"] == "emergency implant case"


def test_a_positive_bi_after_an_early_release_recalls_the_released_packs_with_encounters(
    steri, client
):
    ster = steri.sterilizer()
    [used, kept] = steri.packs(2, implant=True)
    cycle = steri.complete(steri.start(ster["code"], [used, kept], bi_lot="LOT-8"),
                           integrator="pass")  # fmt: skip
    steri.ok(client.post(f"/api/v1/cycles/{cycle['id']}/early-release",
                         json={"reason": "urgent surgery"}, headers=steri.ma))  # fmt: skip
    assert steri.use(used, "enc-901").status_code == 200
    result = steri.bi(cycle["id"], "positive")
    recall = steri.ok(client.get(f"/api/v1/recalls/{result['recall_id']}", headers=steri.admin))
    by_code = {p["code"]: p for p in recall["packs"]}
    assert by_code[kept]["status"] == "recalled"
    assert by_code[used]["status"] == "used" and by_code[used]["encounter_ref"]
