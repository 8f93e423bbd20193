"""Sterilization test data made through the real HTTP API (sterilizers, packs, cycles)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.clock import FixedClock
from kernel.db import utcnow
from tests.factories import UserFactory, grant_competency

_sterilizer_numbers = itertools.count(1)

GOOD_READINGS = {
    "prevac_132_4": {"temperature_c": 132.5, "exposure_minutes": 4.0},
    "prevac_134_3": {"temperature_c": 134.2, "exposure_minutes": 3.5},
    "gravity_121_30": {"temperature_c": 121.5, "exposure_minutes": 30.0},
    "gravity_132_15": {"temperature_c": 132.1, "exposure_minutes": 15.0},
    "flash_132_3": {"temperature_c": 132.1, "exposure_minutes": 3.0},
    "bowie_dick": {"temperature_c": 134.0, "exposure_minutes": 3.5},
    "leak_test": {},
    "bi_test": {"temperature_c": 132.0, "exposure_minutes": 4.0},
}


def let_time_pass(client: TestClient[Any], minutes: float) -> FixedClock:
    """Move the app's clock on (pinning it first if it runs on the wall clock): a cycle
    cannot be completed with more exposure than the time it ran."""
    clock = client.app.state.clock
    if not isinstance(clock, FixedClock):
        clock = FixedClock(clock.tz, utcnow())
        client.app.state.clock = clock
    clock.advance(dt.timedelta(minutes=minutes))
    return clock


def cycle_minutes(body: dict[str, Any]) -> float:
    """How long a cycle with these readings takes: exposure and drying, plus heating up."""
    return (body.get("exposure_minutes") or 0) + (body.get("dry_minutes") or 0) + 10


class Sterilization:
    """Drives the sterilization API as an MA (and an admin where the rules need one)."""

    def __init__(self, client: TestClient[Any], users: UserFactory) -> None:
        self.client = client
        self.users = users

    @property
    def ma(self) -> dict[str, str]:
        """The MA, trained for sterilizer operation (tests of training make their own)."""
        if Role.MA.value not in self.users.usernames:
            headers = self.users.headers(Role.MA)
            grant_competency(
                self.users.database, self.users.usernames["ma"], "sterilizer_operation"
            )
            return headers
        return self.users.headers(Role.MA)

    @property
    def admin(self) -> dict[str, str]:
        return self.users.headers(Role.ADMIN)

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def sterilizer(
        self, kind: str = "steam_gravity", name: str | None = None, code: str | None = None
    ) -> dict[str, Any]:
        n = next(_sterilizer_numbers)
        body = {"code": code or f"AC{n}", "name": name or f"Autoclave {n}", "kind": kind}
        return self.ok(self.client.post("/api/v1/sterilizers", json=body, headers=self.admin), 201)

    def packs(self, quantity: int = 1, *, implant: bool = False, description: str = "Exam kit"):
        body = {
            "description": description,
            "contents": [{"name": "Mirror", "quantity": 1}, {"name": "Explorer", "quantity": 1}],
            "quantity": quantity,
            "implant": implant,
        }
        items = self.ok(self.client.post("/api/v1/packs", json=body, headers=self.ma), 201)["items"]
        return [p["code"] for p in items]

    def start(
        self,
        sterilizer: str,
        packs: list[str] | None = None,
        *,
        cycle_type: str = "gravity_121_30",
        bi_lot: str | None = None,
        implants: bool | None = None,
        expect: int = 201,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sterilizer": sterilizer,
            "cycle_type": cycle_type,
            "packs": packs or [],
        }
        if bi_lot is not None:
            body["bi_lot"] = bi_lot
        if implants is not None:
            body["implants"] = implants
        if cycle_type == "flash_132_3":  # immediate use: for one patient, with a reason
            body["iuss"] = {"reason": "instrument dropped during the procedure",
                            "encounter_ref": "ENC-IUSS"}  # fmt: skip
        return self.ok(self.client.post("/api/v1/cycles", json=body, headers=self.ma), expect)

    def complete(self, cycle: dict[str, Any], expect: int = 200, **overrides: Any) -> Any:
        body = {
            "mechanical_ok": True,
            "chemical_ok": True,
            "pressure_kpa": 205.0,
            **GOOD_READINGS[cycle["cycle_type"]],
            **overrides,
        }
        if "ended_at" not in body:
            let_time_pass(self.client, cycle_minutes(body))
        return self.ok(
            self.client.post(f"/api/v1/cycles/{cycle['id']}/complete", json=body, headers=self.ma),
            expect,
        )

    def run(self, sterilizer: str, packs: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        """Start and complete a good cycle; returns the completed cycle."""
        cycle = self.start(sterilizer, packs, **kwargs)
        return self.complete(cycle)

    def bi(self, cycle_id: int, result: str, *, control_grew: bool = True, expect: int = 200):
        """Read the BI once its incubation is over (the clock waits for it)."""
        clock = let_time_pass(self.client, 1)
        cycle = self.client.get(f"/api/v1/cycles/{cycle_id}", headers=self.ma)
        earliest = cycle.json().get("earliest_bi_read_at") if cycle.status_code == 200 else None
        if earliest:
            wait = dt.datetime.fromisoformat(earliest) - clock.now()
            if wait > dt.timedelta(0):
                clock.advance(wait)
        body = {"result": result, "control_grew": control_grew}
        return self.ok(
            self.client.post(f"/api/v1/cycles/{cycle_id}/bi-result", json=body, headers=self.ma),
            expect,
        )

    def requalify(self, sterilizer: dict[str, Any]) -> None:
        """Three empty-chamber BI tests read negative (and, pre-vacuum, three passed
        Bowie-Dick tests): what a requalifying sterilizer needs before service."""
        for n in range(3):
            if sterilizer["kind"] == "steam_prevac":
                self.run(sterilizer["code"], cycle_type="bowie_dick")
            test = self.run(sterilizer["code"], cycle_type="bi_test", bi_lot=f"REQ-{n}")
            self.bi(test["id"], "negative")

    def pack(self, code: str) -> dict[str, Any]:
        return self.ok(self.client.get(f"/api/v1/packs/{code}", headers=self.ma))

    def use(self, code: str, encounter: str = "ENC-1") -> Any:
        let_time_pass(self.client, 1)
        return self.client.post(
            f"/api/v1/packs/{code}/use", json={"encounter_ref": encounter}, headers=self.ma
        )
