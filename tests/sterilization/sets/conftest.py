"""Instrument sets made through the real HTTP API: instruments, count sheets, trays."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.factories import UserFactory
from tests.sterilization_factories import Sterilization

SUTURE_INSTRUMENTS = [
    ("NH-MAYO-14", "Mayo-Hegar needle holder 14 cm"),
    ("FC-ADSON", "Adson forceps 1x2 teeth"),
    ("SC-IRIS-11", "Iris scissors 11 cm"),
    ("SC-SUTURE", "Suture scissors"),
]


class Sets(Sterilization):
    """Drives the instrument-set API as an MA."""

    def instrument(self, code: str, name: str, **extra: Any) -> dict[str, Any]:
        body = {"code": code, "name": name, **extra}
        return self.ok(self.client.post("/api/v1/instruments", json=body, headers=self.ma), 201)

    def template(
        self,
        code: str = "SUTURE",
        *,
        name: str = "Suture kit",
        packaging: str = "wrap",
        items: list[tuple[str, int]] | None = None,
        shelf_life_days: int | None = None,
    ) -> dict[str, Any]:
        if items is None:
            for inst_code, inst_name in SUTURE_INSTRUMENTS:
                if (
                    self.client.get(f"/api/v1/instruments/{inst_code}", headers=self.ma).status_code
                    == 404
                ):
                    self.instrument(inst_code, inst_name)
            items = [("NH-MAYO-14", 1), ("FC-ADSON", 2), ("SC-IRIS-11", 1), ("SC-SUTURE", 1)]
        body: dict[str, Any] = {
            "code": code,
            "name": name,
            "packaging": packaging,
            "items": [{"instrument": i, "quantity": q} for i, q in items],
        }
        if shelf_life_days is not None:
            body["shelf_life_days"] = shelf_life_days
        return self.ok(self.client.post("/api/v1/set-templates", json=body, headers=self.ma), 201)

    def tray(self, template: str = "SUTURE") -> dict[str, Any]:
        return self.ok(
            self.client.post("/api/v1/sets", json={"template": template}, headers=self.ma), 201
        )

    def get_set(self, code: str) -> dict[str, Any]:
        return self.ok(self.client.get(f"/api/v1/sets/{code}", headers=self.ma))


@pytest.fixture
def sets(client: TestClient[Litestar], users: UserFactory) -> Sets:
    return Sets(client, users)
