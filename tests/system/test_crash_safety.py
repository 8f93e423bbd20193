"""Crash safety: SIGKILL the real server mid-load, restart it on the same database, and
check that nothing acknowledged was lost and nothing half-written was left.

The server (`steristock serve`, Granian) runs in its own process group; client threads
(`tests/write_load.py`) drive consumes (half of them with an `Idempotency-Key`) and cycle
starts + completions over real HTTP. After a seeded number of acknowledged (2xx) writes
the whole group is killed with SIGKILL, the server is started again on the same database,
and the test checks every acknowledged write by the ids it returned, the all-or-nothing
shape of every change (movement and audit entry, cycle, packs, readings and audit
entries), on-hand == lots == ledger, no negative stock and the audit chain. Requests whose
outcome the client never saw are retried with their `Idempotency-Key`: each key ends with
exactly one movement. Set `STERISTOCK_CRASH_SEED` to replay another kill moment.
"""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from inventory.models import StockMovement
from kernel.db import Database
from kernel.idempotency import IdempotencyRecord
from kernel.migrations import upgrade
from kernel.settings import Settings
from sterilization.models import Cycle
from steristock.app import create_app
from tests.server_process import ServerProcess
from tests.write_load import (
    SEED,
    Load,
    audit_verify,
    check_acknowledged_present,
    check_consistent,
    login,
    seed,
)

pytestmark = pytest.mark.slow


