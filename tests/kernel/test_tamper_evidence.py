"""Records that prove themselves: the insider attacks on a copy of the database, each
caught by `verify` naming the table and row (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import event, text

from kernel.audit.anchors import read_anchors, verify_all
from kernel.audit.evidence import verify_records
from kernel.audit.service import verify_chain
from kernel.auth.models import Role
from steristock.cli import main as cli
from tests.tampering import build_clinic, build_second_edition_logs, reinstall_triggers, tamper


@pytest.fixture
def clinic(client, users, database):
    return build_clinic(client, users, database)


def records_report(database):
    with database.session(write=False) as session:
        return verify_records(session)


def problems_about(database, table: str) -> list[str]:
    report = records_report(database)
    assert not report.ok
    return [p for p in report.problems if p.startswith(table)]


def one(database, sql: str):
    with database.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_a_second_commit_with_nothing_written_begins_no_transaction(database):
    """A stock request commits in its handler's thread, then the request's session is
    committed again on the event loop: sealing must not open a new write transaction to
    find nothing (on SQLite a BEGIN IMMEDIATE, queueing on the write lock, which blocked
    the loop of a worker whose other requests held that lock)."""
    begins: list[object] = []

    def count(conn: object) -> None:
        begins.append(conn)

    event.listen(database.engine, "begin", count)
    session = database.new_session(write=True, request=True)
    try:
        session.execute(text("UPDATE auth_generation SET generation = generation WHERE id = 1"))
        session.commit()  # the handler's own commit: sealed, one transaction
        assert len(begins) == 1
        session.commit()  # the request's: nothing left
        assert len(begins) == 1
    finally:
        session.close()
        event.remove(database.engine, "begin", count)


def test_a_failed_cycle_turned_passed_is_detected(database, clinic):
    cycle = one(database, "SELECT id FROM cycles WHERE status = 'failed' ORDER BY id LIMIT 1")
    assert cycle  # the positive BI failed its load
    tamper(database, f"UPDATE cycles SET status = 'passed' WHERE id = {cycle}")
    assert problems_about(database, "cycles") == [
        f"cycles row {cycle}: changed since it was sealed"
    ]


def test_a_cycle_temperature_rewritten_is_detected(database, clinic):
    tamper(
        database,
        f"UPDATE cycle_parameters SET temperature_c = 80 WHERE cycle_id = {clinic['cycle']}",
    )
    assert problems_about(database, "cycle_parameters") == [
        f"cycle_parameters row {clinic['cycle']}: changed since it was sealed"
    ]


def test_a_pack_struck_from_a_cycles_load_list_is_detected(database, clinic):
    """The log lists each cycle's packs from its load list: an insider hiding a pack from
    the log by rewriting the list is caught like any other rewrite."""
    cycle = clinic["cycle"]
    codes = one(database, f"SELECT pack_codes FROM cycle_loads WHERE cycle_id = {cycle}")
    assert codes
    kept = " ".join(codes.split(" ")[1:])
    tamper(database, f"UPDATE cycle_loads SET pack_codes = '{kept}' WHERE cycle_id = {cycle}")
    assert problems_about(database, "cycle_loads") == [
        f"cycle_loads row {cycle}: changed since it was sealed"
    ]


def test_a_deleted_pack_event_is_detected(database, clinic):
    event = one(database, "SELECT max(id) FROM pack_events")
    tamper(database, f"DELETE FROM pack_events WHERE id = {event}")
    assert problems_about(database, "pack_events") == [
        f"pack_events row {event}: sealed, but deleted"
    ]


def test_a_deleted_bi_result_is_detected(database, clinic):
    key = one(database, "SELECT min(id) FROM bi_results")
    tamper(database, f"DELETE FROM bi_results WHERE id = {key}")
    assert problems_about(database, "bi_results") == [f"bi_results row {key}: sealed, but deleted"]


SECOND_EDITION_LOGS = [
    "invalid_bi_tests", "cycle_records", "cycle_attachments", "equipment_runs",
    "equipment_tests", "maintenance_records", "hld_runs", "hld_uses",
]  # fmt: skip


@pytest.mark.parametrize("table", SECOND_EDITION_LOGS)
def test_a_second_edition_log_row_deleted_or_rewritten_is_detected(client, users, database, table):
    build_second_edition_logs(client, users, database)
    first = one(database, f"SELECT min(id) FROM {table}")
    assert first is not None, f"no {table} row to tamper with"
    tamper(database, f"UPDATE {table} SET id = id WHERE id = {first}")
    assert records_report(database).ok  # the same row, unchanged: nothing to report
    tamper(database, f"DELETE FROM {table} WHERE id = {first}")
    assert problems_about(database, table) == [f"{table} row {first}: sealed, but deleted"]


def test_a_second_edition_log_refuses_update_and_delete_in_the_database(client, users, database):
    build_second_edition_logs(client, users, database)
    for table in SECOND_EDITION_LOGS:
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(Exception, match="evidence"), database.engine.begin() as conn:
                conn.execute(text(statement))
    assert records_report(database).ok


def test_a_whole_cycle_deleted_is_detected(database, clinic):
    cycle = clinic["cycle"]
    tamper(
        database,
        f"DELETE FROM cycle_amendments WHERE cycle_id = {cycle}",
        f"DELETE FROM bi_results WHERE cycle_id = {cycle}",
        f"DELETE FROM cycle_parameters WHERE cycle_id = {cycle}",
        f"DELETE FROM cycle_loads WHERE cycle_id = {cycle}",
        f"DELETE FROM cycles WHERE id = {cycle}",
    )
    found = problems_about(database, "cycle")
    assert f"cycles row {cycle}: sealed, but deleted" in found
    assert f"cycle_loads row {cycle}: sealed, but deleted" in found
    assert f"cycle_parameters row {cycle}: sealed, but deleted" in found
    assert any(p.startswith("cycle_amendments row") for p in found)


def test_every_recall_deleted_is_detected(database, clinic):
    tamper(
        database,
        "DELETE FROM recall_packs",
        "UPDATE packs SET recall_id = NULL",
        "DELETE FROM recalls",
    )
    assert f"recalls row {clinic['recall']}: sealed, but deleted" in problems_about(
        database, "recalls"
    )
    assert problems_about(database, "recall_packs")


def test_a_stock_movement_inserted_behind_the_app_is_detected(database, clinic):
    columns = one(database, "SELECT max(id) FROM stock_movements")
    with database.engine.connect() as conn:
        names = [c for c in conn.execute(text("SELECT * FROM stock_movements")).keys() if c != "id"]  # noqa: SIM118
    listed = ", ".join(names)
    tamper(
        database,
        f"INSERT INTO stock_movements ({listed}) SELECT {listed} FROM stock_movements "
        f"WHERE id = {columns}",
    )
    new = one(database, "SELECT max(id) FROM stock_movements")
    assert problems_about(database, "stock_movements") == [
        f"stock_movements row {new}: not sealed (inserted outside the application)"
    ]


def test_the_append_only_tables_refuse_update_and_delete_in_the_database(database, clinic):
    for statement in (
        "UPDATE cycle_parameters SET temperature_c = 80",
        "DELETE FROM pack_events",
        "DELETE FROM cycles",
        "UPDATE cycle_loads SET pack_count = 0",
        "UPDATE audit_entries SET actor = 'mallory'",
        "DELETE FROM record_seals",
    ):
        with pytest.raises(Exception, match="evidence"), database.engine.begin() as conn:
            conn.execute(text(statement))
    assert records_report(database).ok


def test_a_status_changed_with_the_triggers_on_is_reported_unsealed(database, clinic):
    with database.engine.begin() as conn:
        conn.execute(text(f"UPDATE cycles SET status = 'failed' WHERE id = {clinic['cycle']}"))
    found = problems_about(database, "cycles")
    assert f"cycles row {clinic['cycle']}: changed outside the application" in found[0]


def test_a_dropped_trigger_is_detected(database, clinic):
    statement = (
        "DROP TRIGGER pack_events_no_delete"
        if database.engine.dialect.name == "sqlite"
        else "DROP TRIGGER pack_events_no_delete ON pack_events"
    )
    try:
        with database.engine.begin() as conn:
            conn.execute(text(statement))
        assert problems_about(database, "pack_events") == [
            "pack_events: trigger pack_events_no_delete is missing or disabled"
        ]
    finally:
        reinstall_triggers(database)


def test_the_tail_of_the_audit_chain_cut_with_its_head_moved_is_detected(database, clinic):
    last = one(database, "SELECT max(seq) FROM audit_entries")
    previous = one(database, f"SELECT hash FROM audit_entries WHERE seq = {last - 2}")
    tamper(
        database,
        f"DELETE FROM audit_entries WHERE seq > {last - 2}",
        f"UPDATE audit_head SET seq = {last - 2}, hash = '{previous}'",
    )
    with database.session(write=False) as session:
        assert verify_chain(session).ok  # the unkeyed chain alone is fooled
    found = problems_about(database, "audit_entries")
    assert f"audit_entries row {last}: sealed, but missing" in found


def test_an_audit_entry_changed_and_the_chain_recomputed_is_detected(database, clinic):
    with database.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_entries ORDER BY seq")).mappings().all()
    from kernel.audit.service import entry_hash

    statements, prev = [], "0" * 64
    for row in rows:
        actor = "mallory" if row["seq"] == 3 else row["actor"]
        digest = entry_hash(seq=row["seq"], at=_aware(row["at"]), actor=actor,
                            action=row["action"], entity=row["entity"],
                            entity_id=row["entity_id"], before=row["before"],
                            after=row["after"], prev_hash=prev)  # fmt: skip
        statements.append(
            f"UPDATE audit_entries SET actor = '{actor}', prev_hash = '{prev}', "
            f"hash = '{digest}' WHERE seq = {row['seq']}"
        )
        prev = digest
    statements.append(f"UPDATE audit_head SET hash = '{prev}'")
    tamper(database, *statements)
    with database.session(write=False) as session:
        assert verify_chain(session).ok  # the unkeyed chain alone is fooled
    assert any("the chain was recomputed" in p for p in problems_about(database, "audit_entries"))


def _aware(value):
    import datetime as dt

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_a_seal_recomputed_without_the_key_is_detected(database, clinic):
    with database.engine.connect() as conn:
        seq, table, key_text = conn.execute(
            text(
                "SELECT seq, table_name, row_key FROM record_seals WHERE table_name = 'cycles' "
                "ORDER BY seq DESC LIMIT 1"
            )
        ).one()
    forged = hashlib.sha256(json.dumps(["forged"]).encode()).hexdigest()
    tamper(database, f"UPDATE record_seals SET digest = '{forged}' WHERE seq = {seq}")
    report = records_report(database)
    assert any(f"seal {seq} ({table} row {key_text}) does not match its MAC" in p
               for p in report.problems)  # fmt: skip


def test_cli_verify_names_the_tampered_row_and_exits_nonzero(
    database, database_url, clinic, tmp_path
):
    env = {"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(tmp_path)}
    ok = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    tamper(
        database,
        f"UPDATE cycle_parameters SET temperature_c = 80 WHERE cycle_id = {clinic['cycle']}",
    )
    bad = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert bad.exit_code == 1
    assert f"cycle_parameters row {clinic['cycle']}: changed since it was sealed" in bad.output


def test_api_verify_reports_the_tampered_row(database, client, users, clinic):
    tamper(database, f"UPDATE cycles SET status = 'failed' WHERE id = {clinic['cycle']}")
    body = client.get("/api/v1/audit/verify", headers=users.headers(Role.AUDITOR)).json()
    assert body["ok"] is False and body.get("anchor") is None
    assert f"cycles row {clinic['cycle']}: changed since it was sealed" in body["problems"]


def heads(database) -> tuple[int, str, int, str]:
    with database.engine.connect() as conn:
        audit = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
        seals = conn.execute(text("SELECT seq, mac FROM record_seal_head")).one()
    return audit.seq, audit.hash, seals.seq, seals.mac


def test_cutting_the_tail_back_to_an_older_point_is_caught_by_a_newer_anchor(
    database, database_url, clinic, users, tmp_path
):
    audit_seq, audit_hash, seal_seq, seal_mac = heads(database)
    later = users.create(Role.MA)  # written after the point the insider cuts back to
    env = {"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(tmp_path)}
    checkpoint = CliRunner().invoke(cli, ["audit", "checkpoint"], env=env)
    assert checkpoint.exit_code == 0, checkpoint.output
    anchor = json.loads(checkpoint.output.strip().splitlines()[-1])
    assert (tmp_path / "audit_anchors.log").read_text().strip() == checkpoint.output.strip()
    tamper(
        database,
        f"DELETE FROM audit_entries WHERE seq > {audit_seq}",
        f"DELETE FROM record_seals WHERE seq > {seal_seq}",
        f"UPDATE audit_head SET seq = {audit_seq}, hash = '{audit_hash}'",
        f"UPDATE record_seal_head SET seq = {seal_seq}, mac = '{seal_mac}', "
        f"audit_seq = {audit_seq}",
        f"DELETE FROM users WHERE username = '{later}'",
    )
    assert records_report(database).ok  # a clean cut: consistent without the anchor
    bad = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert bad.exit_code == 1
    assert f"seal {anchor['seal_seq']} is gone (records were cut from the end)" in bad.output
    assert f"audit entry {anchor['audit_seq']} is gone" in bad.output


def test_a_forged_anchor_line_is_reported(database, database_url, clinic, tmp_path):
    env = {"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli, ["audit", "checkpoint"], env=env).exit_code == 0
    log = tmp_path / "audit_anchors.log"
    anchor = json.loads(log.read_text())
    anchor["seal_seq"] = 1
    log.write_text(json.dumps(anchor) + "\n")
    bad = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert bad.exit_code == 1 and "line 1: not an anchor signed with this key" in bad.output


def test_checkpoint_refuses_to_anchor_tampered_records(database, database_url, clinic, tmp_path):
    tamper(database, f"UPDATE cycles SET status = 'failed' WHERE id = {clinic['cycle']}")
    env = {"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["audit", "checkpoint"], env=env)
    assert result.exit_code == 1 and "no anchor written" in result.output
    assert not (tmp_path / "audit_anchors.log").exists()


def test_every_audit_csv_carries_a_signed_anchor(database, client, users, clinic, tmp_path):
    response = client.get("/api/v1/audit.csv", headers=users.headers(Role.AUDITOR))
    assert response.status_code == 200
    line = response.headers["x-audit-anchor"]
    log = tmp_path / "from-the-auditor.log"
    log.write_text(line + "\n")
    anchors, problems = read_anchors(log)
    assert problems == [] and anchors[0]["audit_seq"] >= 1
    with database.session(write=False) as session:
        assert verify_all(session, log).ok


def test_a_commit_that_wrote_nothing_takes_no_connection(database):
    """A write request whose handler already committed is ended on the event loop: its
    commit must not begin a transaction (on SQLite, queueing there for the write lock
    stalled the loop behind the very writers it had to finish)."""
    from sqlalchemy import event

    checkouts: list[object] = []

    def count(*_args: object) -> None:
        checkouts.append(1)

    event.listen(database.engine, "checkout", count)
    try:
        session = database.new_session(write=True)
        session.commit()  # never used (SQLAlchemy begins a transaction to commit it)
        session.close()
    finally:
        event.remove(database.engine, "checkout", count)
    assert checkouts == []


def test_a_change_still_pending_at_commit_is_sealed(database, clinic):
    """The commit's own flush (after the seal hook ran) is sealed too."""
    from sterilization.models import Pack

    pack_id = one(database, "SELECT id FROM packs ORDER BY id LIMIT 1")
    with database.session() as session:
        pack = session.get(Pack, pack_id)  # a read: connected, nothing written yet
        assert pack is not None
        pack.status_note = "checked"  # written by the commit's flush
    assert records_report(database).ok
