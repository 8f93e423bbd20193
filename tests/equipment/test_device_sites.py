"""Sites own their devices (SPEC section 9): equipment, HLD devices and their logs, and the
maintenance log, are seen only by users of the device's site; another site's device
answers like a missing one."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kernel.auth.models import Role
from kernel.clock import FixedClock

TOKYO = {"code": "TYO", "name": "Tokyo clinic", "timezone": "Asia/Tokyo"}
HLD_RUN = {
    "disinfectant": "OPA",
    "solution_lot": "OPA-1",
    "solution_opened_on": "2026-01-01",
    "solution_expires_on": "2099-01-01",
    "mec_result": "pass",
    "soak_minutes": 12,
    "temperature_c": 22,
    "min_soak_minutes": 12,
    "min_temperature_c": 20,
}


def bearer(users, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users.token(username)}"}


def post(client, path: str, body: dict, headers: dict[str, str], expect: int = 201) -> dict:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == expect, response.text
    return response.json()


def tokyo_and_main_devices(client, users) -> None:
    admin = users.headers(Role.ADMIN)
    post(client, "/api/v1/sites", TOKYO, admin)
    for site, suffix in (("TYO", "T"), (None, "M")):
        where = {"site": site} if site else {}
        post(client, "/api/v1/equipment",
             {"code": f"US-{suffix}", "name": "Ultrasonic", "kind": "ultrasonic", **where},
             admin)  # fmt: skip
        post(client, "/api/v1/hld-devices",
             {"code": f"TEE-{suffix}", "name": "TEE probe", "kind": "probe", **where},
             admin)  # fmt: skip


def test_equipment_and_hld_devices_are_created_at_the_site_named_or_main(client, users):
    tokyo_and_main_devices(client, users)
    admin = users.headers(Role.ADMIN)
    sites = {e["code"]: e["site"] for e in
             client.get("/api/v1/equipment", headers=admin).json()["items"]}  # fmt: skip
    assert sites == {"US-T": "TYO", "US-M": "MAIN"}
    devices = client.get("/api/v1/hld-devices", headers=admin).json()["items"]
    assert {d["code"]: d["site"] for d in devices} == {"TEE-T": "TYO", "TEE-M": "MAIN"}


def test_another_sites_device_answers_like_a_missing_one_and_is_left_out_of_lists(client, users):
    tokyo_and_main_devices(client, users)
    users.create(Role.MA, "mia")  # MAIN only
    mia = bearer(users, "mia")
    for path in ("/api/v1/equipment/US-T", "/api/v1/hld-devices/TEE-T"):
        assert client.get(path, headers=mia).status_code == 404, path
    assert client.get("/api/v1/equipment/NOPE", headers=mia).status_code == 404
    listed = client.get("/api/v1/equipment", headers=mia).json()["items"]
    assert [e["code"] for e in listed] == ["US-M"]
    listed = client.get("/api/v1/hld-devices", headers=mia).json()["items"]
    assert [d["code"] for d in listed] == ["TEE-M"]
    refused = client.post("/api/v1/hld-devices/TEE-T/runs", json=HLD_RUN, headers=mia)
    assert refused.status_code == 404


def test_a_device_of_another_site_cannot_be_given_a_maintenance_record(client, users):
    tokyo_and_main_devices(client, users)
    users.create(Role.ADMIN, "main_admin", all_sites=False, sites=["MAIN"])
    body = {"device": "US-T", "kind": "inspection", "performed_by": "Acme Service",
            "performed_on": "2026-01-05"}  # fmt: skip
    refused = client.post("/api/v1/maintenance", json=body, headers=bearer(users, "main_admin"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "device"


def test_a_maintenance_record_belongs_to_its_devices_site(client, users):
    tokyo_and_main_devices(client, users)
    admin = users.headers(Role.ADMIN)
    body = {"device": "US-T", "kind": "inspection", "performed_by": "Acme Service",
            "performed_on": "2026-01-05"}  # fmt: skip
    assert post(client, "/api/v1/maintenance", body, admin)["site"] == "TYO"
    users.create(Role.AUDITOR, "main_auditor", all_sites=False, sites=["MAIN"])
    seen = client.get("/api/v1/maintenance", headers=bearer(users, "main_auditor"))
    assert seen.status_code == 200 and seen.json()["items"] == []


def test_an_equipments_test_cadence_counts_the_days_of_its_own_site(app, client, users):
    """A daily foil test at 13:30 in Tokyo (22:30 the day before in Chicago): at 16:00 in
    Tokyo the Tokyo cleaner's test of the day is done; the Chicago one, tested at the same
    instant, is due (its day has turned)."""
    chicago = ZoneInfo("America/Chicago")
    app.state.clock = clock = FixedClock(chicago, dt.datetime(2026, 12, 3, 22, 0, tzinfo=chicago))
    admin = users.headers(Role.ADMIN)
    post(client, "/api/v1/sites", TOKYO, admin)
    for code, site in (("US-T", "TYO"), ("US-M", "MAIN")):
        post(client, "/api/v1/equipment", {"code": code, "name": "Ultrasonic",
             "kind": "ultrasonic", "test_frequency": "daily", "site": site}, admin)  # fmt: skip
    clock.advance(dt.timedelta(minutes=30))
    for code in ("US-T", "US-M"):
        post(client, f"/api/v1/equipment/{code}/tests", {"kind": "foil", "result": "pass"}, admin)
    clock.advance(dt.timedelta(hours=2, minutes=30))  # 01:00 in Chicago, 16:00 in Tokyo
    tokyo = client.get("/api/v1/equipment/US-T", headers=admin).json()
    main = client.get("/api/v1/equipment/US-M", headers=admin).json()
    assert (tokyo["site"], tokyo["test_due"]) == ("TYO", False)
    assert (main["site"], main["test_due"]) == ("MAIN", True)
