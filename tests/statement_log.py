"""Counting the SQL statements a request sends: how a test pins down work that must not
grow with the data (a page of a large catalogue, a large import), instead of timing it."""

from __future__ import annotations

from typing import Any


class StatementLog:
    """The statements sent to the database (an executemany counts once) since `reset`."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def reset(self) -> None:
        self.statements.clear()

    @property
    def count(self) -> int:
        return len(self.statements)
