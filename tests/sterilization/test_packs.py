"""Packs: codes, the usable check with reasons, use on an encounter, compromise, history."""

from __future__ import annotations


def test_packs_get_sequential_human_readable_codes_one_per_label(steri):
    first = steri.packs(3)
    second = steri.packs(1)
    assert first == ["PK-000001", "PK-000002", "PK-000003"]
    assert second == ["PK-000004"]
    pack = steri.pack("pk-000002")  # scanned in any case
    assert pack["status"] == "assembled"
    assert pack["usable"] is False
    assert pack["contents"] == [
        {"name": "Mirror", "quantity": 1},
        {"name": "Explorer", "quantity": 1},
    ]
    assert pack["cycle"] is None


def test_pack_from_a_passed_cycle_is_usable_and_use_records_the_encounter(steri):
    ster = steri.sterilizer("steam_gravity", name="Autoclave A")
    [code] = steri.packs()
    cycle = steri.run(ster["code"], [code])
    assert cycle["status"] == "passed"
    pack = steri.pack(code)
    assert pack["status"] == "sterile"
    assert pack["usable"] is True and pack["reasons"] == []
    assert pack["cycle"]["number"] == cycle["number"]
    assert pack["cycle"]["sterilizer"] == ster["code"]
    assert pack["sterilized_at"] is not None
    assert pack["expires_on"] is None  # event-related shelf life by default

    response = steri.use(code, "ENC-42")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "used"
    assert response.json()["encounter_ref"] == "ENC-42"


def test_a_pack_from_a_failed_cycle_is_not_usable_and_use_returns_409_with_the_reason(
    steri, client
):
    ster = steri.sterilizer("steam_gravity", name="Autoclave A")
    [code] = steri.packs()
    cycle = steri.start(ster["code"], [code])
    done = steri.complete(cycle, temperature_c=118.0)
    assert done["status"] == "failed"
    assert "below the 121 °C minimum" in done["parameters"]["failure_reasons"][0]
    pack = steri.pack(code)
    assert pack["status"] == "failed"
    assert pack["usable"] is False
    assert pack["reasons"] == [f"cycle {cycle['number']} on Autoclave A failed"]

    response = steri.use(code)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["reasons"] == [f"cycle {cycle['number']} on Autoclave A failed"]
    assert "failed" in body["detail"]
    after = steri.pack(code)
    assert after["status"] == "failed" and after["encounter_ref"] is None
    events = client.get(f"/api/v1/packs/{code}/history", headers=steri.ma).json()["items"]
    assert [e["event"] for e in events] == ["assembled", "loaded", "indicators", "failed"]


def test_using_a_pack_twice_is_refused_with_already_used(steri):
    ster = steri.sterilizer()
    [code] = steri.packs()
    steri.run(ster["code"], [code])
    assert steri.use(code, "ENC-1").status_code == 200
    second = steri.use(code, "ENC-2")
    assert second.status_code == 409
    assert second.json()["reasons"][0].startswith("already used on encounter ENC-1")
    assert steri.pack(code)["encounter_ref"] == "ENC-1"


def test_pack_history_lists_every_event_in_order_with_actor_usernames(steri, client):
    ster = steri.sterilizer()
    [code] = steri.packs()
    steri.run(ster["code"], [code])
    steri.use(code, "ENC-7")
    body = client.get(f"/api/v1/packs/{code}/history", headers=steri.ma).json()
    events = body["items"]
    assert [e["event"] for e in events] == [
        "assembled",
        "loaded",
        "indicators",
        "sterilized",
        "used",
    ]
    assert body["total"] == 5
    assert all(e["actor"].startswith("ma") for e in events)
    assert events[-1]["details"] == {"encounter_ref": "ENC-7"}


def test_encounter_trace_lists_the_packs_used_with_their_cycle(steri, client):
    ster = steri.sterilizer()
    codes = steri.packs(3)
    cycle = steri.run(ster["code"], codes)
    steri.use(codes[0], "ENC-9")
    steri.use(codes[2], "ENC-9")
    steri.use(codes[1], "ENC-10")
    body = client.get("/api/v1/encounters/ENC-9/packs", headers=steri.ma).json()
    assert body["total"] == 2
    assert [p["code"] for p in body["items"]] == [codes[0], codes[2]]
    assert all(p["cycle"]["id"] == cycle["id"] for p in body["items"])


def test_compromised_pack_is_not_usable_and_says_why(steri):
    ster = steri.sterilizer()
    [code] = steri.packs()
    steri.run(ster["code"], [code])
    response = steri.client.post(
        f"/api/v1/packs/{code}/compromise", json={"reason": "wrap torn"}, headers=steri.ma
    )
    assert response.status_code == 200, response.text
    pack = response.json()
    assert pack["status"] == "compromised" and pack["usable"] is False
    assert pack["reasons"] == ["compromised: wrap torn"]
    assert steri.use(code).status_code == 409
    again = steri.client.post(
        f"/api/v1/packs/{code}/compromise", json={"reason": "dropped"}, headers=steri.ma
    )
    assert again.status_code == 409


def test_unknown_pack_is_404_problem_json(steri):
    response = steri.client.get("/api/v1/packs/PK-999999", headers=steri.ma)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    response = steri.use("PK-999999")
    assert response.status_code == 404


def test_deleting_a_pack_is_refused_with_405(steri):
    [code] = steri.packs()
    response = steri.client.delete(f"/api/v1/packs/{code}", headers=steri.admin)
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "never deleted" in response.json()["detail"]
    assert steri.pack(code)["status"] == "assembled"


BAD_PACKS = [
    {},
    {"description": ""},
    {"description": "Kit", "quantity": 0},
    {"description": "Kit", "quantity": 1000},
    {"description": "Kit", "contents": [{"name": "x", "quantity": -1}]},
    {"description": "Kit", "colour": "red"},
    {"description": 5},
]


def test_bad_pack_input_is_422_and_writes_nothing(steri, client):
    for body in BAD_PACKS:
        response = client.post("/api/v1/packs", json=body, headers=steri.ma)
        assert response.status_code in (400, 422), (body, response.text)
    listing = client.get("/api/v1/packs", headers=steri.ma).json()
    assert listing["total"] == 0


def test_use_with_a_blank_encounter_is_refused(steri):
    ster = steri.sterilizer()
    [code] = steri.packs()
    steri.run(ster["code"], [code])
    response = steri.use(code, "")
    assert response.status_code in (400, 422)
    assert steri.pack(code)["status"] == "sterile"
