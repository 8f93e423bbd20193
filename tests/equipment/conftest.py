"""Shared fixtures of the equipment tests."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.equipment_factories import EquipmentApi
from tests.factories import UserFactory


@pytest.fixture
def eq(client: TestClient[Litestar], users: UserFactory) -> EquipmentApi:
    return EquipmentApi(client, users)
