"""Packs move between the sites of a group (central sterile processing, SPEC 9):
`POST /api/v1/packs/{code}/transfer {to_site}`, a `transfer` event in the pack's history,
the pack on the receiving site's dashboard and gone from the sender's lists."""

from __future__ import annotations

from sqlalchemy import func, select

from kernel.auth.models import Role
from sterilization.models import Pack, PackEvent
from tests.factories import page_login
from tests.sterilization_factories import GOOD_READINGS, cycle_minutes, let_time_pass


def group(client, users) -> dict[str, dict[str, str]]:
    """Site CSP sterilizes, site NORTH uses; a CSP technician works at both."""
    admin = users.headers(Role.ADMIN)
    for code in ("CSP", "NORTH"):
        site = {"code": code, "name": code.title(), "timezone": "Europe/Berlin"}
        assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
    users.create(Role.MA, "tech", sites=["CSP", "NORTH"])
    users.create(Role.MA, "nurse", sites=["NORTH"])
    users.create(Role.MA, "other", sites=["MAIN"])
    return {n: {"Authorization": f"Bearer {users.token(n)}"} for n in ("tech", "nurse", "other")}


def sterile_pack_at_csp(client, users, tech) -> str:
    admin = users.headers(Role.ADMIN)
    ster = {"code": "CSP-A", "name": "CSP autoclave", "kind": "steam_gravity", "site": "CSP"}
    assert client.post("/api/v1/sterilizers", json=ster, headers=admin).status_code == 201
    made = client.post("/api/v1/packs", json={"description": "Crown kit", "site": "CSP"},
                       headers=tech)  # fmt: skip
    code = made.json()["items"][0]["code"]
    start = {"sterilizer": "CSP-A", "cycle_type": "gravity_121_30", "packs": [code]}
    cycle = client.post("/api/v1/cycles", json=start, headers=tech).json()
    done = {"mechanical_ok": True, "chemical_ok": True, **GOOD_READINGS["gravity_121_30"]}
    let_time_pass(client, cycle_minutes(done))
    assert client.post(f"/api/v1/cycles/{cycle['id']}/complete", json=done, headers=tech).is_success
    return code


def test_a_pack_transferred_to_another_site_moves_there_with_its_sterilization(client, users):
    who = group(client, users)
    code = sterile_pack_at_csp(client, users, who["tech"])
    assert client.get(f"/api/v1/packs/{code}", headers=who["nurse"]).status_code == 404
    moved = client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "north"},
                        headers=who["tech"])  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert moved.json()["site"] == "NORTH"
    seen = client.get(f"/api/v1/packs/{code}", headers=who["nurse"]).json()
    assert seen["usable"] is True and seen["cycle"]["sterilizer"] == "CSP-A"  # the sender's
    used = client.post(f"/api/v1/packs/{code}/use", json={"encounter_ref": "ENC-9"},
                       headers=who["nurse"])  # fmt: skip
    assert used.status_code == 200, used.text


def test_a_transfer_is_in_the_packs_history(client, users):
    who = group(client, users)
    code = sterile_pack_at_csp(client, users, who["tech"])
    client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "NORTH"}, headers=who["tech"])
    history = client.get(f"/api/v1/packs/{code}/history", headers=who["nurse"]).json()["items"]
    transfer = [e for e in history if e["event"] == "transfer"]
    assert transfer and transfer[0]["actor"] == "tech"
    assert transfer[0]["details"] == {"from_site": "CSP", "to_site": "NORTH"}
    assert any(e["event"] == "loaded" for e in history)  # the cycle at CSP is still there


def test_a_transferred_pack_is_on_the_receiving_sites_dashboard(client, users):
    who = group(client, users)
    code = sterile_pack_at_csp(client, users, who["tech"])
    client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "NORTH"}, headers=who["tech"])
    page_login(client, "nurse")
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Packs received from other sites" in dashboard.text and code in dashboard.text
    assert "from CSP" in dashboard.text


def test_a_transfer_to_a_site_the_user_lacks_is_refused_and_nothing_moves(client, users, database):
    who = group(client, users)
    code = sterile_pack_at_csp(client, users, who["tech"])
    for to_site in ("MAIN", "NOWHERE"):
        refused = client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": to_site},
                              headers=who["tech"])  # fmt: skip
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "to_site"
    theirs = client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "MAIN"},
                         headers=who["other"])  # fmt: skip
    assert theirs.status_code == 404  # a MAIN user cannot see the CSP pack at all
    with database.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(PackEvent).where(
            PackEvent.event == "transfer")) == 0  # fmt: skip
        assert s.scalars(select(Pack.site_id)).all() != []


