"""The audit trail: hash-chained, append-only, written with the change, tamper-evident."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select, text, update

from kernel import audit
from kernel.audit.models import AuditEntry
from kernel.audit.service import verify_chain
from kernel.auth.models import Role, User
from kernel.auth.service import create_user
from steristock.cli import main as cli
from tests.tampering import triggers_off


def make_entries(database, n=5):
    with database.session() as session:
        for i in range(n):
            audit.record(
                session,
                actor="tester",
                action="thing.change",
                entity="thing",
                entity_id=i,
                before={"n": i},
                after={"n": i + 1},
            )


def report(database):
    with database.session(write=False) as session:
        return verify_chain(session)


def test_chain_of_fresh_entries_verifies(database):
    make_entries(database, 5)
    result = report(database)
    assert result.ok and result.entries == 5 and len(result.head) == 64


def test_each_entry_links_to_the_previous_hash(database):
    make_entries(database, 3)
    with database.session(write=False) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == "0" * 64
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash


def test_a_row_changed_directly_in_the_database_is_detected(database):
    make_entries(database, 5)
    with triggers_off(database), database.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(after='{"n":99}'))
    result = report(database)
    assert not result.ok and result.first_bad_entry == 3 and result.entries == 2


def test_a_rehashed_forgery_breaks_the_next_link(database):
    make_entries(database, 5)
    with triggers_off(database), database.session() as session:
        session.execute(
            update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory", hash="f" * 64)
        )
    result = report(database)
    assert not result.ok and result.first_bad_entry == 2


def test_a_removed_entry_is_detected(database):
    make_entries(database, 5)
    with triggers_off(database), database.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    assert report(database).first_bad_entry == 4


def test_removing_the_newest_entries_is_detected_by_the_head(database):
    make_entries(database, 5)
    with triggers_off(database), database.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    result = report(database)
    assert not result.ok and "head" in (result.problem or "")


def test_a_rolled_back_change_leaves_no_audit_entry(database):
    with pytest.raises(RuntimeError), database.session() as session:
        audit.record(session, actor="t", action="x", entity="thing", entity_id=1)
        raise RuntimeError("handler failed")
    make_entries(database, 1)
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    assert report(database).ok


def test_concurrent_writers_keep_one_unbroken_chain(database):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                with database.session() as session:
                    create_user(
                        session,
                        actor="t",
                        username=f"w{n}x{i}",
                        role=Role.MA,
                        password="long enough pw",
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    result = report(database)
    assert result.ok and result.entries == 40
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 40


def test_audit_api_filters_and_verify(client, users):
    auditor = users.headers(Role.AUDITOR)
    username = users.create(Role.MA)
    response = client.get(
        "/api/v1/audit", params={"entity": "user", "entity_id": username}, headers=auditor
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    entry = body["items"][0]
    assert entry["action"] == "user.create" and entry["actor"] == "test"
    assert entry["after"]["username"] == username and entry["before"] is None
    assert entry["at"].endswith("Z") or "+00:00" in entry["at"]
    by_actor = client.get("/api/v1/audit", params={"actor": "nobody"}, headers=auditor)
    assert by_actor.json()["total"] == 0
    verify = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verify["ok"] is True and verify["entries"] >= 2


def test_audit_api_time_window(client, users):
    auditor = users.headers(Role.AUDITOR)
    future = client.get("/api/v1/audit", params={"from": "2999-01-01T00:00:00Z"}, headers=auditor)
    assert future.status_code == 200 and future.json()["total"] == 0
    bad = client.get("/api/v1/audit", params={"from": "yesterday"}, headers=auditor)
    assert bad.status_code in (400, 422)


def test_cli_audit_verify_exits_nonzero_after_tampering(database, database_url, tmp_path):
    make_entries(database, 3)
    env = {"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(tmp_path)}
    ok = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "ok: 3 entries" in ok.output
    with triggers_off(database), database.session() as session:
        session.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2"))
    bad = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert bad.exit_code == 1
    assert "entry 2" in bad.output
