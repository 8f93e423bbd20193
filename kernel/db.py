"""Database engine, column types and the per-request session.

SQLite is the zero-setup default (one file, WAL, foreign keys, busy timeout); PostgreSQL
is used for clinic groups and several app processes. Writes on SQLite open with
``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout instead of failing
half-way with "database is locked" when they try to upgrade a read lock.

SQLite runs with ``synchronous=FULL`` by default: every commit is flushed to disk
(fsync of the WAL) before the request is acknowledged, so a power cut or an OS crash
loses nothing acknowledged. ``NORMAL`` survives a killed process just as well (the WAL
is in the OS's page cache) but may drop the last commits on power loss, which the spec
forbids ("a crash mid-write loses nothing that was acknowledged"); it stays available
(`STERISTOCK_SQLITE_SYNCHRONOUS=normal`) for throwaway databases (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from anyio import CapacityLimiter, to_thread
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy import BigInteger, DateTime, Integer, String, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_SYNCHRONOUS_MODES = ("full", "normal")
NESTED_WRITER_WAIT_S = 1.0
_BEGIN_MODE = "steristock_sqlite_begin"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zone type; PostgreSQL stores ``timestamptz``. Naive datetimes are
    refused so that a local wall-clock time can never be stored by mistake.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware UTC times")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(TypeDecorator[Decimal]):
    """An exact decimal amount stored as an integer count of 1/10,000 (four places).

    Unit costs of consumables go below a cent (a glove costs $0.045); integers keep sums
    exact on both SQLite, which has no decimal type, and PostgreSQL.
    """

    impl = BigInteger
    cache_ok = True
    SCALE = 10_000

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Any) -> int | None:
        if value is None:
            return None
        return int((Decimal(value) * self.SCALE).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / self.SCALE).quantize(Decimal("0.0001"))


def make_engine(
    url: str, *, pool_size: int = 20, echo: bool = False, sqlite_synchronous: str = "full"
) -> Engine:
    """Create an engine configured for SteriStock's two supported databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _make_sqlite_engine(
            url, pool_size=pool_size, echo=echo, synchronous=sqlite_synchronous
        )
    else:
        engine = _make_postgres_engine(url, pool_size=pool_size, echo=echo)
    return engine


def _make_sqlite_engine(url: str, *, pool_size: int, echo: bool, synchronous: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    if synchronous.lower() not in SQLITE_SYNCHRONOUS_MODES:
        raise ValueError(f"SQLite synchronous mode must be one of {SQLITE_SYNCHRONOUS_MODES}")
    synchronous = synchronous.upper()

    engine = create_engine(
        url,
        echo=echo,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own
        # transaction handling would defer it and break BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    gate = SQLiteWriterGate()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        if mode == "IMMEDIATE":
            gate.enter(conn.info)
        conn.exec_driver_sql(f"BEGIN {mode}")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        gate.leave(record.info)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _exc: Any) -> None:
        gate.leave(record.info)

    return engine


class SQLiteWriterGate:
    """Queues this process's SQLite writers, first come first served, before
    ``BEGIN IMMEDIATE``.

    Without it, writers that find the database locked wait in SQLite's busy handler, which
    sleeps in growing steps (1, 2, 5 ... 100 ms) and is unfair: under 16 concurrent writers
    throughput fell by a third and p99 latency reached seconds (docs/benchmarks.md,
    Inventory). Here the gate is handed straight to the longest-waiting writer as soon as
    the previous one has committed and returned its connection to the pool. The gate is
    held by a pooled connection from its first write transaction until it is checked in
    (after commit or rollback), so a session that commits and writes again keeps it. A
    writer whose thread began the current holder's transaction waits at most a second
    (that holder is normally being committed by another thread), and any writer that
    waits longer than the busy timeout goes ahead to SQLite's own handler, so the gate
    can delay but never deadlock anything that worked without it. Other processes are
    still serialised by SQLite itself.
    """

    _HELD = "steristock_writer_gate"

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False
        self._owner: int | None = None

    def _acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True  # handed over by `leave`
        with self._mutex:
            if turn.is_set():
                return True
            self._waiters.remove(turn)
            return False

    def enter(self, info: dict[str, Any]) -> None:
        if info.get(self._HELD):
            return
        me = threading.get_ident()
        # The holder began in this thread: either its request is being committed by
        # another thread (the gate frees within milliseconds), or this thread opened a
        # second write session inside the first (which SQLite would refuse anyway):
        # wait briefly, then leave it to SQLite's handler.
        timeout = NESTED_WRITER_WAIT_S if self._owner == me else SQLITE_BUSY_TIMEOUT_MS / 1000
        if self._acquire(timeout):
            self._owner = me
            info[self._HELD] = True

    def leave(self, info: dict[str, Any]) -> None:
        if not info.pop(self._HELD, False):
            return
        with self._mutex:
            self._owner = None
            if self._waiters:
                self._waiters.popleft().set()  # still held: ownership passes on
            else:
                self._held = False


def _make_postgres_engine(url: str, *, pool_size: int, echo: bool) -> Engine:
    from sqlalchemy import create_engine

    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )


class Database:
    """The engine plus a session factory; one per app (or CLI command)."""

    def __init__(self, url: str, *, pool_size: int = 20, sqlite_synchronous: str = "full") -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, sqlite_synchronous=sqlite_synchronous)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._read_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        write_engine = self.engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
        self._write_factory = sessionmaker(bind=write_engine, expire_on_commit=False)

    def new_session(self, *, write: bool) -> Session:
        """A session that connects on first use; a write session's first statement takes
        SQLite's write lock (``BEGIN IMMEDIATE``)."""
        session = (self._write_factory if write else self._read_factory)()
        session.info["write"] = write
        return session

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on any error."""
        session = self.new_session(write=write)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _finish(session: Session, failed: bool) -> None:
    try:
        if failed:
            session.rollback()
        else:
            session.commit()
    finally:
        session.close()


class ThreadLimiters:
    """Separate worker-thread pools for finishing sessions and for token lookups.

    A session that has run its handler holds a pooled connection until it is committed.
    If its commit had to wait for a thread from the same pool that handlers use while
    they wait for a connection, a burst of requests could deadlock; a commit or lookup
    never waits on anything held by a waiting handler, so giving them their own threads
    keeps the system live.
    """

    def __init__(self, finish: int = 16, auth: int = 16) -> None:
        self.finish = CapacityLimiter(finish)
        self.auth = CapacityLimiter(auth)


def thread_limiters(state: State) -> ThreadLimiters:
    limiters = state.get("thread_limiters")
    if limiters is None:
        limiters = state["thread_limiters"] = ThreadLimiters()
    return limiters


async def provide_db_session(state: State, scope: Scope) -> AsyncGenerator[Session, None]:
    """Litestar dependency: one session per request, committed when the handler succeeds.

    The session connects lazily inside the (threaded) handler; commit and close also run
    in a worker thread so a slow commit or a queued SQLite writer never blocks the loop.
    """
    db: Database = state.db
    session = db.new_session(write=scope.get("method", "GET") not in READ_METHODS)
    limiter = thread_limiters(state).finish
    try:
        yield session
    except BaseException:
        await to_thread.run_sync(_finish, session, True, limiter=limiter)
        raise
    await to_thread.run_sync(_finish, session, False, limiter=limiter)


__all__ = [
    "Database",
    "Integer",
    "Money",
    "String",
    "UTCDateTime",
    "make_engine",
    "provide_db_session",
    "utcnow",
]
