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

import asyncio
import contextlib
import functools
import threading
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy.sql import Select

from kernel.db import Database
from kernel.direct_sql import Direct
from kernel.problems import NotAuthenticated
from kernel.sites.scope import SiteScope

T = TypeVar("T")


class PreparedRead:
    """A Core SELECT compiled once per dialect (`kernel.direct_sql`); `first` / `all` give
    named tuples whose fields are the statement's column keys, converted as SQLAlchemy
    would (dates from SQLite's text, booleans, UTC datetimes)."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.row = namedtuple("Row", list(statement.selected_columns.keys()))  # type: ignore[misc]
        self._direct = Direct(statement)

    def _run(self, db: Database, params: Mapping[str, Any], many: bool) -> list[Any]:
        compiled = self._direct.compiled_for(db.engine.dialect)
        args = compiled.parameters(params)
        if db.is_sqlite:  # the pool costs microseconds here: no ping, no round trip
            raw = db.engine.raw_connection()
            try:
                rows = _fetch(raw.driver_connection, compiled.sql, args, many)
            finally:
                raw.close()
        else:
            rows = read_connections(db).fetch(compiled.sql, args, many)
        make = self.row._make
        return [make(row) for row in compiled.rows([r for r in rows if r is not None])]

    def first(self, db: Database, params: Mapping[str, Any]) -> Any:
        rows = self._run(db, params, many=False)
        return rows[0] if rows else None

    def all(self, db: Database, params: Mapping[str, Any]) -> list[Any]:
        return self._run(db, params, many=True)


def _fetch(driver: Any, sql: str, args: Any, many: bool) -> list[Any]:
    cursor = driver.cursor()
    try:
        cursor.execute(sql, args)
        return cursor.fetchall() if many else [cursor.fetchone()]
    finally:
        cursor.close()


READ_CONNECTIONS = 8  # per worker: PostgreSQL reads at once (`run_read`'s limiter)
_CONNECTIONS = "kernel.reads.connections"
_LIMITERS: weakref.WeakKeyDictionary[Any, CapacityLimiter] = weakref.WeakKeyDictionary()


class ReadConnections:
    """PostgreSQL: a few connections kept for `PreparedRead`s, in autocommit, outside the
    engine's pool. Taking one from the pool cost a ping (the engine's pre-ping, a round
    trip and as much CPU as the read itself) and an autocommit switch each way; these
    never serve a writer, so they stay in autocommit. A connection found broken (a server
    restarted while it was idle) is dropped and the read tried once on a new one."""

    def __init__(self, db: Database, keep: int = READ_CONNECTIONS) -> None:
        self._db = db
        self._keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False

    def _take(self) -> tuple[Any, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return self._db.detached_connection(), False  # never returns to the pool

    def _give(self, driver: Any) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._keep:
                self._idle.append(driver)
                return
        driver.close()

    def fetch(self, sql: str, args: Any, many: bool) -> list[Any]:
        for attempt in (1, 2):
            driver, kept = self._take()
            try:
                rows = _fetch(driver, sql, args, many)
            except Exception:
                broken = bool(driver.closed or getattr(driver, "broken", False))
                with contextlib.suppress(Exception):  # closing a broken connection
                    driver.close()
                if broken and kept and attempt == 1:
                    continue
                raise
            self._give(driver)
            return rows
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for driver in idle:
            with contextlib.suppress(Exception):  # closing a broken connection
                driver.close()


def read_connections(db: Database) -> ReadConnections:
    """The database's kept read connections (made on first use, closed with it)."""
    return db.extension(_CONNECTIONS, ReadConnections, ReadConnections.close)


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
    """Run a service's `PreparedRead`s for an async handler: inline when the database is
    on this machine (SQLite, or PostgreSQL over loopback or a Unix socket: an indexed read
    and its round trip take tens of microseconds, less than a worker thread's hop; the
    scan's p99 at 32 connections on PostgreSQL went 36 → 25-29 ms), in a worker thread
    when PostgreSQL is on another host (a network round trip must not hold the event
    loop), at most `READ_CONNECTIONS` at once (one kept connection each)."""
    db = reader.db
    if db.is_local:
        return read(*args, **kwargs)
    loop = asyncio.get_running_loop()  # a limiter belongs to its event loop
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS.setdefault(loop, CapacityLimiter(READ_CONNECTIONS))
    return await to_thread.run_sync(functools.partial(read, *args, **kwargs), limiter=limiter)


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
