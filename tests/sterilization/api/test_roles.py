"""Who may do what in sterilization: everyone signed in reads; MAs and admins work packs,
cycles and indicators; sterilizers, cycle types and recall decisions are admin-only;
auditors and purchasing write nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from kernel.auth.models import Role
from kernel.clock import Clock
from kernel.problems import Conflict
from sterilization import packs


def test_only_admins_add_sterilizers_or_change_their_status(steri, client, users):
    body = {"code": "AC-X", "name": "Autoclave X", "kind": "steam_prevac"}
    for role in (Role.MA, Role.PURCHASING, Role.AUDITOR):
        response = client.post("/api/v1/sterilizers", json=body, headers=users.headers(role))
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    created = client.post("/api/v1/sterilizers", json=body, headers=steri.admin)
    assert created.status_code == 201
    assert created.json()["status"] == "in_service"
    assert created.json()["last_bi_at"] is None
    change = {"status": "out_of_service", "reason": "annual service"}
    assert (
        client.patch("/api/v1/sterilizers/AC-X", json=change, headers=steri.ma).status_code == 403
    )
    response = client.patch("/api/v1/sterilizers/AC-X", json=change, headers=steri.admin)
    assert response.status_code == 200
    assert response.json()["status_reason"] == "annual service"


def test_a_sterilizer_status_change_needs_a_reason(steri, client):
    ster = steri.sterilizer()
    for body in ({"status": "out_of_service"}, {"status": "out_of_service", "reason": ""}):
        response = client.patch(
            f"/api/v1/sterilizers/{ster['code']}", json=body, headers=steri.admin
        )
        assert response.status_code in (400, 422)
    assert client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma).json()["status"] == (
        "in_service"
    )


def test_duplicate_or_bad_sterilizers_are_refused(steri, client):
    steri.sterilizer(code="AC-1")
    dup = client.post(
        "/api/v1/sterilizers",
        json={"code": "AC-1", "name": "Again", "kind": "steam_gravity"},
        headers=steri.admin,
    )
    assert dup.status_code == 409
    bad = client.post(
        "/api/v1/sterilizers",
        json={"code": "AC-2", "name": "Oven", "kind": "microwave"},
        headers=steri.admin,
    )
    assert bad.status_code in (400, 422)
    assert client.get("/api/v1/sterilizers", headers=steri.ma).json()["total"] == 1


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PURCHASING])
def test_auditors_and_purchasing_read_but_never_write_sterilization(steri, client, users, role):
    ster = steri.sterilizer()
    [code] = steri.packs()
    cycle = steri.run(ster["code"], [code], bi_lot="LOT-1")
    headers = users.headers(role)
    for path in (
        "/api/v1/sterilizers",
        f"/api/v1/packs/{code}",
        f"/api/v1/packs/{code}/history",
        "/api/v1/cycles",
        f"/api/v1/cycles/{cycle['id']}",
        "/api/v1/recalls",
        "/api/v1/cycle-types",
        "/api/v1/encounters/ENC-1/packs",
    ):
        assert client.get(path, headers=headers).status_code == 200, path
    writes = [
        ("/api/v1/packs", {"description": "Kit"}),
        ("/api/v1/cycles", {"sterilizer": ster["code"], "cycle_type": "gravity_121_30"}),
        (f"/api/v1/cycles/{cycle['id']}/complete", {"mechanical_ok": True, "chemical_ok": True}),
        (
            f"/api/v1/cycles/{cycle['id']}/amendments",
            {"field": "notes", "value": "x", "reason": "note"},
        ),
        (f"/api/v1/packs/{code}/use", {"encounter_ref": "ENC-1"}),
        (f"/api/v1/packs/{code}/compromise", {"reason": "dropped"}),
        ("/api/v1/recalls/1/resolve", {"resolution": "released", "reason": "fine"}),
        (
            "/api/v1/cycle-types",
            {"code": "x_1", "name": "X", "min_temperature_c": 1, "min_exposure_minutes": 1},
        ),
    ]
    for path, body in writes:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 403, path
    assert client.delete(f"/api/v1/packs/{code}", headers=headers).status_code == 405
    assert steri.pack(code)["status"] == "sterile"
    assert client.get("/api/v1/packs", headers=steri.ma).json()["total"] == 1


def test_sterilization_needs_a_token(client):
    for path in ("/api/v1/packs/PK-000001", "/api/v1/cycles", "/api/v1/sterilizers"):
        response = client.get(path)
        assert response.status_code == 401
    assert client.post("/api/v1/packs", json={"description": "Kit"}).status_code == 401


def test_ma_works_packs_cycles_and_indicators(steri):
    ster = steri.sterilizer()
    [code] = steri.packs()
    cycle = steri.run(ster["code"], [code], bi_lot="LOT-1")
    assert steri.bi(cycle["id"], "negative")["status"] == "passed"
    assert steri.use(code).status_code == 200


def test_two_tablets_using_the_same_pack_at_once_exactly_one_succeeds(steri, database, settings):
    ster = steri.sterilizer()
    [code] = steri.packs()
    steri.run(ster["code"], [code])
    clock = Clock.from_settings(settings)
    threads = 8
    barrier = threading.Barrier(threads)

    def use(i: int) -> str:
        barrier.wait()
        try:
            with database.session() as session:
                packs.use_pack(
                    session, code, encounter_ref=f"ENC-{i}", actor=f"tablet{i}",
                    zone=clock.zone, now=clock.now(),
                )  # fmt: skip
            return "used"
        except Conflict as exc:
            assert "already used" in exc.detail
            return "refused"

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(use, range(threads)))
    assert outcomes.count("used") == 1
    assert outcomes.count("refused") == threads - 1
    history = steri.client.get(f"/api/v1/packs/{code}/history", headers=steri.ma).json()
    assert [e["event"] for e in history["items"]].count("used") == 1


def test_sterilization_writes_are_audited(steri, client):
    ster = steri.sterilizer()
    [code] = steri.packs()
    cycle = steri.run(ster["code"], [code], bi_lot="LOT-1")
    steri.bi(cycle["id"], "negative")
    steri.use(code)
    entries = client.get("/api/v1/audit?limit=100", headers=steri.admin)
    assert entries.status_code == 200, entries.text
    actions = {e["action"] for e in entries.json()["items"]}
    assert {
        "sterilizer.create",
        "pack.create",
        "cycle.start",
        "cycle.complete",
        "cycle.bi_negative",
        "pack.use",
    } <= actions
    assert client.get("/api/v1/audit/verify", headers=steri.admin).json()["ok"] is True
