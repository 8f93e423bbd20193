"""Database engine, column types and the per-request session.

SQLite is the zero-setup default (one file, WAL, foreign keys, busy timeout); PostgreSQL
is used for clinic groups and several app processes. Writes on SQLite open with
``BEGIN IMMEDIATE`` so concurrent writers queue on the busy timeout instead of failing
half-way with "database is locked" when they try to upgrade a read lock.

SQLite runs with ``synchronous=FULL`` by default: every commit is flushed to disk
(fsync of the WAL) before the request is acknowledged, so a power cut or an OS crash
loses nothing acknowledged. The flush is a *group commit* (`WalSyncer`): a writer commits
(SQLite's own ``NORMAL``: the WAL frames reach the OS), hands the write lock on at once,
and then waits for an fsync of the WAL that started after its commit; one fsync covers
every commit made while the previous one ran, so sixteen tablets consuming at once share
fsyncs instead of queueing one 3-7 ms flush each behind the write lock. Nothing is
acknowledged before its frames are on disk, exactly as with per-commit ``FULL``. (A
reader may see a commit a few milliseconds before it is on disk; no writer is answered
before it, and any later write's fsync covers it too.) The setting ``NORMAL`` skips the
fsync: it survives a killed process just as well (the WAL is in the OS's page cache) but
may drop the last commits on power loss, which the spec forbids ("a crash mid-write
loses nothing that was acknowledged"); it stays available
(`STERISTOCK_SQLITE_SYNCHRONOUS=normal`) for throwaway databases (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy import BigInteger, DateTime, Integer, String, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

E = TypeVar("E")

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_SYNCHRONOUS_MODES = ("full", "normal")
NESTED_WRITER_WAIT_S = 1.0
_BEGIN_MODE = "steristock_sqlite_begin"
_PENDING_AUDIT = "audit_pending"
_WRITE_BEGUN = "steristock_write_begun"
_CHANGES_SEEN = "steristock_changes_seen"  # sqlite3 total_changes at the last checkin
_BEGIN_SQL = {
    "DEFERRED": "BEGIN DEFERRED",
    "IMMEDIATE": "BEGIN IMMEDIATE",
}  # kernel.audit's entries waiting for the commit


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


def private_sqlite_file(database: str) -> None:
    """The SQLite file readable by its owner only (0600): it holds password and token
    hashes. Called on each new connection (the first one creates the file); SQLite gives
    its -wal and -shm files the database file's mode."""
    import os
    from contextlib import suppress

    with suppress(OSError):  # a file another user owns keeps its mode
        if os.stat(database).st_mode & 0o077:
            os.chmod(database, 0o600)


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
    _savepoints_on_driver(engine)
    return engine


def _savepoints_on_driver(engine: Engine) -> None:
    """SAVEPOINT, RELEASE and ROLLBACK TO straight on the driver's cursor. SQLAlchemy
    compiles a new clause for each (its savepoint clauses are not cached), which cost a
    batch run again in savepoints (`kernel.write_batches`) about a fifth of each write.
    The names are SQLAlchemy's own (`sa_savepoint_N`)."""
    dialect = engine.dialect

    def run(connection: Any, sql: str) -> None:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    dialect.do_savepoint = lambda connection, name: run(connection, f"SAVEPOINT {name}")  # type: ignore[method-assign]
    dialect.do_release_savepoint = lambda connection, name: run(  # type: ignore[method-assign]
        connection, f"RELEASE SAVEPOINT {name}"
    )
    dialect.do_rollback_to_savepoint = lambda connection, name: run(  # type: ignore[method-assign]
        connection, f"ROLLBACK TO SAVEPOINT {name}"
    )


