"""Group commit for hot writes: requests queued together share one transaction.

A stock action's own work is a handful of small statements, yet each request paid for a
whole transaction of its own: a session, ``BEGIN IMMEDIATE``, the sealing's chain-head
lock and writes, the commit and its WAL pages, the fsync. On SQLite every writer queues
for one lock, so that overhead, stretched by the other requests' Python taking the GIL
in between, was the throughput (the lock was held 1.4-1.7 ms per consume).

`WriteBatcher` runs the writes a worker has queued one after another in one writer
thread and one transaction. One commit then seals every row of the batch
(`kernel.audit.sealing`) and makes it durable (SQLite: one fsync), in a second thread
while the next batch is written, before any request of the batch is answered. (On
PostgreSQL a row the next batch needs waits, as ever, for its lock: until the commit.)
If the commit or the fsync fails, every request of the batch fails: nothing is
acknowledged that is not on disk.

A write that is refused (a 409, a lot that is not there) fails alone. The ledger checks
every rule before its first write, so a refusal leaves nothing to undo but its audit
entries, which are dropped; writes therefore run without savepoints (a SAVEPOINT and a
RELEASE per write cost as much as a third of the write). A write that fails any other
way, or is refused after it wrote, makes the batch roll back and run again with a
savepoint per write (`kernel.audit.service` drops a rolled-back savepoint's entries), so
that write fails alone and the others stand.

Each write sees the session as its own request would: the request's user and site
scope are bound before it runs (`kernel.db.REQUEST_SESSION_HOOKS`), and whatever a
previous write left in `session.info` is cleared. A request waits for its batch, so a
write alone is one transaction, as before; under load, batches form by themselves from
the requests that arrived while the previous batch ran. A batch runs its writes sorted
by the rows they lock (`lock_order`), so two workers' batches on PostgreSQL lock rows in
one order; a write that meets a deadlock anyway is retried once, and one that waits for a
row lock longer than `LOCK_TIMEOUT_MS` fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.types import Scope
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kernel.audit.service import PENDING_KEY
from kernel.db import REQUEST_SESSION_HOOKS, Database
from kernel.direct_sql import Direct, writes_so_far
from kernel.problems import DomainError

T = TypeVar("T")

MAX_BATCH = 64
# PostgreSQL: how long a write may wait for a row lock another transaction holds. One
# writer serves the worker, so a write stuck behind a long transaction would hold up
# every stock action there; past this it fails alone (a 503: retry) and the others go on.
LOCK_TIMEOUT_MS = 5000
REFUSALS = (DomainError, HTTPException)  # a rule said no (a 4xx), nothing else went wrong
# SET LOCAL lock_timeout, with the value as a parameter.
_SET_LOCK_TIMEOUT = Direct(text("SELECT set_config('lock_timeout', :timeout, true)"))
# PostgreSQL: deadlock detected, serialization failure (a retry of the write may pass).
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    scope: Scope | None
    lock_order: tuple[str, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]
    outcome: tuple[bool, Any] | None = None  # (succeeded, result or error)


def _fail(jobs: list[_Job[Any]], error: BaseException) -> None:
    """The batch did not become durable: each request that had succeeded fails too."""
    for job in jobs:
        if job.outcome is None or job.outcome[0]:
            job.outcome = (False, error)


def _answer_all(jobs: list[_Job[Any]]) -> None:
    """One wake-up per event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job[Any]]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, group in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody to tell
            loop.call_soon_threadsafe(_answer, group)


def _answer(jobs: list[_Job[Any]]) -> None:
    for job in jobs:
        if job.future.done() or job.outcome is None:  # the client went away: the write stands
            continue
        ok, value = job.outcome
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)