def test_a_used_pack_stays_where_it_was_used(client, users):
    who = group(client, users)
    code = sterile_pack_at_csp(client, users, who["tech"])
    client.post(f"/api/v1/packs/{code}/use", json={"encounter_ref": "ENC-1"}, headers=who["tech"])
    refused = client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "NORTH"},
                          headers=who["tech"])  # fmt: skip
    assert refused.status_code == 409 and refused.json()["current_status"] == "used"
    again = client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "CSP"},
                        headers=who["tech"])  # fmt: skip
    assert again.status_code == 409


def test_a_positive_bi_recalls_the_packs_it_sent_to_other_sites(client, users):
    who = group(client, users)
    admin = users.headers(Role.ADMIN)
    ster = {"code": "CSP-B", "name": "CSP B", "kind": "steam_gravity", "site": "CSP"}
    assert client.post("/api/v1/sterilizers", json=ster, headers=admin).status_code == 201
    made = client.post("/api/v1/packs", json={"description": "Crown kit", "site": "CSP"},
                       headers=who["tech"])  # fmt: skip
    code = made.json()["items"][0]["code"]
    start = {"sterilizer": "CSP-B", "cycle_type": "gravity_121_30", "packs": [code],
             "bi_lot": "BI-7"}  # fmt: skip
    cycle = client.post("/api/v1/cycles", json=start, headers=who["tech"]).json()
    done = {"mechanical_ok": True, "chemical_ok": True, **GOOD_READINGS["gravity_121_30"]}
    let_time_pass(client, cycle_minutes(done))
    client.post(f"/api/v1/cycles/{cycle['id']}/complete", json=done, headers=who["tech"])
    client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "NORTH"}, headers=who["tech"])
    users.create(Role.MA, "csp-only", sites=["CSP"])  # sees CSP's cycle, not NORTH's packs
    csp = {"Authorization": f"Bearer {users.token('csp-only')}"}
    let_time_pass(client, 24 * 60 + 1)  # a BI is read after its incubation
    bi = client.post(f"/api/v1/cycles/{cycle['id']}/bi-result",
                     json={"result": "positive", "control_grew": True}, headers=csp)  # fmt: skip
    assert bi.status_code == 200, bi.text
    seen = client.get(f"/api/v1/packs/{code}", headers=who["nurse"]).json()
    assert seen["status"] == "recalled" and seen["usable"] is False
    assert "positive spore test" in seen["reasons"][0]


def test_a_pack_used_at_another_site_stays_in_its_sterilizers_compliance_findings(client, users):
    """The implant released early at CSP and opened at NORTH before its BI was read: the
    finding belongs to CSP's sterilizer, in CSP's report and in the group's."""
    who = group(client, users)
    admin = users.headers(Role.ADMIN)
    ster = {"code": "CSP-A", "name": "CSP autoclave", "kind": "steam_gravity", "site": "CSP"}
    assert client.post("/api/v1/sterilizers", json=ster, headers=admin).status_code == 201
    made = client.post("/api/v1/packs", json={"description": "Bone screw set", "implant": True,
                       "site": "CSP"}, headers=who["tech"])  # fmt: skip
    code = made.json()["items"][0]["code"]
    start = {"sterilizer": "CSP-A", "cycle_type": "gravity_121_30", "packs": [code],
             "bi_lot": "LOT-T"}  # fmt: skip
    cycle = client.post("/api/v1/cycles", json=start, headers=who["tech"]).json()
    done = {"mechanical_ok": True, "chemical_ok": True, "integrator": "pass",
            **GOOD_READINGS["gravity_121_30"]}  # fmt: skip
    let_time_pass(client, cycle_minutes(done))
    assert client.post(f"/api/v1/cycles/{cycle['id']}/complete", json=done,
                       headers=who["tech"]).is_success  # fmt: skip
    release = {"reason": "emergency case at North"}
    released = client.post(f"/api/v1/cycles/{cycle['id']}/early-release", json=release,
                           headers=who["tech"])  # fmt: skip
    assert released.is_success, released.text
    sent = client.post(f"/api/v1/packs/{code}/transfer", json={"to_site": "NORTH"},
                       headers=who["tech"])  # fmt: skip
    assert sent.is_success, sent.text
    used = client.post(f"/api/v1/packs/{code}/use", json={"encounter_ref": "ENC-N1"},
                       headers=who["nurse"])  # fmt: skip
    assert used.is_success, used.text

    def early_implants(params: dict[str, str]) -> list[str]:
        report = client.get("/api/v1/sterilization/compliance", params=params, headers=admin)
        assert report.status_code == 200, report.text
        [found] = [s for s in report.json()["sterilizers"] if s["code"] == "CSP-A"]
        return [p["code"] for p in found["implants_used_before_negative_bi"]]

    assert early_implants({"site": "CSP"}) == [code]
    assert early_implants({}) == [code]