def _make_sqlite_engine(url: str, *, pool_size: int, echo: bool, synchronous: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    if synchronous.lower() not in SQLITE_SYNCHRONOUS_MODES:
        raise ValueError(f"SQLite synchronous mode must be one of {SQLITE_SYNCHRONOUS_MODES}")
    database_file = make_url(url).database
    if database_file == ":memory:":
        database_file = None
    syncer = (
        WalSyncer(f"{database_file}-wal")
        if synchronous.lower() == "full" and database_file
        else None
    )
    # FULL is kept by the group commit below (SQLite itself runs NORMAL: no fsync inside
    # the commit, the WAL is synced by `WalSyncer` before the writer is answered).
    synchronous = "NORMAL" if syncer is not None else synchronous.upper()

    engine = create_engine(
        url,
        echo=echo,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own
        # transaction handling would defer it and break BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        if database_file:
            private_sqlite_file(database_file)  # before the -wal file is made
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        record.info[_CHANGES_SEEN] = dbapi_connection.total_changes

    gate = SQLiteWriterGate()
    engine.wal_syncer = syncer  # type: ignore[attr-defined]  (Database.wal_syncer)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        if mode == "IMMEDIATE":
            gate.enter(conn.info)
            conn.info[_WRITE_BEGUN] = True  # synced at checkin even if only DDL ran
        # Straight to the driver: BEGIN needs none of SQLAlchemy's statement machinery, and
        # it runs once per request (a fifth of a trivial read's database cost otherwise).
        conn.connection.dbapi_connection.execute(_BEGIN_SQL[mode])

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn: Any) -> None:
        conn.info.pop(_WRITE_BEGUN, None)  # nothing of it reached the WAL

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        gate.leave(record.info)  # the next writer may start while this one's fsync runs
        if syncer is not None and dbapi_connection is not None:
            changes = dbapi_connection.total_changes
            began_write = record.info.pop(_WRITE_BEGUN, False)
            if began_write or changes != record.info.get(_CHANGES_SEEN):
                record.info[_CHANGES_SEEN] = changes
                syncer.make_durable()

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _exc: Any) -> None:
        gate.leave(record.info)

    return engine


class WalSyncer:
    """Group commit for SQLite's WAL: a committed writer waits here until an fsync of the
    WAL file that began after its commit has finished.

    SQLite appends every commit to the WAL in order, so one fsync makes durable all the
    commits written before it started. The first writer to arrive runs the fsync (outside
    the lock, after handing SQLite's write lock on); writers that committed meanwhile wait
    for the next one, which covers them all. A failed fsync is raised to every writer it
    was meant to cover (their requests fail; nothing is acknowledged that is not on disk).
    The fsync reaches the file's data whichever descriptor asks (Linux), and a WAL already
    checkpointed and removed was synced by SQLite itself during the checkpoint.
    """

    def __init__(self, wal_path: str) -> None:
        self.wal_path = wal_path
        self._cond = threading.Condition()
        self._committed = 0  # writers that have committed (tickets handed out)
        self._durable = 0  # writers whose commit is known to be on disk
        self._syncing = False
        self.fsyncs = 0  # for the benchmark's figures: commits per fsync

    def make_durable(self) -> None:
        with self._cond:
            self._committed += 1
            ticket = self._committed
            while self._durable < ticket:
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                covered = self._committed
                synced = False
                self._cond.release()
                try:
                    self._fsync()
                    synced = True
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    if synced:
                        self._durable = max(self._durable, covered)
                        self.fsyncs += 1
                    self._cond.notify_all()

    def _fsync(self) -> None:
        try:
            fd = os.open(self.wal_path, os.O_RDONLY)
        except FileNotFoundError:
            return  # checkpointed into the database file (synced) and removed
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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

    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )

    @event.listens_for(engine, "before_cursor_execute")
    def _transaction_for_streaming(
        conn: Any, _cursor: Any, _sql: Any, _params: Any, context: Any, _many: Any
    ) -> None:
        # A request's read session runs in autocommit, but a server-side cursor (a
        # streamed export, `yield_per`) needs a transaction: open one for the rest of this
        # connection's use (the pool rolls it back and restores autocommit at check-in).
        if context is not None and context._is_server_side:
            driver = conn.connection.driver_connection
            if driver.autocommit:
                driver.autocommit = False

    return engine


def _is_local_host(url: URL) -> bool:
    host = url.host or str(url.query.get("host") or "")
    return host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")


