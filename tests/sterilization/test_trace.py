"""Tracing a pack from sterilizer to patient and back: its history holds who assembled it,
the cycle it was loaded into, that cycle's indicator results and spore test, its release,
use and any recall; the encounter lists the packs used, each with its cycle."""

from __future__ import annotations

from kernel.auth.models import Role


def history(client, users, code, **params):
    response = client.get(
        f"/api/v1/packs/{code}/history", params=params, headers=users.headers(Role.AUDITOR)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_implant_pack_history_runs_from_assembly_to_patient(steri, client, users):
    ster = steri.sterilizer(kind="steam_gravity")
    [implant] = steri.packs(implant=True, description="Implant kit")
    cycle = steri.run(ster["code"], [implant], bi_lot="LOT-42")
    steri.bi(cycle["id"], "negative")
    assert steri.use(implant, "ENC-IMPLANT").status_code == 200

    events = history(client, users, implant)["items"]
    assert [e["event"] for e in events] == [
        "assembled",
        "loaded",
        "indicators",
        "quarantined",
        "bi_result",
        "released",
        "used",
    ]
    by_event = {e["event"]: e for e in events}
    assert by_event["assembled"]["actor"].startswith("ma")
    assert by_event["loaded"]["details"]["cycle"] == cycle["number"]
    indicators = by_event["indicators"]["details"]
    assert indicators["sterilizer"] == ster["code"] and indicators["cycle"] == cycle["number"]
    assert indicators["mechanical_ok"] is True and indicators["chemical_ok"] is True
    assert indicators["temperature_c"] == 121.5 and indicators["failure_reasons"] == []
    assert by_event["bi_result"]["details"]["result"] == "negative"
    assert by_event["bi_result"]["details"]["lot"] == "LOT-42"
    assert by_event["used"]["details"] == {"encounter_ref": "ENC-IMPLANT"}
    times = [e["at"] for e in events]
    assert times == sorted(times)

    traced = client.get("/api/v1/encounters/ENC-IMPLANT/packs", headers=users.headers(Role.AUDITOR))
    [pack] = traced.json()["items"]
    assert pack["code"] == implant and pack["implant"] is True
    assert pack["cycle"]["number"] == cycle["number"]
    assert pack["cycle"]["sterilizer"] == ster["code"]
    assert pack["assembled_by"].startswith("ma") and pack["used_at"] is not None


def test_recalled_pack_history_shows_the_positive_bi_the_recall_and_corrections(
    steri, client, users
):
    ster = steri.sterilizer()
    codes = steri.packs(2)
    cycle = steri.run(ster["code"], codes, bi_lot="LOT-5")
    amended = client.post(
        f"/api/v1/cycles/{cycle['id']}/amendments",
        json={"field": "pressure_kpa", "value": 207, "reason": "re-read the printer tape"},
        headers=steri.ma,
    )
    assert amended.status_code == 201, amended.text
    steri.use(codes[0], "ENC-EXPOSED")
    recall_id = steri.bi(cycle["id"], "positive")["recall_id"]

    unused = [e["event"] for e in history(client, users, codes[1])["items"]]
    assert unused[-3:] == ["cycle_amended", "bi_result", "recalled"]
    used = history(client, users, codes[0])["items"]
    assert [e["event"] for e in used][-3:] == ["cycle_amended", "used", "bi_result"]
    correction = next(e for e in used if e["event"] == "cycle_amended")["details"]
    assert correction["field"] == "pressure_kpa" and correction["value"] == 207
    assert correction["original"] == 205.0 and correction["reason"] == "re-read the printer tape"
    # The exposed patient is found from the recall, and the pack from the encounter.
    recall = client.get(f"/api/v1/recalls/{recall_id}", headers=steri.admin)
    exposed = [p for p in recall.json()["packs"] if p["encounter_ref"]]
    assert [p["code"] for p in exposed] == [codes[0]]


def test_history_pages_through_the_merged_events(steri, client, users):
    ster = steri.sterilizer()
    [code] = steri.packs()
    cycle = steri.run(ster["code"], [code], bi_lot="LOT-1")
    steri.bi(cycle["id"], "negative")
    steri.use(code, "ENC-P")
    whole = history(client, users, code, limit=100)
    assert whole["total"] == len(whole["items"]) == 6
    pages = [history(client, users, code, limit=2, offset=o)["items"] for o in (0, 2, 4)]
    assert [e for page in pages for e in page] == whole["items"]
    missing = client.get("/api/v1/packs/PK-999999/history", headers=users.headers(Role.AUDITOR))
    assert missing.status_code == 404
