"""Immediate-use steam sterilization (IUSS), requalification after a positive BI, a failed
Bowie-Dick or a repair, the BI cadence and encounter references (SPEC section 7)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from sterilization import requalification, sterilizers

IUSS = {"reason": "only set dropped mid-procedure", "encounter_ref": " enc-77\u200b"}


def start(steri, client, sterilizer: str, **body):
    return client.post(
        "/api/v1/cycles",
        json={"sterilizer": sterilizer, "cycle_type": "flash_132_3", "packs": [], **body},
        headers=steri.ma,
    )


# IUSS ---------------------------------------------------------------------------------


def test_an_iuss_cycle_needs_a_reason_and_an_encounter(steri, client):
    ster = steri.sterilizer()
    refused = start(steri, client, ster["code"])
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "iuss"
    partial = start(steri, client, ster["code"], iuss={"reason": "dropped it"})
    assert partial.status_code in (400, 422) and "iuss" in partial.text
    assert steri.ok(client.get("/api/v1/cycles", headers=steri.ma))["total"] == 0


def test_an_iuss_cycle_refuses_implant_packs(steri, client):
    ster = steri.sterilizer()
    [implant] = steri.packs(implant=True)
    refused = start(steri, client, ster["code"], packs=[implant], bi_lot="L1", iuss=IUSS)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "packs"
    assert steri.pack(implant)["status"] == "assembled"


def test_iuss_is_only_for_the_immediate_use_cycle_type(steri, client):
    ster = steri.sterilizer()
    body = {"sterilizer": ster["code"], "cycle_type": "gravity_121_30", "packs": [],
            "iuss": IUSS}  # fmt: skip
    refused = client.post("/api/v1/cycles", json=body, headers=steri.ma)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "iuss"


def test_iuss_packs_are_used_on_the_encounter_at_once_and_reported(steri, client):
    ster = steri.sterilizer()
    [code] = steri.packs()
    cycle = steri.ok(start(steri, client, ster["code"], packs=[code], iuss=IUSS), 201)
    done = steri.complete({**cycle, "cycle_type": "flash_132_3"})
    assert done["status"] == "passed"
    assert done["iuss"] == {"reason": "only set dropped mid-procedure", "encounter_ref": "ENC-77"}
    pack = steri.pack(code)
    assert pack["status"] == "used" and pack["encounter_ref"] == "ENC-77"
    events = steri.ok(client.get(f"/api/v1/packs/{code}/history", headers=steri.ma))["items"]
    assert "iuss_use" in [e["event"] for e in events]
    traced = steri.ok(client.get("/api/v1/encounters/enc-77/packs", headers=steri.ma))
    assert [p["code"] for p in traced["items"]] == [code]
    report = steri.ok(client.get("/api/v1/sterilization/compliance", headers=steri.admin))
    [findings] = [s for s in report["sterilizers"] if s["code"] == ster["code"]]
    [iuss] = findings["iuss_cycles"]
    assert iuss["reason"] == IUSS["reason"] and iuss["encounter_ref"] == "ENC-77"
    assert iuss["packs"] == [code]


def test_encounter_references_are_normalised_on_the_way_in_and_in_lookups(steri, client):
    ster = steri.sterilizer()
    [code] = steri.packs()
    steri.run(ster["code"], [code])
    assert steri.use(code, "\uff45nc-501 ").status_code == 200  # a full-width e, a space
    assert steri.pack(code)["encounter_ref"] == "ENC-501"
    traced = steri.ok(client.get("/api/v1/encounters/Enc-501\u200b/packs", headers=steri.ma))
    assert [p["code"] for p in traced["items"]] == [code]


# Requalification ----------------------------------------------------------------------


def test_a_positive_bi_starts_requalification_and_return_to_service_is_refused_until_met(
    steri, client
):
    ster = steri.sterilizer()
    cycle = steri.run(ster["code"], bi_lot="LOT-1")
    result = steri.bi(cycle["id"], "positive")
    read_at = result["bi"]["read_at"]
    row = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert row["status"] == "out_of_service"
    assert row["requalification"] == {
        "since": read_at,
        "reason": f"positive spore test (BI) on cycle {cycle['number']}",
        "bi_tests_passed": 0,
        "bi_tests_needed": 3,
        "bowie_dick_passed": 0,
        "bowie_dick_needed": 0,
    }
    back = {"status": "in_service", "reason": "repaired"}
    refused = client.patch(f"/api/v1/sterilizers/{ster['code']}", json=back, headers=steri.admin)
    assert refused.status_code == 409
    assert "3 more consecutive bi_test" in refused.json()["detail"]
    assert refused.json()["missing"]
    # Test cycles run while it is out of service; loads do not.
    steri.start(ster["code"], expect=409)
    for n in range(3):
        test = steri.run(ster["code"], cycle_type="bi_test", bi_lot=f"REQ-{n}")
        steri.bi(test["id"], "negative")
    row = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert row["requalification"]["bi_tests_passed"] == 3
    ok = client.patch(f"/api/v1/sterilizers/{ster['code']}", json=back, headers=steri.admin)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "in_service" and ok.json()["requalification"] is None


def test_requalification_counts_only_consecutive_negative_bi_tests_since_it_began(steri, client):
    ster = steri.sterilizer()
    steri.bi(steri.run(ster["code"], bi_lot="LOT-1")["id"], "positive")
    first = steri.run(ster["code"], cycle_type="bi_test", bi_lot="R1")
    steri.bi(first["id"], "negative")
    second = steri.run(ster["code"], cycle_type="bi_test", bi_lot="R2")
    steri.bi(second["id"], "positive")  # starts the count again
    row = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert row["requalification"]["bi_tests_passed"] == 0
    assert steri.ok(client.get("/api/v1/recalls", headers=steri.ma))["total"] == 1  # no recall
    for n in range(2):
        test = steri.run(ster["code"], cycle_type="bi_test", bi_lot=f"R3{n}")
        steri.bi(test["id"], "negative")
    row = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert row["requalification"]["bi_tests_passed"] == 2


def test_a_bi_test_runs_an_empty_chamber_with_a_bi(steri, client):
    ster = steri.sterilizer()
    [code] = steri.packs()
    with_packs = steri.start(ster["code"], [code], cycle_type="bi_test", bi_lot="R", expect=422)
    assert "runs empty" in with_packs["detail"]
    no_bi = steri.start(ster["code"], cycle_type="bi_test", expect=422)
    assert no_bi["errors"][0]["field"] == "bi_lot"


def test_a_failed_bowie_dick_starts_requalification_needing_three_of_each_on_prevac(steri, client):
    ster = steri.sterilizer(kind="steam_prevac")
    bd = steri.start(ster["code"], cycle_type="bowie_dick")
    steri.complete(bd, chemical_ok=False)
    row = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert row["status"] == "out_of_service"
    assert row["requalification"]["bowie_dick_needed"] == 3
    assert "Bowie-Dick" in row["requalification"]["reason"]
    steri.requalify(ster)
    back = client.patch(f"/api/v1/sterilizers/{ster['code']}",
                        json={"status": "in_service", "reason": "requalified"},
                        headers=steri.admin)  # fmt: skip
    assert back.status_code == 200, back.text


def test_patch_out_of_service_with_requalify_after_a_repair(steri, client):
    ster = steri.sterilizer()
    out = steri.ok(client.patch(f"/api/v1/sterilizers/{ster['code']}",
                                json={"status": "out_of_service", "reason": "heater replaced",
                                      "requalify": True}, headers=steri.admin))  # fmt: skip
    assert out["status"] == "out_of_service"
    assert out["requalification"]["reason"] == "heater replaced"
    refused = client.patch(f"/api/v1/sterilizers/{ster['code']}",
                           json={"status": "in_service", "reason": "done"},
                           headers=steri.admin)  # fmt: skip
    assert refused.status_code == 409


def test_start_requalification_is_a_service_other_domains_can_call(steri, client, database):
    ster = steri.sterilizer()
    since = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    with database.session() as session:
        assert isinstance(session, Session)
        row = sterilizers.get_sterilizer(session, ster["code"])
        requalification.start_requalification(
            session, row, since=since, reason="repair: door seal", actor="equip"
        )
    got = steri.ok(client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma))
    assert got["status"] == "out_of_service"
    assert got["requalification"]["since"] == "2026-12-01T12:00:00Z"


# Cadence ------------------------------------------------------------------------------


def test_bi_cadence_every_load_warns_at_start_and_reports_each_load_without_a_bi(steri, client):
    ster = steri.sterilizer()
    client.patch(f"/api/v1/sterilizers/{ster['code']}", json={"bi_frequency": "every_load"},
                 headers=steri.admin)  # fmt: skip
    started = steri.start(ster["code"])
    assert any("every load" in w for w in started["warnings"])
    steri.complete(started)
    steri.run(ster["code"], bi_lot="LOT-1")
    report = steri.ok(client.get("/api/v1/sterilization/compliance", headers=steri.admin))
    [findings] = [s for s in report["sterilizers"] if s["code"] == ster["code"]]
    assert findings["bi_frequency"] == "every_load"
    assert findings["bi_gaps"] == [{"period": f"cycle {started['number']}", "loads": 1}]


def test_bi_cadence_daily_reports_days_without_a_bi(steri, client):
    ster = steri.sterilizer()
    client.patch(f"/api/v1/sterilizers/{ster['code']}", json={"bi_frequency": "daily"},
                 headers=steri.admin)  # fmt: skip
    cycle = steri.run(ster["code"])
    report = steri.ok(client.get("/api/v1/sterilization/compliance", headers=steri.admin))
    [findings] = [s for s in report["sterilizers"] if s["code"] == ster["code"]]
    day = client.app.state.clock.zone.local_date(dt.datetime.fromisoformat(cycle["started_at"]))
    assert findings["bi_gaps"] == [{"period": day.isoformat(), "loads": 1}]