def test_sigkill_mid_load_loses_no_acknowledged_write_and_leaves_nothing_half_written(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    packs = seed(database)
    rng = random.Random(SEED)
    kill_after = rng.randint(40, 90)
    server = ServerProcess(database_url, tmp_path)
    try:
        base_url = server.start()
        headers = login(base_url)
        load = Load(base_url, headers, packs)
        load.start()
        in_flight = load.wait_for(kill_after)
        server.kill()
        load.finish()
        attempts = load.attempts
        unknown = [a for a in attempts if a.status is None]
        note = (
            f"seed {SEED}: killed after {load.acknowledged} acknowledged writes "
            f"(target {kill_after}), {in_flight} in flight, {len(unknown)} unanswered"
        )
        print(note)

        # After the crash, before anything else writes: the server starts on the same
        # database (running migrations), and everything acknowledged is there.
        base_url = server.start()
        check_acknowledged_present(database, attempts)
        check_consistent(database)

        # Retry what was never answered (and one acknowledged keyed request) with the
        # same Idempotency-Key: each key must end with exactly one movement.
        keyed = [a for a in attempts if a.kind == "consume" and a.key and a.status != 0]
        retry = [a for a in keyed if a.status is None] + [next(a for a in keyed if a.acknowledged)]
        outcomes: dict[str, Any] = {}
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
            for a in retry:
                first = client.post(a.path, json=a.body, headers={"Idempotency-Key": a.key})
                second = client.post(a.path, json=a.body, headers={"Idempotency-Key": a.key})
                assert first.status_code in (201, 409), first.text
                assert second.status_code == first.status_code
                if first.status_code == 201:
                    assert second.headers.get("Idempotent-Replayed") == "true"
                    assert second.json() == first.json()
                    outcomes[a.key] = first.json()
                if a.acknowledged:
                    assert first.headers.get("Idempotent-Replayed") == "true"
                    assert first.json() == a.result
        server.stop()

        check_consistent(database)
        with database.session(write=False) as session:
            refs = list(
                session.scalars(
                    select(StockMovement.reference)
                    .where(StockMovement.kind == "consume")
                    .group_by(StockMovement.reference)
                )
            )
            keys = session.scalar(select(func.count()).select_from(IdempotencyRecord))
            cycle_ids = set(session.scalars(select(Cycle.id)))
        known = {a.result["reference"] for a in attempts if a.acknowledged and a.kind == "consume"}
        known |= {r["reference"] for r in outcomes.values()}
        assert known <= set(refs)
        # A movement nobody was told about can only come from an unanswered request
        # without a key (keyed ones were all retried, and replayed if they had landed).
        unanswered_unkeyed = sum(1 for a in unknown if a.kind == "consume" and not a.key)
        assert len(set(refs) - known) <= unanswered_unkeyed, note
        acknowledged_keys = {a.key for a in keyed if a.acknowledged} | set(outcomes)
        assert keys == len(acknowledged_keys)
        started = {a.result["id"] for a in attempts if a.kind == "start" and a.acknowledged}
        unanswered_starts = sum(1 for a in unknown if a.kind == "start")
        assert started <= cycle_ids and len(cycle_ids - started) <= unanswered_starts

        verify = audit_verify(database_url, tmp_path)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert verify.stdout.startswith("ok:")
    finally:
        server.kill()


def test_sqlite_commits_are_on_disk_before_they_are_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """synchronous=FULL by default: a commit returns only after an fsync of the WAL that
    began after it (the group commit, `kernel.db.WalSyncer`), so a power cut after the 2xx
    loses nothing; `normal` (which only survives a killed process) stays available as an
    explicit setting and fsyncs nothing at commit."""
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        real_fsync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", spy)

    def mode(database: Database) -> int:
        with database.engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA synchronous").scalar_one()

    def commit_one(database: Database) -> None:
        with database.session() as session:
            session.execute(text("INSERT INTO login_failures (username, client, at) "
                                 "VALUES ('x', 'y', '2026-01-01 00:00:00')"))  # fmt: skip

    path = tmp_path / "sync.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    default = Database(url)
    settings = Settings(DATABASE_URL=url, STERISTOCK_SECRET_KEY="k", STERISTOCK_DATA_DIR=tmp_path)
    served = create_app(settings).state.db
    fast = Database(url, sqlite_synchronous="normal")
    try:
        assert default.wal_syncer is not None and served.wal_syncer is not None
        assert fast.wal_syncer is None and mode(fast) == 1  # NORMAL
        for database in (default, served):
            synced.clear()
            commit_one(database)
            assert synced == [f"{path}-wal"]  # before the commit returned
            with database.session(write=False) as reads_only:
                reads_only.execute(text("SELECT count(*) FROM users")).scalar_one()
            assert synced == [f"{path}-wal"]  # a read waits for nothing
        synced.clear()
        commit_one(fast)
        assert synced == []
    finally:
        for database in (default, served, fast):
            database.dispose()
    with pytest.raises(ValueError, match="synchronous"):
        Database(url, sqlite_synchronous="off")


def test_concurrent_sqlite_writers_are_all_on_disk_when_acknowledged(tmp_path: Path) -> None:
    """Sixteen writers at once: every commit was covered by a finished fsync, and one
    fsync may cover several (that is the group commit)."""
    url = f"sqlite:///{tmp_path / 'group.db'}"
    upgrade(url)
    database = Database(url)
    syncer = database.wal_syncer
    assert syncer is not None
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with database.session() as session:
                    session.execute(
                        text("INSERT INTO login_failures (username, client, at) "
                             "VALUES (:u, 'c', '2026-01-01 00:00:00')"),
                        {"u": f"w{n}-{i}"},
                    )  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert syncer._committed == syncer._durable == 160
        assert 1 <= syncer.fsyncs <= 160
        with database.session(write=False) as session:
            assert session.execute(text("SELECT count(*) FROM login_failures")).scalar_one() == 160
    finally:
        database.dispose()


def test_the_crash_checks_catch_half_written_changes(database: Database) -> None:
    """The checks above are not vacuous: a movement without its audit entry fails them."""
    seed(database)
    check_consistent(database)
    with database.session() as session:
        first = session.scalars(select(StockMovement).limit(1)).one()
        session.add(
            StockMovement(
                kind="consume",
                item_id=first.item_id,
                location_id=first.location_id,
                lot=first.lot,
                quantity=0,
                actor="nobody",
                reference="no-audit-entry",
            )
        )
    with pytest.raises(AssertionError):
        check_consistent(database)