class Database:
    """The engine plus a session factory; one per app (or CLI command)."""

    def __init__(self, url: str, *, pool_size: int = 20, sqlite_synchronous: str = "full") -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, sqlite_synchronous=sqlite_synchronous)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # The server is on this machine (SQLite's file, or PostgreSQL over loopback or a
        # Unix socket): a round trip costs tens of microseconds, less than a thread hop.
        self.is_local = self.is_sqlite or _is_local_host(make_url(url))
        # SQLite with synchronous=full: the group commit every write waits on.
        self.wal_syncer: WalSyncer | None = getattr(self.engine, "wal_syncer", None)
        # A request's reads on PostgreSQL run in autocommit: no BEGIN and COMMIT round
        # trips (each statement is its own READ COMMITTED snapshot, as inside a
        # transaction). SQLite keeps a deferred read transaction: one consistent snapshot,
        # and it costs no I/O. `session(write=False)` (exports, commands) keeps a real
        # transaction on both, for `SET LOCAL` and one snapshot per statement batch.
        self._read_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._request_read_factory = (
            self._read_factory
            if self.is_sqlite
            else sessionmaker(
                bind=self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
        )
        write_engine = self.engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
        self._write_factory = sessionmaker(bind=write_engine, expire_on_commit=False)
        # Per-database state other kernel modules keep (the token cache): it lives and dies
        # with this database, so two apps or tests never share it.
        self.extensions: dict[str, Any] = {}
        self._on_dispose: list[Callable[[], None]] = []

    def new_session(self, *, write: bool, request: bool = False) -> Session:
        """A session that connects on first use; a write session's first statement takes
        SQLite's write lock (``BEGIN IMMEDIATE``). A request's read session (`request`)
        runs in autocommit on PostgreSQL."""
        if write:
            session = self._write_factory()
        else:
            session = (self._request_read_factory if request else self._read_factory)()
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

    def detached_connection(self) -> Any:
        """A driver connection of the caller's own: connected and checked by the engine's
        pool, then taken out of it (it never serves anyone else; the caller closes it), in
        autocommit on PostgreSQL (a read never leaves a transaction open)."""
        raw = self.engine.raw_connection()
        driver = raw.driver_connection
        raw.detach()
        if not self.is_sqlite:
            driver.autocommit = True  # type: ignore[union-attr]
        return driver

    def extension(self, key: str, make: Callable[[Database], E], close: Callable[[E], None]) -> E:
        """The per-database helper kept under `key` (a cache, kept connections): made on
        first use, closed when the database is disposed of."""
        found = self.extensions.get(key)
        if found is None:
            made = make(self)
            found = self.extensions.setdefault(key, made)
            if found is made:
                self.on_dispose(lambda: close(made))
        return found  # type: ignore[no-any-return]

    def on_dispose(self, callback: Callable[[], None]) -> None:
        """Run `callback` when the database is disposed of (before the engine is)."""
        self._on_dispose.append(callback)

    def dispose(self) -> None:
        for callback in self._on_dispose:
            callback()
        self.engine.dispose()


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _finish(session: Session, failed: bool) -> None:
    if not session.info.get(_PENDING_AUDIT) and (
        not session.info["write"] or not session.in_transaction()
    ):
        # A read, or a write the handler already committed: nothing to commit (a commit
        # would begin a transaction first); closing ends a read transaction.
        session.close()
        return
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


# Called with each request's new session and the ASGI scope (kernel.sites binds the
# calling user, so the session's queries see only the user's sites).
REQUEST_SESSION_HOOKS: list[Callable[[Session, Scope], None]] = []


class WriteInReadRequest(RuntimeError):
    """A GET/HEAD/OPTIONS request tried to change data through its read session."""


@event.listens_for(Session, "before_flush")
def _refuse_flush_in_read_session(session: Session, _context: Any, _instances: Any) -> None:
    # A read session may run without a transaction (PostgreSQL autocommit) and ends on
    # the event loop; a write there would lose atomicity, so it is a bug, caught loudly.
    if session.info.get("write") is not False:
        return
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise WriteInReadRequest("a read (GET) request tried to write; use POST/PUT/PATCH")


def _finishes_without_waiting(session: Session) -> bool:
    """Whether ending the session cannot wait on I/O or a lock: nothing to commit.

    A read session (its SQLite read transaction ends with no I/O; on PostgreSQL it is in
    autocommit), or a write session the handler already committed in its own thread
    (`inventory.api.movements.committed`), or one that never connected. Those end on the
    event loop in microseconds, saving a second worker-thread hop per request.
    """
    return not session.info["write"] or not session.in_transaction()


async def provide_db_session(state: State, scope: Scope) -> AsyncGenerator[Session, None]:
    """Litestar dependency: one session per request, committed when the handler succeeds.

    The session connects lazily inside the (threaded) handler. A write still open when
    the handler returns is committed (or rolled back) in a worker thread, so a slow commit
    or a queued SQLite writer never blocks the loop; anything else ends inline.
    """
    db: Database = state.db
    session = db.new_session(write=scope.get("method", "GET") not in READ_METHODS, request=True)
    for hook in REQUEST_SESSION_HOOKS:
        hook(session, scope)
    try:
        yield session
    except BaseException:
        if _finishes_without_waiting(session):
            _finish(session, True)
        else:
            limiter = thread_limiters(state).finish
            await to_thread.run_sync(_finish, session, True, limiter=limiter)
        raise
    if _finishes_without_waiting(session):
        _finish(session, False)
    else:
        await to_thread.run_sync(_finish, session, False, limiter=thread_limiters(state).finish)


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
