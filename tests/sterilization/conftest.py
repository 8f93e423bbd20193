"""Shared fixtures of the sterilization tests."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.factories import UserFactory
from tests.sterilization_factories import Sterilization


@pytest.fixture
def steri(client: TestClient[Litestar], users: UserFactory) -> Sterilization:
    """The sterilization API driven as an MA (and an admin where the rules need one)."""
    return Sterilization(client, users)
