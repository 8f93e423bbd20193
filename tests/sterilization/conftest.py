"""Shared fixtures of the sterilization tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event

from kernel.db import Database
from tests.factories import UserFactory
from tests.sterilization_factories import Sterilization


@pytest.fixture
def steri(client: TestClient[Litestar], users: UserFactory) -> Sterilization:
    """The sterilization API driven as an MA (and an admin where the rules need one)."""
    return Sterilization(client, users)


class StatementCount:
    """How many SQL statements ran: set-based work stays a handful whatever its size."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_: Any) -> None:
        self.count += 1


@pytest.fixture
def count_statements(database: Database) -> Callable[[], Any]:
    """`with count_statements() as counted: ...; counted.count` counts the statements
    sent to the database (every connection of the app's engine) inside the block."""

    @contextmanager
    def counting() -> Iterator[StatementCount]:
        counted = StatementCount()
        event.listen(database.engine, "before_cursor_execute", counted)
        try:
            yield counted
        finally:
            event.remove(database.engine, "before_cursor_execute", counted)

    return counting
