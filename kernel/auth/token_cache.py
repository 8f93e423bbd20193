"""Bearer-token lookups cached per worker, checked against the database on every request.

A token lookup (join of `api_tokens` and `users`) used to cost a worker-thread hop and a
pooled connection per request. Here each worker keeps `token digest -> (user, expiry)` for
the tokens it has seen, tagged with the **auth generation** they were looked up under: a
single-row counter that database triggers bump whenever a token is revoked or a user is
deactivated, re-roled or renamed (migration `0011_auth_generation`). Every request still
reads that counter (one primary-key read on a connection the cache keeps for itself, so
on the event loop, no thread), and a changed counter empties the cache. So a logout or a
deactivation on any worker or from the CLI is honoured on the very next request, on
every worker, exactly as without a cache.

The same counter covers what is worked out from a user's rows on every request: the
sites they see (`kernel.sites`) and their `/users/me` profile are remembered per user
(`recall` / `remember`), and triggers on `sites`, `user_sites` and the user's columns
bump the generation when any of it changes (migration `0018_scope_generation`).

The cache belongs to its `Database` (not to the app): tests that share one app each
bring their own database, so nothing cached by one test is seen by another.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from anyio import to_thread

from kernel.auth.service import CurrentUser
from kernel.db import Database, utcnow

READ_GENERATION = "SELECT generation FROM auth_generation WHERE id = 1"
MAX_ENTRIES = 10_000  # tokens per worker; past it the cache starts again (no LRU needed)
_KEY = "auth_token_cache"
T = TypeVar("T")
_REQUEST = "kernel.auth.cache"  # (cache, generation) a request's authentication used


@dataclass(frozen=True)
class Cached:
    user: CurrentUser
    expires_at: dt.datetime


class TokenCache:
    """Token lookups of one database, valid while the auth generation stays the same."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._entries: dict[str, Cached] = {}
        self._derived: dict[Hashable, Any] = {}
        self._generation: int | None = None
        self._driver: Any = None  # a driver connection of our own, autocommit
        self._read: Any = None  # reads the counter on it: () -> row
        # PostgreSQL: the event loops' shared reads (one connection each).
        self._shared: weakref.WeakKeyDictionary[Any, SharedGenerationReads] = (
            weakref.WeakKeyDictionary()
        )

    def generation(self) -> int | None:
        """The database's auth generation now, or None when it cannot be read (then
        nothing is trusted from the cache and the caller looks the token up)."""
        with self._lock:
            try:
                if self._driver is None:
                    # Autocommit: a read never leaves a transaction open (no snapshot held,
                    # no lock in the way of DDL or TRUNCATE).
                    self._driver = self._db.detached_connection()
                    self._read = self._reader(self._driver)
                row = self._read()
            except Exception:  # a dropped connection, a database being migrated: look up
                self._close_driver()
                return None
            generation = None if row is None else int(row[0])
            self._observe_locked(generation)
            return generation

    async def generation_now(self) -> int | None:
        """`generation()` for a coroutine on the event loop. On PostgreSQL the read is
        sent without blocking the loop, and the requests that arrive while one read is
        in flight share the next one (`SharedGenerationReads`); SQLite reads inline."""
        if self._db.is_sqlite:
            return self.generation()
        loop = asyncio.get_running_loop()
        reads = self._shared.get(loop)
        if reads is None:
            reads = self._shared.setdefault(loop, SharedGenerationReads(self, loop))
        return await reads.read()

    def observe(self, generation: int | None) -> None:
        """A generation read elsewhere (`SharedGenerationReads`): a change empties the
        cache, as `generation()` does."""
        with self._lock:
            self._observe_locked(generation)

    def _observe_locked(self, generation: int | None) -> None:
        if generation != self._generation:
            self._entries.clear()
            self._derived.clear()
            self._generation = generation

    def _reader(self, driver: Any) -> Any:
        """The counter's read: this read is part of every request's cost, and it runs on
        the event loop. SQLite: one cursor kept. PostgreSQL: a statement prepared once on
        the connection and run through libpq directly (`psycopg.pq`): psycopg's cursor
        took 78 µs of wall time and 32 µs of CPU per read here, the prepared statement
        run by libpq 15 and 5, the rest being psycopg's non-blocking wait loop."""
        if self._db.is_sqlite:
            cursor = driver.cursor()

            def read() -> Any:
                cursor.execute(READ_GENERATION)
                return cursor.fetchone()

            return read
        from psycopg import pq

        pgconn = _prepared(driver)
        rows = pq.ExecStatus.TUPLES_OK

        def read_prepared() -> Any:
            result = _checked(pgconn.exec_prepared(_PREPARED, None), rows)
            return (int(result.get_value(0, 0)),) if result.ntuples else None

        return read_prepared

    def get(self, digest: str, generation: int | None) -> CurrentUser | None:
        """The cached user for a token digest, if it was cached under `generation` and the
        token has not expired since."""
        if generation is None:
            return None
        entry = self._entries.get(digest)
        if entry is None or self._generation != generation or entry.expires_at <= utcnow():
            return None
        return entry.user

    def put(self, user: CurrentUser, expires_at: dt.datetime, generation: int | None) -> None:
        """Remember a lookup made after reading `generation`."""
        self._store(self._entries, user.token_hash, Cached(user, expires_at), generation)

    def recall(self, key: Hashable, generation: int | None) -> Any:
        """A value remembered under `generation` (None when it was not, or is stale)."""
        if generation is None or self._generation != generation:
            return None
        return self._derived.get(key)

    def remember(self, key: Hashable, value: Any, generation: int | None) -> None:
        """Keep a value worked out from rows read after `generation` was read."""
        self._store(self._derived, key, value, generation)

    def _store(
        self, store: dict[Any, Any], key: Hashable, value: Any, generation: int | None
    ) -> None:
        # Under the generation read *before* the rows: a bump in between makes the entry
        # stale at once, never wrongly fresh.
        if generation is None:
            return
        with self._lock:
            if self._generation != generation:
                return
            if len(store) >= MAX_ENTRIES:
                store.clear()
            store[key] = value

    def _close_driver(self) -> None:
        driver, self._driver, self._read = self._driver, None, None
        if driver is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to close
                driver.close()

    def close(self) -> None:
        for reads in list(self._shared.values()):
            reads.close()
        with self._lock:
            self._entries.clear()
            self._derived.clear()
            self._generation = None
            self._close_driver()


