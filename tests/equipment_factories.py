"""Drives the equipment API as an MA (and an admin where the rules need one)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.clock import FixedClock
from tests.factories import UserFactory

CHICAGO = ZoneInfo("America/Chicago")
_codes = itertools.count(1)
# A passing OPA run on 2026-12-02 (the tests pin the clock around then).
HLD_RUN = {
    "disinfectant": "OPA (Cidex OPA)",
    "solution_lot": "OPA-2231",
    "solution_opened_on": "2026-11-25",
    "solution_expires_on": "2026-12-09",
    "mec_result": "pass",
    "soak_minutes": 12,
    "temperature_c": 22,
    "min_soak_minutes": 12,
    "min_temperature_c": 20,
}


class EquipmentApi:
    def __init__(self, client: TestClient[Any], users: UserFactory) -> None:
        self.client, self.users = client, users

    @property
    def admin(self) -> dict[str, str]:
        return self.users.headers(Role.ADMIN)

    @property
    def ma(self) -> dict[str, str]:
        return self.users.headers(Role.MA)

    def pin(self, at: dt.datetime) -> FixedClock:
        """Stop the app's clock at `at` (a local Chicago wall-clock time if naive)."""
        clock = FixedClock(CHICAGO, at if at.tzinfo else at.replace(tzinfo=CHICAGO))
        self.client.app.state.clock = clock
        return clock

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None, expect: int = 201):
        response = self.client.post(path, json=body, headers=headers or self.ma)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.ma)
        assert response.status_code == expect, response.text
        return response.json()

    def equipment(self, kind: str = "ultrasonic", **extra: Any) -> str:
        body = {"code": f"EQ-{next(_codes)}", "kind": kind, "name": f"{kind} cleaner", **extra}
        return self.post("/api/v1/equipment", body, self.admin)["code"]

    def sterilizer(self, kind: str = "steam_prevac") -> str:
        body = {"code": f"AC-{next(_codes)}", "name": "Autoclave", "kind": kind}
        return self.post("/api/v1/sterilizers", body, self.admin)["code"]

    def test(self, code: str, result: str = "pass", expect: int = 201, **extra: Any) -> Any:
        body = {"kind": "foil", "result": result, **extra}
        return self.post(f"/api/v1/equipment/{code}/tests", body, expect=expect)

    def run(self, code: str, result: str = "pass", expect: int = 201, **extra: Any) -> Any:
        return self.post(
            f"/api/v1/equipment/{code}/runs", {"result": result, **extra}, expect=expect
        )

    def hld_device(self, **extra: Any) -> str:
        body = {"code": f"TEE-{next(_codes)}", "name": "TEE probe", "kind": "probe", **extra}
        return self.post("/api/v1/hld-devices", body, self.admin)["code"]

    def hld_run(self, code: str, expect: int = 201, headers: dict[str, str] | None = None,
                **extra: Any) -> Any:  # fmt: skip
        body = {**HLD_RUN, **extra}
        return self.post(f"/api/v1/hld-devices/{code}/runs", body, headers, expect=expect)

    def use(self, code: str, encounter_ref: str = "ENC-1", expect: int = 200) -> Any:
        body = {"encounter_ref": encounter_ref}
        return self.post(f"/api/v1/hld-devices/{code}/use", body, expect=expect)

    def maintenance(self, device: str, expect: int = 201, **extra: Any) -> Any:
        body = {
            "device": device,
            "kind": "preventive",
            "performed_by": "Acme Biomedical",
            "performed_on": "2026-11-02",
            **extra,
        }
        return self.post("/api/v1/maintenance", body, expect=expect)
