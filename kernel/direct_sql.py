"""Hot statements run straight on the driver's cursor.

A consume runs about ten small statements; profiling showed SQLAlchemy's execution path
(events, execution context, result objects) costing 20-100 µs of CPU each, more than
the database work. A `Direct` statement is a Core statement compiled once per dialect;
each run applies SQLAlchemy's own bind and result processors for its column types (so
values are stored and read exactly as through `Connection.execute`) and returns plain
tuples. It runs on the connection's current transaction (the caller has begun it, e.g.
with `session.connection()`). Driver errors are raised as SQLAlchemy's (`IntegrityError`,
`OperationalError` ...), as `Connection.execute` would. Writes mark the connection as
written (`WROTE`), which the sealing at commit relies on (`kernel.audit.sealing`).

Only for statements without expanding (`IN`) or literal-rendered parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import exc
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

# connection.info: how many INSERT/UPDATE/DELETE statements this transaction ran (its
# rows are sealed at commit; `kernel.write_batches` tells a write that wrote by it).
WROTE = "steristock_dml"


def note_write(connection: Connection) -> None:
    connection.info[WROTE] = connection.info.get(WROTE, 0) + 1


def writes_so_far(connection: Connection) -> int:
    """INSERT, UPDATE and DELETE statements run in the connection's transaction so far."""
    return connection.info.get(WROTE, 0)  # type: ignore[no-any-return]


Processor = Callable[[Any], Any] | None


# PostgreSQL's type codes for a Float column's values (double precision) and a Numeric's.
_PG_FLOAT8, _PG_NUMERIC = 701, 1700


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    """SQLAlchemy's conversion of a result column's values. Its PostgreSQL numeric types
    choose one by the type code a cursor reports, which a statement compiled before it runs
    has not seen: the code such a column is created with stands in."""
    try:
        return type_._cached_result_processor(dialect, None)  # type: ignore[no-any-return]
    except (TypeError, exc.InvalidRequestError):
        if not isinstance(type_, (sqltypes.Numeric, sqltypes.Float)):
            raise
        code = _PG_FLOAT8 if isinstance(type_, sqltypes.Float) else _PG_NUMERIC
        return type_._cached_result_processor(dialect, code)  # type: ignore[no-any-return]


class CompiledStatement:
    """A statement's SQL for one dialect, with SQLAlchemy's value conversions both ways."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a Direct statement cannot have expanding or literal parameters")
        self.sql = compiled.string
        self.defaults = compiled.construct_params(_check=False)
        self.binds: dict[str, Callable[[Any], Any]] = dict(compiled._bind_processors)  # type: ignore[arg-type]
        self.order: list[str] | None = (
            list(compiled.positiontup or []) if compiled.positional else None
        )
        # Positional drivers (SQLite): each slot's name and conversion, in order.
        self.slots: list[tuple[str, Processor]] | None = (
            [(name, self.binds.get(name)) for name in self.order]
            if self.order is not None
            else None
        )
        self.results: list[Processor] = [
            _result_processor(column[3], dialect) for column in compiled._result_columns
        ]
        self.any_result_processor = any(p is not None for p in self.results)
        # Whether it returns rows; a textual statement's is only known from the cursor
        # (asking psycopg builds its column descriptions: microseconds per statement).
        self.returns_rows: bool | None = (
            True if self.results else None if isinstance(statement, TextClause) else False
        )

    def parameters(self, params: Mapping[str, Any] | None) -> Any:
        values = {**self.defaults, **params} if params else self.defaults
        if self.slots is not None:
            return tuple(
                values[name] if process is None else process(values[name])
                for name, process in self.slots
            )
        values = dict(values)
        for name, process in self.binds.items():
            if name in values:
                values[name] = process(values[name])
        return values

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        if not self.any_result_processor:
            return [tuple(r) for r in raw]
        results = self.results
        return [
            tuple(v if p is None else p(v) for p, v in zip(results, r, strict=True)) for r in raw
        ]


def stream_tuples(
    connection: Connection, statement: ClauseElement, size: int
) -> Generator[list[tuple[Any, ...]]]:
    """A long read, `size` rows at a time as the driver returns them (no result
    processing), in constant memory. On PostgreSQL one query is streamed in chunks
    (psycopg's `stream`): the server goes on producing rows while these are handled, where
    pages read by keyset were each planned, started and sorted again (a log of 125,000
    cycles: 1.4-1.9 s of reading, 0.5-0.8 s streamed). Elsewhere the cursor is read
    `size` rows at a time. Close it before its transaction ends: an open stream holds the
    psycopg connection's lock, which the rollback waits for."""
    if connection.dialect.name != "postgresql":
        result = connection.execute(statement)
        try:
            while rows := result.cursor.fetchmany(size):
                yield rows
        finally:
            result.close()
        return
    # Compiled for this one run: expanding (`IN`) parameters rendered, values converted as
    # `Connection.execute` would.
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    values = compiled.construct_params()
    for name, process in compiled._bind_processors.items():
        if name in values:
            values[name] = process(values[name])  # type: ignore[operator]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    streamed = cursor.stream(compiled.string, values, size=size)
    try:
        while chunk := list(islice(streamed, size)):
            yield chunk
    except connection.dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            compiled.string, values, error, connection.dialect.loaded_dbapi.Error,
            dialect=connection.dialect,
        ) from error  # fmt: skip
    finally:
        streamed.close()  # a reader that stops early: the query is cancelled
        cursor.close()


class Direct:
    """A Core statement (built once, with bind parameters) run on the DBAPI cursor."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self.writes = isinstance(statement, UpdateBase)
        self._compiled: dict[str, CompiledStatement] = {}

    def compiled_for(self, dialect: Dialect) -> CompiledStatement:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = CompiledStatement(self.statement, dialect)
        return compiled

    def run(
        self, connection: Connection, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run once; the rows it returns (none for a write without RETURNING)."""
        compiled = self.compiled_for(connection.dialect)
        fetched = self._execute(connection, compiled, compiled.parameters(params), many=False)
        return compiled.rows(fetched)

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per parameter set (an INSERT of many rows)."""
        compiled = self.compiled_for(connection.dialect)
        self._execute(connection, compiled, [compiled.parameters(r) for r in rows], many=True)

    def _execute(
        self, connection: Connection, compiled: CompiledStatement, values: Any, *, many: bool
    ) -> Sequence[Sequence[Any]]:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            if many:
                cursor.executemany(compiled.sql, values)
                fetched: Sequence[Sequence[Any]] = []
            else:
                cursor.execute(compiled.sql, values)
                returns_rows = compiled.returns_rows
                if returns_rows is None:
                    returns_rows = cursor.description is not None
                fetched = cursor.fetchall() if returns_rows else []
        except connection.dialect.loaded_dbapi.Error as error:
            raise self._wrapped(connection, compiled, values, error) from error
        finally:
            cursor.close()
        if self.writes:
            note_write(connection)
        return fetched

    @staticmethod
    def _wrapped(
        connection: Connection, compiled: CompiledStatement, values: Any, error: Exception
    ) -> Exception:
        dbapi = connection.dialect.loaded_dbapi
        return exc.DBAPIError.instance(
            compiled.sql, values, error, dbapi.Error, dialect=connection.dialect
        )