_PREPARED = b"steristock_auth_generation"


class SharedGenerationReads:
    """PostgreSQL: the auth generation read for one event loop, sent without blocking it,
    one read for every request waiting when it is sent.

    A request that arrives while a read is in flight waits for the next read, which is
    sent when the one in flight returns: every read a request uses was sent after the
    request arrived, so it sees every commit (a logout, a deactivation) that was answered
    before the request was sent, as a read of its own would. Under load one read serves
    many requests; the blocking read held the loop for a round trip on every request.
    A read that fails gives None to its requests (nothing is trusted from the cache:
    they look their token up) and the connection is made again for the next read."""

    def __init__(self, cache: TokenCache, loop: asyncio.AbstractEventLoop) -> None:
        self._cache = cache
        self._loop = loop
        self._waiting: list[asyncio.Future[int | None]] = []
        self._in_flight = False
        self._driver: Any = None  # a psycopg connection of our own, autocommit
        self._pgconn: Any = None
        self._socket: int | None = None
        self.sent = 0  # reads sent (the tests compare it with the requests served)

    async def read(self) -> int | None:
        waiter: asyncio.Future[int | None] = self._loop.create_future()
        self._waiting.append(waiter)
        if not self._in_flight:
            self._send()
        return await waiter

    def _send(self) -> None:
        batch, self._waiting = self._waiting, []
        self._in_flight = True
        try:
            if self._pgconn is None:
                self._connect()
            self._pgconn.send_query_prepared(_PREPARED, None)
            self.sent += 1
            self._loop.add_reader(self._socket, self._receive, batch)
        except Exception:  # a dropped connection: these requests look their token up
            self._done(batch, None, broken=True)

    def _receive(self, batch: list[asyncio.Future[int | None]]) -> None:
        from psycopg import pq

        pgconn = self._pgconn
        try:
            pgconn.consume_input()
            if pgconn.is_busy():
                return  # the rest of the answer is still on its way
            result = _checked(pgconn.get_result(), pq.ExecStatus.TUPLES_OK)
            while pgconn.get_result() is not None:  # the end of the answer
                pass
            generation = int(result.get_value(0, 0)) if result.ntuples else None
        except Exception:
            self._done(batch, None, broken=True)
            return
        self._done(batch, generation, broken=False)

    def _done(
        self, batch: list[asyncio.Future[int | None]], generation: int | None, *, broken: bool
    ) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):  # the loop may be closing
                self._loop.remove_reader(self._socket)
        if broken:
            self.close()
        else:
            self._cache.observe(generation)
        for waiter in batch:
            if not waiter.done():
                waiter.set_result(generation)
        self._in_flight = False
        if self._waiting:
            self._send()

    def _connect(self) -> None:
        driver = self._cache._db.detached_connection()  # closed with this loop's reads
        try:
            pgconn = _prepared(driver)
        except Exception:
            driver.close()
            raise
        self._driver, self._pgconn, self._socket = driver, pgconn, pgconn.socket

    def close(self) -> None:
        driver, self._driver, self._pgconn, self._socket = self._driver, None, None, None
        if driver is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to close
                driver.close()


def _prepared(driver: Any) -> Any:
    """The psycopg connection's libpq connection, with the counter's read prepared on it."""
    from psycopg import pq

    pgconn = driver.pgconn
    _checked(pgconn.prepare(_PREPARED, READ_GENERATION.encode(), None), pq.ExecStatus.COMMAND_OK)
    return pgconn


def _checked(result: Any, expected: Any) -> Any:
    """A libpq result of the `expected` status, or an error (a dropped connection, a
    server restarted: the caller then drops the connection and looks the token up)."""
    if result.status != expected:
        message = (result.error_message or b"").decode(errors="replace")
        raise ConnectionError(f"auth generation read failed: {message or result.status}")
    return result


def bind_request_cache(scope: Any, cache: TokenCache, generation: int | None) -> None:
    """Leave the cache and the generation authentication read in the request's state, for
    the request's later lookups (`request_cache`)."""
    if generation is not None:
        scope.setdefault("state", {})[_REQUEST] = (cache, generation)


def request_cache(scope: Any) -> tuple[TokenCache, int] | None:
    """The cache and the generation the request's authentication read, if it read one."""
    return scope.get("state", {}).get(_REQUEST)


async def recall_or_load(scope: Any, key: Hashable, load: Callable[[], T]) -> T:
    """A per-user value remembered under the request's auth generation; else `load` runs
    in a worker thread and its result is remembered for the next request."""
    cached = request_cache(scope)
    if cached is not None:
        found = cached[0].recall(key, cached[1])
        if found is not None:
            return found  # type: ignore[no-any-return]
    value = await to_thread.run_sync(load)
    if cached is not None:
        cached[0].remember(key, value, cached[1])
    return value


def token_cache(db: Database) -> TokenCache:
    """The database's token cache (made on first use, closed with the database)."""
    return db.extension(_KEY, TokenCache, TokenCache.close)
