"""Hot reads without a Session: a statement compiled once, run on a pooled DBAPI connection.

A scan or a stock look-up is one indexed SELECT, yet through a Session it paid for the
Session and its transaction (a BEGIN, a snapshot of the identity map, a rollback at close),
the statement's cache key on every execution, and ORM or Core result machinery: several
times the query itself. `PreparedRead` keeps the statement's SQL and its columns' result
conversions per database dialect, and runs it on a connection taken from the engine's pool
for that statement alone (each SELECT is its own snapshot, as in PostgreSQL's autocommit
reads; the pool ends anything left open when it takes the connection back).

Nothing here is scoped to the user's sites: `Reader.sites` is the request's `SiteScope`
(remembered per auth generation, like the query scope's), and the service applies it to
the rows it read, as connection-level SQL must (docs/sites.md).
"""

from __future__ import annotations

import functools
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from anyio import to_thread
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select

from kernel.db import Database
from kernel.problems import NotAuthenticated
from kernel.sites.scope import SiteScope

T = TypeVar("T")


@dataclass(frozen=True)
class _Compiled:
    sql: str
    given: dict[str, Any]  # values the statement holds itself (`column == "MAIN"`)
    names: tuple[str, ...]  # bind parameter names, in the order a positional style wants
    positional: bool
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # names whose values need converting
    results: tuple[Callable[[Any], Any] | None, ...]


class PreparedRead:
    """A Core SELECT compiled once per dialect; `first` / `all` give named tuples whose
    fields are the statement's column keys, converted as SQLAlchemy would (dates from
    SQLite's text, booleans, UTC datetimes)."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.row = namedtuple("Row", list(statement.selected_columns.keys()))  # type: ignore[misc]
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        compiled = self.statement.compile(dialect=dialect)
        binds = []
        for name, param in compiled.binds.items():
            convert = param.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                binds.append((name, convert))
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        )
        found = _Compiled(
            sql=compiled.string,
            given={n: p.value for n, p in compiled.binds.items() if not p.required},
            names=tuple(compiled.positiontup or ()),
            positional=bool(compiled.positional),
            binds=tuple(binds),
            results=results,
        )
        with self._lock:
            self._compiled.setdefault(dialect.name, found)
        return found

    def _run(self, db: Database, params: Mapping[str, Any], many: bool) -> list[Any]:
        compiled = self._for(db.engine.dialect)
        values = {**compiled.given, **params}
        for name, convert in compiled.binds:
            values[name] = convert(values[name])
        args: Sequence[Any] | Mapping[str, Any] = (
            tuple(values[n] for n in compiled.names) if compiled.positional else values
        )
        raw = db.engine.raw_connection()
        driver: Any = raw.driver_connection
        # PostgreSQL: autocommit for this one statement, as the request read sessions run
        # (no BEGIN, and no ROLLBACK round trip when the pool takes it back); restored
        # before the pool hands the connection to a writer. SQLite's driver is in
        # autocommit already (`kernel.db` issues BEGIN itself).
        was_autocommit = None if db.is_sqlite else driver.autocommit
        try:
            if was_autocommit is False:
                driver.autocommit = True
            cursor = driver.cursor()
            try:
                cursor.execute(compiled.sql, args)
                rows = cursor.fetchall() if many else [cursor.fetchone()]
            finally:
                cursor.close()
        finally:
            try:
                if was_autocommit is False:
                    driver.autocommit = False
            except Exception:  # a broken connection: never back to the pool as it is
                raw.invalidate()
                raise
            finally:
                raw.close()  # back to the pool, which ends anything left open
        make, results = self.row._make, compiled.results
        return [
            make([v if f is None else f(v) for f, v in zip(results, row, strict=True)])
            for row in rows
            if row is not None
        ]

    def first(self, db: Database, params: Mapping[str, Any]) -> Any:
        rows = self._run(db, params, many=False)
        return rows[0] if rows else None

    def all(self, db: Database, params: Mapping[str, Any]) -> list[Any]:
        return self._run(db, params, many=True)


@dataclass(frozen=True)
class Reader:
    """The `reader` dependency: a request's database for `PreparedRead`s, and the sites
    its user may see (the service applies them to what it reads)."""

    db: Database
    sites: SiteScope

    def site_ids(self) -> tuple[int, ...] | None:
        """The site ids a query must keep to (sorted); None when nothing is hidden."""
        return None if self.sites.sees_everything else tuple(sorted(self.sites.ids))


async def run_read(reader: Reader, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service's `PreparedRead`s for an async handler: inline on SQLite (an indexed
    read in the process itself, tens of microseconds, no network; a worker thread cost
    more than the read), in a worker thread on PostgreSQL (a round trip to the server)."""
    if reader.db.is_sqlite:
        return read(*args, **kwargs)
    return await to_thread.run_sync(functools.partial(read, *args, **kwargs))


async def provide_reader(state: State, scope: Scope) -> Reader:
    """The request user's scope comes from the per-worker cache under the auth generation
    the request's authentication read (`kernel.sites.query_scope.remembered_scope`); only
    a miss reads the sites, in a worker thread. Only for signed-in users' requests."""
    from kernel.sites.query_scope import remembered_scope, request_user_id, scope_loader

    db: Database = state.db
    user_id = request_user_id(scope)
    if user_id is None:
        raise NotAuthenticated()
    sites = remembered_scope(scope, user_id)
    if sites is None:
        sites = await to_thread.run_sync(scope_loader(db, scope, user_id))
    return Reader(db, sites)
