"""Sterilizer identity and BI cadence (SPEC section 7): make, model and serial number
(unique when set), `bi_frequency` on create and `PATCH`, audited, nothing written on a
refusal."""

from __future__ import annotations

from sqlalchemy import select

from kernel.audit.models import AuditEntry
from kernel.db import Database

NEW = {"code": "AC-Z", "name": "Autoclave Z", "kind": "steam_prevac"}


def test_a_sterilizer_records_manufacturer_model_serial_and_bi_frequency(steri, client):
    body = NEW | {
        "manufacturer": "Tuttnauer",
        "model": "Elara 11",
        "serial_number": " 2412345 ",
        "bi_frequency": "daily",
    }
    created = steri.ok(client.post("/api/v1/sterilizers", json=body, headers=steri.admin), 201)
    assert created["manufacturer"] == "Tuttnauer" and created["model"] == "Elara 11"
    assert created["serial_number"] == "2412345" and created["bi_frequency"] == "daily"
    one = steri.ok(client.get("/api/v1/sterilizers/AC-Z", headers=steri.ma))
    assert one["serial_number"] == "2412345" and one["bi_frequency"] == "daily"
    listed = steri.ok(client.get("/api/v1/sterilizers", headers=steri.ma))["items"]
    assert [s["model"] for s in listed] == ["Elara 11"]


def test_bi_frequency_defaults_to_weekly_and_identity_is_optional(steri):
    created = steri.sterilizer()
    assert created["bi_frequency"] == "weekly"
    assert created["manufacturer"] is None and created["serial_number"] is None


def test_a_serial_number_belongs_to_one_sterilizer_only(steri, client):
    steri.ok(client.post("/api/v1/sterilizers", json=NEW | {"serial_number": "SN-1"},
                         headers=steri.admin), 201)  # fmt: skip
    again = client.post(
        "/api/v1/sterilizers",
        json={"code": "AC-Y", "name": "Y", "kind": "dry_heat", "serial_number": "SN-1"},
        headers=steri.admin,
    )
    assert again.status_code == 409
    assert (
        again.json()["errors"][0]["field"] == "serial_number" and "AC-Z" in again.json()["detail"]
    )
    other = steri.sterilizer(code="AC-W")
    patched = client.patch(
        "/api/v1/sterilizers/AC-W", json={"serial_number": "SN-1"}, headers=steri.admin
    )
    assert patched.status_code == 409 and patched.json()["errors"][0]["field"] == "serial_number"
    assert (
        steri.ok(client.get("/api/v1/sterilizers/AC-W", headers=steri.ma))["serial_number"] is None
    )
    assert other["serial_number"] is None
    # Any number of sterilizers may have no serial number.
    steri.sterilizer()
    steri.sterilizer()


def test_patch_changes_only_the_details_given_and_is_audited(steri, client, database: Database):
    steri.ok(client.post("/api/v1/sterilizers", json=NEW | {"manufacturer": "Midmark",
                         "serial_number": "M-9"}, headers=steri.admin), 201)  # fmt: skip
    patched = steri.ok(
        client.patch(
            "/api/v1/sterilizers/AC-Z",
            json={"model": "M11", "bi_frequency": "every_load"},
            headers=steri.admin,
        )
    )
    assert patched["model"] == "M11" and patched["bi_frequency"] == "every_load"
    assert patched["manufacturer"] == "Midmark" and patched["serial_number"] == "M-9"
    assert patched["status"] == "in_service"
    cleared = steri.ok(
        client.patch("/api/v1/sterilizers/AC-Z", json={"serial_number": None},
                     headers=steri.admin)
    )  # fmt: skip
    assert cleared["serial_number"] is None and cleared["model"] == "M11"
    with database.session(write=False) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sterilizer.update")
            .order_by(AuditEntry.seq)
        ).all()  # fmt: skip
    assert len(entries) == 2
    assert "every_load" in (entries[0].after or "") and "M-9" in (entries[1].before or "")


def test_bad_sterilizer_details_are_refused_naming_the_field(steri, client):
    steri.sterilizer(code="AC-V")
    for body, field in (
        ({"bi_frequency": "monthly"}, "bi_frequency"),
        ({"serial_number": ""}, "serial_number"),
        ({"serial_number": "x" * 81}, "serial_number"),
        ({"manufacturer": "a\x00b"}, "manufacturer"),
        ({"status": "out_of_service"}, "reason"),
        ({"reason": "just because"}, "status"),
        ({}, "status"),
    ):
        response = client.patch("/api/v1/sterilizers/AC-V", json=body, headers=steri.admin)
        assert response.status_code in (400, 422), (body, response.text)
        assert field in response.text, (body, response.text)
    created = client.post(
        "/api/v1/sterilizers", json=NEW | {"bi_frequency": "hourly"}, headers=steri.admin
    )
    assert created.status_code in (400, 422) and "bi_frequency" in created.text
    row = steri.ok(client.get("/api/v1/sterilizers/AC-V", headers=steri.ma))
    assert row["bi_frequency"] == "weekly" and row["status"] == "in_service"


def test_patch_still_takes_a_sterilizer_out_of_service_with_a_reason(steri, client):
    steri.sterilizer(code="AC-U")
    out = steri.ok(
        client.patch(
            "/api/v1/sterilizers/AC-U",
            json={"status": "out_of_service", "reason": "door seal", "bi_frequency": "daily"},
            headers=steri.admin,
        )
    )
    assert out["status"] == "out_of_service" and out["status_reason"] == "door seal"
    assert out["bi_frequency"] == "daily"
