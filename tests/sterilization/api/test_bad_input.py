"""Bad input anywhere in the sterilization API gets a clear 4xx problem, never a 500."""

from __future__ import annotations

BAD_READS = [
    "/api/v1/cycles/99999999999999999999",
    "/api/v1/cycles/0",
    "/api/v1/cycles/-1",
    "/api/v1/cycles/abc",
    "/api/v1/recalls/99999999999",
    "/api/v1/packs/" + "X" * 500,
    "/api/v1/packs?cycle=99999999999",
    "/api/v1/cycles?from=2026-13-45",
    "/api/v1/cycles?from=0001-01-01T00:00:00%2B05:00",
    "/api/v1/cycles?to=9999-12-31",
    "/api/v1/cycles?from=" + "9" * 60,
    "/api/v1/encounters/" + "E" * 300 + "/packs",
    "/api/v1/sterilizers/NOPE",
    "/api/v1/packs/PK-000001/history?limit=0",
]


def test_bad_reads_are_4xx_problems_not_500(steri, client):
    for path in BAD_READS:
        response = client.get(path, headers=steri.ma)
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), path


BAD_WRITES = [
    ("/api/v1/cycles/99999999999/complete", {"mechanical_ok": True, "chemical_ok": True}),
    ("/api/v1/cycles/1/complete", {"mechanical_ok": "yes", "chemical_ok": True}),
    (
        "/api/v1/cycles/1/complete",
        {"mechanical_ok": True, "chemical_ok": True, "temperature_c": 1e9},
    ),
    ("/api/v1/cycles/1/bi-result", {"result": "maybe", "control_grew": True}),
    ("/api/v1/cycles/1/bi-result", {"result": "negative", "control_grew": True, "lot": ""}),
    ("/api/v1/cycles/1/amendments", {"field": "notes", "value": "x" * 5000, "reason": "long"}),
    # an amendment keeps to the reading bounds of completing a cycle
    (
        "/api/v1/cycles/1/amendments",
        {"field": "temperature_c", "value": 1e308, "reason": "typo fix"},
    ),
    ("/api/v1/cycles/1/amendments", {"field": "pressure_kpa", "value": 5000, "reason": "typo fix"}),
    ("/api/v1/cycles/1/amendments", {"field": "dry_minutes", "value": 1e6, "reason": "typo fix"}),
    ("/api/v1/cycles", {"sterilizer": "AC1", "cycle_type": "x" * 100}),
    ("/api/v1/cycles", {"sterilizer": "AC1", "cycle_type": "gravity_121_30", "packs": [""]}),
    ("/api/v1/packs/PK-000001/use", {"encounter_ref": "bad\nref"}),
    ("/api/v1/packs/PK-000001/use", {"encounter_ref": "   "}),
    ("/api/v1/packs/PK-000001/compromise", {"reason": "x"}),
    ("/api/v1/recalls/1/resolve", {"resolution": "ignored", "reason": "because"}),
    ("/api/v1/packs", [1, 2, 3]),
    ("/api/v1/packs", "not json at all"),
]


def test_bad_writes_are_4xx_problems_and_write_nothing(steri, client):
    ster = steri.sterilizer(code="AC1")
    [code] = steri.packs()
    cycle = steri.run(ster["code"], [code], bi_lot="LOT-1")
    before = client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma).json()
    for path, body in BAD_WRITES:
        check_refused(steri, client, path, body)
        assert client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma).json() == before
        assert steri.pack(code)["status"] == "sterile"
        assert client.get("/api/v1/packs", headers=steri.ma).json()["total"] == 1


def check_refused(steri, client, path, body):
    headers = steri.admin
    if isinstance(body, str):
        response = client.post(
            path, content=body, headers={**headers, "content-type": "application/json"}
        )
    else:
        response = client.post(path, json=body, headers=headers)
    assert 400 <= response.status_code < 500, (path, body, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
