"""Packs counted against a count sheet: short counts, trays, shelf life (SPEC section 11)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

FULL = [("NH-MAYO-14", 1), ("FC-ADSON", 2), ("SC-IRIS-11", 1), ("SC-SUTURE", 1)]


def counted(lines):
    return [{"instrument": i, "quantity": q} for i, q in lines]


def assemble(sets, expect=201, **body):
    response = sets.client.post("/api/v1/packs", json=body, headers=sets.ma)
    assert response.status_code == expect, response.text
    return response.json()


def test_a_pack_from_a_template_takes_its_description_contents_and_version(sets):
    sets.template()
    [pack] = assemble(sets, template="SUTURE", counted=counted(FULL))["items"]
    assert pack["description"] == "Suture kit"
    assert pack["template"] == {
        "code": "SUTURE", "version": 1, "name": "Suture kit", "packaging": "wrap",
    }  # fmt: skip
    assert pack["set"] is None and pack["short"] == [] and pack["short_reason"] is None
    assert pack["contents"] == [
        {"name": "Mayo-Hegar needle holder 14 cm", "quantity": 1},
        {"name": "Adson forceps 1x2 teeth", "quantity": 2},
        {"name": "Iris scissors 11 cm", "quantity": 1},
        {"name": "Suture scissors", "quantity": 1},
    ]
    assert sets.pack(pack["code"])["template"]["version"] == 1


def test_a_short_count_is_refused_listing_what_is_missing_and_nothing_is_written(sets, client):
    sets.template()
    tray = sets.tray()
    body = {"set": tray["code"], "counted": counted([("NH-MAYO-14", 1), ("FC-ADSON", 1),
                                                     ("SC-IRIS-11", 1)])}  # fmt: skip
    refused = assemble(sets, 422, **body)
    assert refused["missing"] == [
        {"instrument": "FC-ADSON", "name": "Adson forceps 1x2 teeth", "missing": 1},
        {"instrument": "SC-SUTURE", "name": "Suture scissors", "missing": 1},
    ]
    assert "1 \u00d7 Adson forceps 1x2 teeth" in refused["detail"]
    assert refused["errors"][0]["field"] == "counted"
    assert sets.ok(client.get("/api/v1/packs", headers=sets.ma))["total"] == 0
    assert sets.get_set(tray["code"])["status"] == "available"


def test_a_short_count_accepted_with_a_reason_records_the_short_items_and_the_reason(sets):
    sets.template()
    tray = sets.tray()
    reason = "Adson forceps sent for repair; spare on order"
    lines = counted([("NH-MAYO-14", 1), ("FC-ADSON", 1), ("SC-IRIS-11", 1), ("SC-SUTURE", 1)])
    [pack] = assemble(sets, set=tray["code"], counted=lines, accept_short={"reason": reason})[
        "items"
    ]
    assert pack["set"] == tray["code"]
    assert pack["short"] == [
        {"instrument": "FC-ADSON", "name": "Adson forceps 1x2 teeth", "missing": 1}
    ]
    assert pack["short_reason"] == reason
    assert {"name": "Adson forceps 1x2 teeth", "quantity": 1} in pack["contents"]
    history = sets.ok(sets.client.get(f"/api/v1/packs/{pack['code']}/history", headers=sets.ma))[
        "items"
    ]
    assembled = history[0]
    assert assembled["event"] == "assembled"
    assert assembled["details"]["short_reason"] == reason
    assert assembled["details"]["short"] == pack["short"]
    assert assembled["details"]["set"] == tray["code"]
    assert assembled["details"]["template"] == {"code": "SUTURE", "version": 1}


def test_a_count_above_the_sheet_an_unknown_or_foreign_instrument_is_refused(sets):
    sets.template()
    sets.instrument("XX-OTHER", "Other instrument")
    cases = [
        (counted([("FC-ADSON", 3)]), "counted[0].quantity"),
        (counted([("NOPE", 1)]), "counted[0].instrument"),
        (counted([("NH-MAYO-14", 1), ("XX-OTHER", 1)]), "counted[1].instrument"),
        (counted([("FC-ADSON", 1), ("FC-ADSON", 1)]), "counted[1].instrument"),
    ]
    for lines, field in cases:
        refused = assemble(sets, 422, template="SUTURE", counted=lines)
        assert refused["errors"][0]["field"] == field, refused
    negative = sets.client.post(
        "/api/v1/packs", json={"template": "SUTURE", "counted": counted([("FC-ADSON", -1)])},
        headers=sets.ma,
    )  # fmt: skip
    assert negative.status_code in (400, 422)
    assert assemble(sets, 404, template="NOPE", counted=[])["status"] == 404
    assert assemble(sets, 422, template="SUTURE")["errors"][0]["field"] == "counted"
    mixed = assemble(sets, 422, template="SUTURE", description="Mine", counted=counted(FULL))
    assert mixed["errors"][0]["field"] == "description"
    assert assemble(sets, 422, counted=counted(FULL))["errors"][0]["field"] == "counted"
    assert sets.ok(sets.client.get("/api/v1/packs", headers=sets.ma))["total"] == 0


def test_a_tray_is_in_one_live_pack_at_a_time_and_not_in_two_running_cycles(sets):
    sets.template()
    tray = sets.tray()["code"]
    [first] = assemble(sets, set=tray, counted=counted(FULL))["items"]
    again = assemble(sets, 409, set=tray, counted=counted(FULL))
    assert again["pack"] == first["code"] and "assembled" in again["detail"]
    ster = sets.sterilizer()
    cycle = sets.start(ster["code"], [first["code"]])
    in_cycle = assemble(sets, 409, set=tray, counted=counted(FULL))
    assert "in a running cycle" in in_cycle["detail"]
    sets.complete(cycle)
    assert sets.get_set(tray)["current_pack"] == {"code": first["code"], "status": "sterile"}
    assert sets.use(first["code"], "ENC-7").status_code == 200
    [second] = assemble(sets, set=tray, counted=counted(FULL))["items"]
    shown = sets.get_set(tray)
    assert [p["code"] for p in shown["packs"]] == [second["code"], first["code"]]
    assert shown["uses"] == 1 and shown["pack_count"] == 2
    assert (
        assemble(sets, 422, set=tray, quantity=2, counted=counted(FULL))["errors"][0]["field"]
        == "quantity"
    )


def test_a_template_change_while_its_packs_are_in_a_running_cycle_is_refused(sets, client):
    sets.template()
    [code] = [p["code"] for p in assemble(sets, template="SUTURE", counted=counted(FULL))["items"]]
    ster = sets.sterilizer()
    cycle = sets.start(ster["code"], [code])
    body = {"name": "Suture kit", "packaging": "pouch", "items": counted([("FC-ADSON", 1)])}
    refused = client.put("/api/v1/set-templates/SUTURE", json=body, headers=sets.ma)
    assert refused.status_code == 409, refused.text
    assert refused.json()["packs"] == [code]
    assert sets.ok(client.get("/api/v1/set-templates/SUTURE", headers=sets.ma))["version"] == 1
    sets.complete(cycle)
    changed = sets.ok(client.put("/api/v1/set-templates/SUTURE", json=body, headers=sets.ma))
    assert changed["version"] == 2
    assert sets.pack(code)["template"]["version"] == 1  # packs keep their version


def test_a_pack_from_a_template_with_a_shelf_life_expires_by_it_not_the_clinic_setting(
    sets, client
):
    sets.template("POUCHED", name="Pouched kit", packaging="pouch", shelf_life_days=180,
                  items=None)  # fmt: skip
    sets.template("EVENT", name="Event kit", items=[("FC-ADSON", 1)])
    [timed] = assemble(sets, template="POUCHED", counted=counted(FULL))["items"]
    [event] = assemble(sets, template="EVENT", counted=counted([("FC-ADSON", 1)]))["items"]
    [free] = sets.packs()
    ster = sets.sterilizer()
    cycle = sets.run(ster["code"], [timed["code"], event["code"], free])
    zone = ZoneInfo("America/Chicago")  # the test clinic's zone (tests/conftest.py)
    day = dt.datetime.fromisoformat(cycle["ended_at"]).astimezone(zone).date()
    assert sets.pack(timed["code"])["expires_on"] == (day + dt.timedelta(days=180)).isoformat()
    assert sets.pack(event["code"])["expires_on"] is None  # the clinic's event-related default
    assert sets.pack(free)["expires_on"] is None
