"""The machine counts its own cycles: a cycle can be started with the number on its display
(SPEC section 8), and every cycle detail lists discrepancies (`[]` when there is no record)."""

from __future__ import annotations


def test_a_cycle_is_started_with_the_machine_cycle_number_read_off_the_display(steri):
    sterilizer = steri.sterilizer()
    body = {"sterilizer": sterilizer["code"], "cycle_type": "gravity_121_30",
            "machine_cycle_number": 259}  # fmt: skip
    started = steri.ok(steri.client.post("/api/v1/cycles", json=body, headers=steri.ma), 201)
    assert started["machine_cycle_number"] == 259
    detail = steri.ok(steri.client.get(f"/api/v1/cycles/{started['id']}", headers=steri.ma))
    assert detail["machine_cycle_number"] == 259
    log = steri.ok(steri.client.get("/api/v1/cycles", headers=steri.ma))
    assert [c["machine_cycle_number"] for c in log["items"]] == [259]


def test_a_negative_machine_cycle_number_is_refused(steri):
    sterilizer = steri.sterilizer()
    body = {"sterilizer": sterilizer["code"], "cycle_type": "gravity_121_30",
            "machine_cycle_number": -1}  # fmt: skip
    response = steri.client.post("/api/v1/cycles", json=body, headers=steri.ma)
    assert response.status_code in (400, 422)
    assert "machine_cycle_number" in response.text


def test_a_cycle_without_a_machine_record_has_no_discrepancies(steri):
    sterilizer = steri.sterilizer()
    cycle = steri.run(sterilizer["code"])
    assert cycle["discrepancies"] == []
    assert cycle["machine_records"] == []
    assert cycle["machine_cycle_number"] is None
