"""Importing real sterilizer records through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sterilization.records.samples import dac, tuttnauer
from tests.sterilization_factories import Sterilization

ELARA_SERIAL = "16032087"
DAC_SERIAL = "601362"


class Records:
    """Sterilizers with the samples' serial numbers, and the import endpoint."""

    def __init__(self, steri: Sterilization) -> None:
        self.steri = steri

    def sterilizer(self, serial: str | None, code: str, kind: str = "steam_prevac") -> dict:
        body: dict[str, Any] = {"code": code, "name": f"Sterilizer {code}", "kind": kind}
        if serial is not None:
            body["serial_number"] = serial
        return self.steri.ok(
            self.steri.client.post("/api/v1/sterilizers", json=body, headers=self.steri.admin),
            201,
        )

    def elara(self) -> dict:
        return self.sterilizer(ELARA_SERIAL, "ELARA")

    def dac(self) -> dict:
        return self.sterilizer(DAC_SERIAL, "DAC")

    def post(self, name: str, data: bytes | None = None, *, sterilizer: str | None = None,
             headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        if data is None:
            data = dac(name) if name.startswith("zyklus") else tuttnauer(name)
        form = {"sterilizer": sterilizer} if sterilizer is not None else None
        return self.steri.client.post(
            "/api/v1/cycle-records",
            files={"file": (name, data, "text/plain")},
            data=form,
            headers=headers or self.steri.ma,
        )

    def imported(self, name: str, **kwargs: Any) -> dict:
        return self.steri.ok(self.post(name, **kwargs))

    def cycle(self, cycle_id: int) -> dict:
        return self.steri.ok(
            self.steri.client.get(f"/api/v1/cycles/{cycle_id}", headers=self.steri.ma)
        )

    def log(self) -> list[dict]:
        return self.steri.ok(
            self.steri.client.get("/api/v1/cycles?limit=200", headers=self.steri.ma)
        )["items"]


@pytest.fixture
def records(steri: Sterilization) -> Records:
    return Records(steri)
