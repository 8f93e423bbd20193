"""Group commit: writes queued together share one transaction; a write that fails, fails
alone (`kernel.write_batches`)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from kernel import audit
from kernel.audit.evidence import verify_records
from kernel.audit.models import AuditEntry
from kernel.audit.service import verify_chain
from kernel.auth.models import Role, User
from kernel.auth.service import CurrentUser, create_user
from kernel.problems import Conflict
from kernel.sites.query_scope import USER_KEY
from kernel.write_batches import WriteBatcher, write_batcher


def run_together(batcher: WriteBatcher, works: list) -> list:
    """Queue every write while the first one holds the writer, so they form one batch
    behind it; each outcome (a result or the exception) in order."""
    writer_busy = threading.Event()
    others_queued = threading.Event()

    def first(session):
        writer_busy.set()
        assert others_queued.wait(10)
        return "first"

    async def main() -> list:
        head = asyncio.ensure_future(batcher.run(first))
        await asyncio.to_thread(writer_busy.wait, 10)
        rest = [
            asyncio.ensure_future(batcher.run(work, scope, lock_order=order))
            for work, scope, *order_given in works
            for order in [order_given[0] if order_given else ()]
        ]
        await asyncio.sleep(0)  # every `run` has queued its write
        others_queued.set()
        return await asyncio.gather(head, *rest, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert outcomes[0] == "first"
    return outcomes[1:]


def audited(session, condition) -> list[str]:
    """The entity ids of the audit entries matching `condition`, sorted."""
    return sorted(session.scalars(select(AuditEntry.entity_id).where(condition)).all())


def entry_made(name: str, fail: bool = False):
    """A write that records an audit entry and creates a user (a row), then is refused if
    asked: after writing, so its batch is run again in savepoints."""

    def work(session):
        audit.record(session, actor="tester", action="test.write", entity="test", entity_id=name)
        create_user(session, actor="tester", username=name, role=Role.MA, password="pw-" * 6)
        if fail:
            raise Conflict(f"{name} refused")
        return name

    return work, None


def test_writes_queued_together_are_committed_as_one_batch(database):
    batcher = write_batcher(database)
    outcomes = run_together(batcher, [entry_made(f"user{i}") for i in range(5)])
    assert outcomes == [f"user{i}" for i in range(5)]
    assert batcher.batches == 2 and batcher.writes == 6  # the first alone, then the five
    with database.session(write=False) as session:
        names = session.scalars(select(User.username).where(User.username.like("user%"))).all()
        assert sorted(names) == [f"user{i}" for i in range(5)]
        assert verify_chain(session).ok
        assert verify_records(session).ok


def test_a_failed_write_is_rolled_back_alone_with_its_audit_entries(database):
    batcher = write_batcher(database)
    outcomes = run_together(
        batcher, [entry_made("kept1"), entry_made("refused", fail=True), entry_made("kept2")]
    )
    assert outcomes[0] == "kept1" and outcomes[2] == "kept2"
    assert isinstance(outcomes[1], Conflict)
    with database.session(write=False) as session:
        names = session.scalars(select(User.username)).all()
        assert "refused" not in names and {"kept1", "kept2"} <= set(names)
        assert audited(session, AuditEntry.action == "test.write") == ["kept1", "kept2"]
        assert verify_chain(session).ok
        report = verify_records(session)
        assert report.ok, report.problems


def refused_before_writing(name: str, *, pending_row: bool = False):
    """A refusal the way the ledger refuses: every rule checked before anything is
    written (its audit entry was recorded, though; `pending_row`: a row added to the
    session, not yet flushed)."""

    def work(session):
        audit.record(session, actor="tester", action="test.write", entity="test", entity_id=name)
        if pending_row:
            session.add(User(username=name, role=Role.MA, password_hash="x"))
        raise Conflict(f"{name} refused")

    return work, None


def test_a_refusal_before_any_write_needs_no_second_run(database):
    batcher = write_batcher(database)
    outcomes = run_together(
        batcher, [entry_made("kept1"), refused_before_writing("refused"), entry_made("kept2")]
    )
    assert isinstance(outcomes[1], Conflict) and outcomes[::2] == ["kept1", "kept2"]
    assert batcher.reruns == 0
    with database.session(write=False) as session:
        assert audited(session, AuditEntry.action == "test.write") == ["kept1", "kept2"]
        assert verify_chain(session).ok


def test_a_refusal_after_writing_runs_the_batch_again_in_savepoints(database):
    batcher = write_batcher(database)
    outcomes = run_together(
        batcher,
        [
            entry_made("kept1"),
            entry_made("wrote", fail=True),
            refused_before_writing("added", pending_row=True),
            entry_made("kept2"),
        ],
    )
    assert outcomes[0] == "kept1" and outcomes[3] == "kept2"
    assert isinstance(outcomes[1], Conflict) and isinstance(outcomes[2], Conflict)
    assert batcher.reruns == 1
    with database.session(write=False) as session:
        names = set(session.scalars(select(User.username)).all())
        assert {"kept1", "kept2"} <= names and not {"wrote", "added"} & names
        assert verify_records(session).ok


def test_when_the_batch_cannot_commit_no_write_of_it_is_acknowledged(database, backend):
    if backend != "sqlite":
        pytest.skip("needs a constraint checked at commit: SQLite's deferred foreign keys")

    def dangling(session):
        session.connection().exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        session.connection().exec_driver_sql(
            "INSERT INTO user_sites (user_id, site_id) VALUES (999999, 999999)"
        )
        return "dangling"

    batcher = write_batcher(database)
    outcomes = run_together(batcher, [entry_made("ok1"), (dangling, None), entry_made("ok2")])
    assert all(isinstance(o, Exception) for o in outcomes), outcomes
    with database.session(write=False) as session:
        names = session.scalars(select(User.username)).all()
        assert not {"ok1", "ok2"} & set(names)
        assert session.scalar(text("SELECT count(*) FROM user_sites WHERE user_id = 999999")) == 0


def test_each_write_runs_as_its_own_requests_user(database, app):
    """The request hooks bind each write's user; nothing of one write's session state
    reaches the next (the third has no user at all)."""

    def bound_user(session):
        return session.info.get(USER_KEY)

    def scope_of(user_id: int) -> dict:
        user = CurrentUser(id=user_id, username=f"u{user_id}", role=Role.MA)
        return {"type": "http", "path": "/api/v1/stock/movements", "user": user, "headers": []}

    outcomes = run_together(
        write_batcher(database),
        [(bound_user, scope_of(11)), (bound_user, scope_of(12)), (bound_user, None)],
    )
    assert outcomes == [11, 12, None]


def test_a_batch_runs_its_writes_in_the_order_of_the_rows_they_lock(database):
    """Two workers' batches then take their row locks in one order (no deadlock); the
    writes of one row keep the order they arrived in."""
    ran: list[str] = []

    def noting(name: str):
        def work(session):
            ran.append(name)
            return name

        return work

    run_together(
        write_batcher(database),
        [
            (noting("gauze EXAM2"), None, ("GAUZE", "EXAM2")),
            (noting("gloves EXAM1, first"), None, ("GLOVES", "EXAM1")),
            (noting("gauze EXAM1"), None, ("GAUZE", "EXAM1")),
            (noting("gloves EXAM1, second"), None, ("GLOVES", "EXAM1")),
        ],
    )
    assert ran == ["gauze EXAM1", "gauze EXAM2", "gloves EXAM1, first", "gloves EXAM1, second"]


def test_a_savepoint_rolled_back_takes_only_its_own_audit_entries(database):
    with database.session() as session:
        audit.record(session, actor="t", action="test.kept", entity="test", entity_id=1)
        savepoint = session.begin_nested()
        audit.record(session, actor="t", action="test.dropped", entity="test", entity_id=2)
        savepoint.rollback()
        audit.record(session, actor="t", action="test.kept", entity="test", entity_id=3)
    with database.session(write=False) as session:
        assert audited(session, AuditEntry.entity == "test") == ["1", "3"]
        assert verify_chain(session).ok


def test_a_write_stuck_behind_another_transactions_lock_fails_alone(database, backend):
    """One writer serves the worker: a write waiting on a row another transaction holds
    must not hold up the others for long (PostgreSQL's lock timeout; a 503 to retry)."""
    if backend != "postgres":
        pytest.skip("SQLite has no row locks: its writers queue for the database")
    with database.session() as session:
        create_user(session, actor="t", username="held", role=Role.MA, password="pw-" * 6)

    def rename_held(session):
        session.execute(text("UPDATE users SET full_name = 'renamed' WHERE username = 'held'"))
        return "renamed"

    batcher = WriteBatcher(database, lock_timeout_ms=200)
    holder = database.engine.connect()
    try:
        holder.execute(text("SELECT id FROM users WHERE username = 'held' FOR UPDATE"))
        outcomes = run_together(batcher, [(rename_held, None), entry_made("not_held")])
    finally:
        holder.rollback()
        holder.close()
        batcher.close()
    assert isinstance(outcomes[0], OperationalError)
    assert outcomes[1] == "not_held"
    with database.session(write=False) as session:
        assert session.scalar(select(User.full_name).where(User.username == "held")) != "renamed"
        assert session.scalar(select(User.id).where(User.username == "not_held")) is not None


def test_a_closed_batcher_refuses_new_writes(database):
    batcher = write_batcher(database)
    assert asyncio.run(batcher.run(lambda session: 1)) == 1
    batcher.close()
    with pytest.raises(RuntimeError):
        asyncio.run(batcher.run(lambda session: 2))