class WriteBatcher:
    """One writer thread per database and process; see the module docstring."""

    def __init__(
        self, db: Database, *, max_batch: int = MAX_BATCH, lock_timeout_ms: int = LOCK_TIMEOUT_MS
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self._lock_timeout = {"timeout": f"{int(lock_timeout_ms)}ms"}
        self._queue: deque[_Job[Any]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        # PostgreSQL: the commit (the server's WAL flush) runs in the finishing thread while
        # the next batch is written; SQLite commits at once (its single write lock is
        # handed on at check-in, and only the fsync waits there).
        self._commit_later = not db.is_sqlite
        self.batches = 0  # for the benchmark's figures: writes per batch
        self.writes = 0
        self.reruns = 0  # batches run again in savepoints

    async def run(
        self,
        work: Callable[[Session], T],
        scope: Scope | None = None,
        *,
        lock_order: tuple[str, ...] = (),
    ) -> T:
        """Run `work(session)` in the next batch and return what it returned, once the
        batch is committed and durable; raise what it raised (its savepoint rolled back)
        or what the batch's commit raised.

        `lock_order`: what the write locks, as a sort key (a stock action: its item and
        location). A batch runs its writes in that order, so the batches of two workers
        running at once (PostgreSQL) take their row locks in one order and do not
        deadlock (a write that still meets one is retried, `_retryable`)."""
        loop = asyncio.get_running_loop()
        job: _Job[T] = _Job(work, scope, lock_order, loop, loop.create_future())
        with self._cond:
            if self._closed:
                raise RuntimeError("the database is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="steristock-writer", daemon=True
                )
                self._thread.start()
            self._queue.append(job)
            self._cond.notify()
        return await job.future

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def _next_batch(self) -> list[_Job[Any]] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            jobs = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
        jobs.sort(key=lambda job: job.lock_order)  # stable: one row's writes keep their order
        return jobs

    def _serve(self) -> None:
        # What makes a batch durable (SQLite's fsync, `kernel.db.WalSyncer`; PostgreSQL's
        # commit) runs in its own thread while the next batch is written.
        with ThreadPoolExecutor(1, thread_name_prefix="steristock-durable") as finisher:
            while (jobs := self._next_batch()) is not None:
                try:
                    session = self._run_batch(jobs)
                except BaseException as error:  # not committed: no request may wait
                    _fail(jobs, error)
                    _answer_all(jobs)
                    continue
                finisher.submit(self._finish, session, jobs)

    def _run_batch(self, jobs: list[_Job[Any]]) -> Session:
        """Every job, then the commit; the session is left open. Jobs first run without
        savepoints; if one fails after writing, the batch is rolled back and run again
        with a savepoint per job."""
        session = self.db.new_session(write=True)
        base_info = dict(session.info)
        try:
            try:
                self._begin(session)
                for job in jobs:
                    self._run_refusable(session, base_info, job)
            except _WroteThenFailed:
                session.rollback()
                self.reruns += 1
                self._begin(session)
                for job in jobs:
                    job.outcome = None
                    self._run_in_savepoint(session, base_info, job)
            if not self._commit_later:
                session.commit()
        except BaseException:
            session.rollback()
            session.close()
            raise
        return session

    def _begin(self, session: Session) -> None:
        if not self.db.is_sqlite:
            _SET_LOCK_TIMEOUT.run(session.connection(), self._lock_timeout)

    def _finish(self, session: Session, jobs: list[_Job[Any]]) -> None:
        """Make the batch durable, then answer its requests."""
        try:
            if self._commit_later:
                session.commit()
        except BaseException as error:
            _fail(jobs, error)
            with contextlib.suppress(Exception):  # a connection that is gone
                session.rollback()
        try:
            session.close()  # SQLite: the fsync covering the batch, before any answer
        except BaseException as error:
            _fail(jobs, error)
        self.batches += 1
        self.writes += len(jobs)
        _answer_all(jobs)

    def _run_refusable(self, session: Session, base_info: dict[str, Any], job: _Job[Any]) -> None:
        """Run a job without a savepoint. A refusal (a 4xx the job raised before writing
        anything, as the ledger's actions check every rule first) leaves nothing to undo
        but its audit entries; any other failure raises `_WroteThenFailed`."""
        _bind(session, base_info, job.scope)
        connection = session.connection()
        wrote = writes_so_far(connection)
        pending = session.info.get(PENDING_KEY)
        mark = len(pending) if pending else 0
        try:
            job.outcome = (True, job.work(session))
        except REFUSALS as refusal:
            if (
                writes_so_far(connection) != wrote
                or session.new
                or session.deleted
                or session.dirty
            ):
                raise _WroteThenFailed from refusal
            pending = session.info.get(PENDING_KEY)
            if pending:
                del pending[mark:]
            job.outcome = (False, refusal)
        except Exception as error:
            raise _WroteThenFailed from error

    def _run_in_savepoint(
        self, session: Session, base_info: dict[str, Any], job: _Job[Any]
    ) -> None:
        _bind(session, base_info, job.scope)
        for attempt in (1, 2):
            savepoint = session.begin_nested()
            try:
                result = job.work(session)
                savepoint.commit()
            except Exception as error:
                if savepoint.is_active:
                    savepoint.rollback()
                if attempt == 1 and _retryable(error):
                    continue
                job.outcome = (False, error)
                return
            job.outcome = (True, result)
            return


class _WroteThenFailed(Exception):
    """A job failed other than by a clean refusal: its batch is run again in savepoints."""


def _bind(session: Session, base_info: dict[str, Any], scope: Scope | None) -> None:
    """The session as the job's own request would see it: its user and sites bound,
    nothing left of the previous job's state (but the batch's pending audit entries)."""
    pending = session.info.get(PENDING_KEY)
    session.info.clear()
    session.info.update(base_info)
    if pending is not None:
        session.info[PENDING_KEY] = pending
    if scope is not None:
        for hook in REQUEST_SESSION_HOOKS:
            hook(session, scope)


def _retryable(error: Exception) -> bool:
    if not isinstance(error, DBAPIError):
        return False
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


def write_batcher(db: Database) -> WriteBatcher:
    """The database's batcher in this process (started on first use, stopped when the
    database is disposed of)."""
    return db.extension("write_batcher", WriteBatcher, WriteBatcher.close)


async def provide_write_batcher(state: State) -> WriteBatcher:
    """Litestar dependency: the app database's batcher."""
    return write_batcher(state.db)
