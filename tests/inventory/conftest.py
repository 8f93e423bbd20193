"""Fixtures of the inventory tests: a catalogue factory with the clinic's three rooms, the
headers of a medical assistant and of purchasing, and the environment of a CLI run (the
count of SQL statements, `statements`, is shared: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.auth.models import Role
from kernel.db import Database
from kernel.settings import get_settings
from tests.factories import UserFactory
from tests.inventory_factories import InventoryFactory


@pytest.fixture
def inv(database: Database) -> InventoryFactory:
    factory = InventoryFactory(database)
    factory.locations("SUPPLY", "EXAM1", "EXAM2")
    return factory


@pytest.fixture
def ma(users: UserFactory) -> dict[str, str]:
    """Bearer headers of a medical assistant."""
    return users.headers(Role.MA)


@pytest.fixture
def buyer(users: UserFactory) -> dict[str, str]:
    """Bearer headers of purchasing."""
    return users.headers(Role.PURCHASING)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """`steristock` commands' environment: the test database, in the test clinic's zone."""
    env = {
        "DATABASE_URL": database_url,
        "STERISTOCK_DATA_DIR": str(tmp_path / "data"),
        "STERISTOCK_SECRET_KEY": "test-secret-key",
        "STERISTOCK_TIMEZONE": "America/Chicago",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()
