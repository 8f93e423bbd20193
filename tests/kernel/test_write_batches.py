"""Group commit: writes queued together share one transaction, each in its savepoint."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import select, text

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
        rest = [asyncio.ensure_future(batcher.run(work, scope)) for work, scope in works]
        await asyncio.sleep(0)  # every `run` has queued its write
        others_queued.set()
        return await asyncio.gather(head, *rest, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert outcomes[0] == "first"
    return outcomes[1:]


def entry_made(name: str, fail: bool = False):
    """A write that records an audit entry and creates a user (a row, inside its
    savepoint), then fails if asked."""

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
        audited = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "test.write")
        ).all()
        assert "refused" not in names and {"kept1", "kept2"} <= set(names)
        assert sorted(audited) == ["kept1", "kept2"]
        assert verify_chain(session).ok
        report = verify_records(session)
        assert report.ok, report.problems


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


def test_a_savepoint_rolled_back_takes_only_its_own_audit_entries(database):
    with database.session() as session:
        audit.record(session, actor="t", action="test.kept", entity="test", entity_id=1)
        savepoint = session.begin_nested()
        audit.record(session, actor="t", action="test.dropped", entity="test", entity_id=2)
        savepoint.rollback()
        audit.record(session, actor="t", action="test.kept", entity="test", entity_id=3)
    with database.session(write=False) as session:
        actions = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.entity == "test")
        ).all()
        assert sorted(actions) == ["1", "3"]
        assert verify_chain(session).ok


def test_a_closed_batcher_refuses_new_writes(database):
    batcher = write_batcher(database)
    assert asyncio.run(batcher.run(lambda session: 1)) == 1
    batcher.close()
    with pytest.raises(RuntimeError):
        asyncio.run(batcher.run(lambda session: 2))
