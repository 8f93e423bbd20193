"""Biological indicators, implant quarantine and recalls after a positive spore test."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kernel.auth.models import Role
from sterilization.models import PackEvent, Recall, RecallPack
from tests.sterilization_factories import let_time_pass

BULK_PACKS_POSTGRES = (
    "INSERT INTO packs (code, description, contents, implant, status, cycle_id, "
    "assembled_by, assembled_at, sterilized_at, site_id) "
    "SELECT 'BULK-' || g, 'Kit', '[]', false, 'sterile', %(c)s, 'ma', now(), "
    "now(), 1 FROM generate_series(1, 5000) g"
)
BULK_PACKS_SQLITE = (
    "INSERT INTO packs (code, description, contents, implant, status, cycle_id, "
    "assembled_by, assembled_at, sterilized_at, site_id) "
    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
    "WHERE n < 5000) SELECT 'BULK-' || n, 'Kit', '[]', 0, 'sterile', :c, 'ma', "
    "'2026-11-01 00:00:00', '2026-11-01 00:00:00', 1 FROM g"
)


def test_implant_packs_are_quarantined_until_a_negative_bi(steri, client):
    ster = steri.sterilizer(name="Autoclave B")
    [implant] = steri.packs(implant=True, description="Implant tray")
    [plain] = steri.packs()
    cycle = steri.run(ster["code"], [implant, plain], bi_lot="LOT-7")
    assert cycle["status"] == "awaiting_bi"
    held = steri.pack(implant)
    assert held["status"] == "quarantined" and held["usable"] is False
    assert held["reasons"] == [
        f"implant pack on hold until the spore test (BI) of cycle {cycle['number']} on "
        "Autoclave B is negative"
    ]
    assert steri.use(implant).status_code == 409
    assert steri.pack(plain)["status"] == "sterile"

    done = steri.bi(cycle["id"], "negative")
    assert done["status"] == "passed"
    assert done["bi"]["result"] == "negative" and done["bi"]["lot"] == "LOT-7"
    assert steri.pack(implant)["usable"] is True
    assert steri.use(implant).status_code == 200
    sterilizer = client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma).json()
    assert sterilizer["last_bi_at"] is not None


def test_a_bi_result_can_be_recorded_only_once(steri):
    ster = steri.sterilizer()
    cycle = steri.run(ster["code"], bi_lot="LOT-1")
    steri.bi(cycle["id"], "negative")
    again = steri.bi(cycle["id"], "positive", expect=409)
    assert "already recorded" in again["detail"]


def test_a_bi_needs_a_completed_cycle_and_a_lot(steri, client):
    ster = steri.sterilizer()
    running = steri.start(ster["code"], bi_lot="LOT-1")
    steri.bi(running["id"], "negative", expect=409)
    no_lot = steri.run(steri.sterilizer()["code"])
    steri.bi(no_lot["id"], "negative", expect=422)
    let_time_pass(client, 24 * 60)  # the default BI incubates 24 hours
    response = client.post(
        f"/api/v1/cycles/{no_lot['id']}/bi-result",
        json={"result": "negative", "control_grew": True, "lot": "LOT-2"},
        headers=steri.ma,
    )
    assert response.status_code == 200
    assert response.json()["bi"]["lot"] == "LOT-2"


def test_a_positive_bi_takes_the_sterilizer_out_of_service_and_recalls_exactly_the_packs_since_the_last_negative_bi(  # noqa: E501
    steri, client
):
    ster = steri.sterilizer(name="Autoclave A")
    other = steri.sterilizer(name="Autoclave Z")
    before = steri.packs(2)
    c1 = steri.run(ster["code"], before, bi_lot="LOT-1")  # cycle 1: the last negative BI
    steri.bi(c1["id"], "negative")
    after = steri.packs(4)
    c2 = steri.run(ster["code"], after[:2])  # cycle 2
    steri.use(after[0], "ENC-100")
    c3 = steri.run(ster["code"], after[2:], bi_lot="LOT-2")  # cycle 3: the positive BI
    [elsewhere] = steri.packs()
    steri.run(other["code"], [elsewhere])

    result = steri.bi(c3["id"], "positive")
    assert result["recall_id"] is not None
    sterilizer = client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma).json()
    assert sterilizer["status"] == "out_of_service"
    assert "positive spore test" in sterilizer["status_reason"]

    recall = client.get(f"/api/v1/recalls/{result['recall_id']}", headers=steri.ma).json()
    assert recall["status"] == "open"
    assert recall["triggered_by_cycle"] == c3["id"]
    assert recall["since_cycle_number"] == c1["number"]
    listed = {p["code"]: p for p in recall["packs"]}
    assert set(listed) == set(after)
    assert recall["pack_count"] == 4
    assert listed[after[0]]["status"] == "used"
    assert listed[after[0]]["encounter_ref"] == "ENC-100"
    assert listed[after[0]]["used_at"] is not None
    for code in after[1:]:
        assert listed[code]["status"] == "recalled"
        pack = steri.pack(code)
        assert pack["usable"] is False
        assert pack["reasons"][0].startswith(
            f"recalled: positive spore test on cycle {c3['number']}"
        )
    for code in [*before, elsewhere]:
        assert steri.pack(code)["status"] == "sterile"
    assert c2["number"] == 2
    assert steri.use(after[1]).status_code == 409
    steri.start(ster["code"], expect=409)
    rows = client.get("/api/v1/recalls", headers=steri.ma).json()
    assert rows["total"] == 1
    assert rows["items"][0]["pack_count"] == 4
    assert rows["items"][0]["sterilizer"] == ster["code"]


def test_a_positive_bi_with_no_earlier_negative_recalls_everything_from_that_sterilizer(steri):
    ster = steri.sterilizer()
    codes = steri.packs(3)
    steri.run(ster["code"], codes[:1])
    cycle = steri.run(ster["code"], codes[1:], bi_lot="LOT-1")
    result = steri.bi(cycle["id"], "positive")
    recall = steri.client.get(f"/api/v1/recalls/{result['recall_id']}", headers=steri.ma).json()
    assert recall["since_cycle_number"] is None
    assert {p["code"] for p in recall["packs"]} == set(codes)


def test_a_positive_bi_on_an_implant_load_recalls_the_quarantined_packs(steri):
    ster = steri.sterilizer()
    [implant] = steri.packs(implant=True)
    cycle = steri.run(ster["code"], [implant], bi_lot="LOT-3")
    result = steri.bi(cycle["id"], "positive")
    assert result["status"] == "failed"
    assert steri.pack(implant)["status"] == "recalled"


def test_releasing_a_recall_restores_the_packs(steri, client):
    ster = steri.sterilizer()
    codes = steri.packs(3)
    cycle = steri.run(ster["code"], codes, bi_lot="LOT-1")
    steri.use(codes[0], "ENC-1")
    recall_id = steri.bi(cycle["id"], "positive")["recall_id"]
    body = {"resolution": "released", "reason": "lab confirmed a false positive"}
    assert (
        client.post(f"/api/v1/recalls/{recall_id}/resolve", json=body, headers=steri.ma).status_code
        == 403
    )
    response = client.post(f"/api/v1/recalls/{recall_id}/resolve", json=body, headers=steri.admin)
    assert response.status_code == 200, response.text
    resolved = response.json()
    assert resolved["status"] == "released"
    assert resolved["resolved_by"].startswith("admin")
    assert steri.pack(codes[0])["status"] == "used"
    for code in codes[1:]:
        pack = steri.pack(code)
        assert pack["status"] == "sterile" and pack["usable"] is True
    history = client.get(f"/api/v1/packs/{codes[1]}/history", headers=steri.ma).json()["items"]
    assert [e["event"] for e in history][-2:] == ["recalled", "recall_released"]
    again = client.post(f"/api/v1/recalls/{recall_id}/resolve", json=body, headers=steri.admin)
    assert again.status_code == 409


def test_confirming_a_recall_keeps_the_packs_out_of_use(steri, client):
    ster = steri.sterilizer()
    codes = steri.packs(2)
    cycle = steri.run(ster["code"], codes, bi_lot="LOT-1")
    recall_id = steri.bi(cycle["id"], "positive")["recall_id"]
    response = client.post(
        f"/api/v1/recalls/{recall_id}/resolve",
        json={"resolution": "confirmed", "reason": "repeat BI positive too"},
        headers=steri.admin,
    )
    assert response.status_code == 200
    assert {steri.pack(c)["status"] for c in codes} == {"recalled"}


def test_a_later_load_still_running_at_the_positive_bi_is_recalled_too(steri):
    ster = steri.sterilizer()
    tested = steri.run(ster["code"], bi_lot="LOT-1")
    [late] = steri.packs()
    running = steri.start(ster["code"], [late])
    steri.bi(tested["id"], "positive")
    assert steri.pack(late)["status"] == "recalled"
    steri.complete(running)
    assert steri.pack(late)["status"] == "recalled"


def test_a_positive_bi_recall_over_5000_packs_is_set_based(steri, database, statements):
    """The same few statements whatever the recall's size (per-pack statements would be
    thousands); its time is measured by `scripts/bench.py sterilization`."""
    ster = steri.sterilizer()
    started = steri.start(ster["code"], bi_lot="LOT-1")
    steri.complete(started)
    # Load 5,000 packs into the cycle straight through SQL (the API is tested elsewhere).
    sql = BULK_PACKS_SQLITE if database.is_sqlite else BULK_PACKS_POSTGRES
    with database.engine.begin() as conn:
        conn.exec_driver_sql(sql, {"c": started["id"]})
    statements.reset()
    result = steri.bi(started["id"], "positive")
    count = statements.count
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(RecallPack)) == 5000
        assert session.scalar(select(Recall.pack_count)) == 5000
        assert (
            session.scalar(
                select(func.count()).select_from(PackEvent).where(PackEvent.event == "recalled")
            )
            == 5000
        )
    assert result["recall_id"] is not None
    # About 65, the helper's read of the cycle (for its BI read time) included; per-pack
    # statements would be 5,000 or more.
    assert count < 80, count


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PURCHASING])
def test_auditors_and_purchasing_cannot_record_bi_results(steri, users, role):
    ster = steri.sterilizer()
    cycle = steri.run(ster["code"], bi_lot="LOT-1")
    response = steri.client.post(
        f"/api/v1/cycles/{cycle['id']}/bi-result",
        json={"result": "positive", "control_grew": True},
        headers=users.headers(role),
    )
    assert response.status_code == 403
    assert steri.client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma).json()["bi"] is None


def release(steri, recall_id):
    response = steri.client.post(
        f"/api/v1/recalls/{recall_id}/resolve",
        json={"resolution": "released", "reason": "the lab found the BI vial contaminated"},
        headers=steri.admin,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_releasing_a_recall_returns_implants_still_awaiting_their_own_bi_to_quarantine(steri):
    ster = steri.sterilizer()
    [plain] = steri.packs()
    tested = steri.run(ster["code"], [plain], bi_lot="LOT-1")
    [implant] = steri.packs(implant=True)
    implant_load = steri.run(ster["code"], [implant], bi_lot="LOT-2")
    assert implant_load["status"] == "awaiting_bi"
    recall_id = steri.bi(tested["id"], "positive")["recall_id"]
    assert steri.pack(implant)["status"] == "recalled"
    release(steri, recall_id)
    assert steri.pack(plain)["status"] == "sterile"
    assert steri.pack(implant)["status"] == "quarantined"
    steri.bi(implant_load["id"], "negative")
    assert steri.pack(implant)["usable"] is True


def test_releasing_a_recall_leaves_packs_whose_load_was_still_running_recalled(steri):
    ster = steri.sterilizer()
    tested = steri.run(ster["code"], bi_lot="LOT-1")
    [late] = steri.packs()
    running = steri.start(ster["code"], [late])
    recall_id = steri.bi(tested["id"], "positive")["recall_id"]
    steri.complete(running)
    release(steri, recall_id)
    assert steri.pack(late)["status"] == "recalled"


def test_releasing_a_recall_keeps_packs_another_open_recall_holds(steri):
    ster = steri.sterilizer()
    [pack] = steri.packs()
    first = steri.run(ster["code"], [pack], bi_lot="LOT-1")
    second = steri.run(ster["code"], bi_lot="LOT-2")
    second_recall = steri.bi(second["id"], "positive")["recall_id"]
    first_recall = steri.bi(first["id"], "positive")["recall_id"]
    assert first_recall != second_recall
    release(steri, second_recall)
    assert steri.pack(pack)["status"] == "recalled"
    release(steri, first_recall)
    assert steri.pack(pack)["status"] == "sterile"
