"""`steristock backup` / `steristock restore`: an online snapshot taken while the real
server is writing restores to a whole database at one point in time; bad input gets a
clear error and no traceback."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from inventory.models import StockMovement
from kernel.audit.service import verify_chain
from kernel.db import Database
from kernel.migrations import current_heads, script_heads, upgrade
from sterilization.models import Cycle
from steristock.cli import main as cli
from tests.conftest import reset_postgres_schema
from tests.server_process import ServerProcess, cli_env, steristock_command
from tests.write_load import Load, check_consistent, login, seed

HAS_PG_TOOLS = bool(shutil.which("pg_dump") and shutil.which("pg_restore"))


def steristock(database_url: str, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*steristock_command(), *args],
        env=cli_env(database_url, workdir / "data"),
        capture_output=True,
        text=True,
        timeout=300,
    )


def restore_target(backend: str, database_url: str, tmp_path: Path) -> str:
    """A fresh, empty place to restore into: a new file, or an emptied second PostgreSQL
    database (created once, then reused: DROP DATABASE waits for an immediate checkpoint,
    which took minutes on the shared CI server)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored' / 'steristock.db'}"
    url = make_url(database_url)
    target = url.set(database=f"{url.database}_restore")
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()
    target_url = target.render_as_string(hide_password=False)
    reset_postgres_schema(target_url)
    return target_url


def empty_restore_target(backend: str, target_url: str) -> None:
    if backend == "postgres":
        reset_postgres_schema(target_url)


@pytest.mark.slow
def test_backup_taken_under_write_load_restores_to_one_whole_point_in_time(
    backend: str, database: Database, database_url: str, tmp_path: Path
) -> None:
    if backend == "postgres" and not HAS_PG_TOOLS:
        pytest.skip("pg_dump/pg_restore are not installed")
    packs = seed(database)
    server = ServerProcess(database_url, tmp_path)
    backup_file = tmp_path / "backups" / "steristock.backup"
    backup_file.parent.mkdir()
    try:
        base_url = server.start()
        load = Load(base_url, login(base_url), packs)
        load.start()
        try:
            load.wait_for(30)
            began = time.monotonic()
            made = steristock(database_url, tmp_path, "backup", str(backup_file))
            ended = time.monotonic()
            load.wait_for(load.acknowledged + 10)  # still writing after the backup
        finally:
            load.finish()
    finally:
        server.stop()
    assert made.returncode == 0, made.stdout + made.stderr
    assert "backed up to" in made.stdout
    acknowledged = [a for a in load.attempts if a.acknowledged]
    during = [a for a in acknowledged if a.sent_at < ended and a.answered_at > began]
    assert during, "nothing was written while the backup ran"

    target_url = restore_target(backend, database_url, tmp_path)
    try:
        restored = steristock(target_url, tmp_path, "restore", str(backup_file))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "audit chain verified" in restored.stdout
        copy = Database(target_url, pool_size=2)
        try:
            check_consistent(copy)  # every movement has its audit entry, cycles whole, ...
            with copy.session(write=False) as session:
                assert verify_chain(session).ok
                assert current_heads(session.connection()) == script_heads()
                movements = dict(
                    session.execute(select(StockMovement.id, StockMovement.reference)).all()
                )
                cycles = dict(session.execute(select(Cycle.id, Cycle.status)).all())
        finally:
            copy.dispose()
        # One point in time: everything acknowledged before the backup began is in it,
        # nothing sent after it ended is.
        for a in acknowledged:
            if a.kind == "consume":
                present = movements.get(a.result["id"]) == a.result["reference"]
            elif a.kind == "start":
                present = a.result["id"] in cycles
            else:
                present = cycles.get(a.result["id"]) == "passed"
            if a.answered_at < began:
                assert present, f"acknowledged before the backup but missing: {a}"
            if a.sent_at > ended:
                assert not present, f"written after the backup but in it: {a}"
        with database.session(write=False) as session:
            live = dict(session.execute(select(StockMovement.id, StockMovement.reference)).all())
        assert movements.items() <= live.items()
        assert len(movements) < len(live)
    finally:
        empty_restore_target(backend, target_url)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "steristock.db"
    upgrade(f"sqlite:///{path}")
    return path


def run(db: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        cli,
        list(args),
        env={"DATABASE_URL": f"sqlite:///{db}", "STERISTOCK_DATA_DIR": str(db.parent)},
    )


def clean_error(result, *phrases: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: "), result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    for phrase in phrases:
        assert phrase in result.output


def test_backup_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path / "nothing-here.db", "backup", str(tmp_path / "b.db"))
    clean_error(result, "no SQLite database at")
    assert not (tmp_path / "nothing-here.db").exists()  # not created by asking
    assert not (tmp_path / "b.db").exists()


def test_backup_to_an_unwritable_place_is_a_clear_error(sqlite_db: Path, tmp_path: Path) -> None:
    clean_error(run(sqlite_db, "backup", str(tmp_path / "no" / "dir" / "b.db")), "not a directory")
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    clean_error(run(sqlite_db, "backup", str(a_file / "b.db")), "not a directory")
    a_dir = run(sqlite_db, "backup", str(tmp_path))  # click's own usage error
    assert a_dir.exit_code == 2 and "is a directory" in a_dir.output
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_backup_never_overwrites_a_file_without_force(sqlite_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "b.db"
    target.write_text("an older backup")
    clean_error(run(sqlite_db, "backup", str(target)), "already exists", "--force")
    assert target.read_text() == "an older backup"
    result = run(sqlite_db, "backup", "--force", str(target))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # self-contained


def make_backup(db: Path, tmp_path: Path) -> Path:
    target = tmp_path / "b.db"
    result = run(db, "backup", str(target))
    assert result.exit_code == 0, result.output
    return target


def test_restore_refuses_a_file_that_is_not_a_steristock_backup(
    sqlite_db: Path, tmp_path: Path
) -> None:
    target = tmp_path / "fresh" / "steristock.db"
    clean_error(run(target, "restore", str(tmp_path / "missing.db")), "no backup file")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    clean_error(run(target, "restore", str(junk)), "is not a SQLite database")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    clean_error(run(target, "restore", str(other)), "is not a SteriStock database")
    assert not target.exists()


def test_restore_refuses_a_backup_whose_audit_chain_was_altered(
    sqlite_db: Path, tmp_path: Path
) -> None:
    result = run(sqlite_db, "users", "create", "maria", "--role", "ma", "--password", "long pw 123")
    assert result.exit_code == 0, result.output
    backup = make_backup(sqlite_db, tmp_path)
    with sqlite3.connect(backup) as conn:  # the insider drops the trigger refusing the edit
        conn.execute("DROP TRIGGER audit_entries_no_update")
        conn.execute("UPDATE audit_entries SET actor = 'someone else' WHERE seq = 1")
    clean_error(run(sqlite_db, "restore", "--force", str(backup)), "does not verify")
    with sqlite3.connect(sqlite_db) as conn:  # the live database was not touched
        assert conn.execute("SELECT actor FROM audit_entries").fetchone() == ("cli",)


def test_restore_refuses_a_backup_from_an_unknown_migration(
    sqlite_db: Path, tmp_path: Path
) -> None:
    backup = make_backup(sqlite_db, tmp_path)
    with sqlite3.connect(backup) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999_future'")
    clean_error(run(tmp_path / "new.db", "restore", str(backup)), "0999_future", "does not know")


def test_restore_replaces_only_with_force_and_keeps_the_old_database(
    sqlite_db: Path, tmp_path: Path
) -> None:
    backup = make_backup(sqlite_db, tmp_path)
    result = run(sqlite_db, "users", "create", "later", "--role", "ma", "--password", "long pw 123")
    assert result.exit_code == 0
    clean_error(run(sqlite_db, "restore", str(backup)), "--force")
    result = run(sqlite_db, "restore", "--force", str(backup))
    assert result.exit_code == 0, result.output
    assert "kept as" in result.output
    (kept,) = sqlite_db.parent.glob("steristock.db.replaced-*")
    with sqlite3.connect(kept) as old, sqlite3.connect(sqlite_db) as new:
        assert old.execute("SELECT count(*) FROM users").fetchone() == (1,)
        assert new.execute("SELECT count(*) FROM users").fetchone() == (0,)
    assert not Path(f"{sqlite_db}-wal").exists() or Path(f"{sqlite_db}-wal").stat().st_size == 0


def test_restore_refuses_while_another_process_has_the_database_open(
    sqlite_db: Path, tmp_path: Path
) -> None:
    backup = make_backup(sqlite_db, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM users').fetchall()\n"
            "print('open', flush=True); time.sleep(120)",
            str(sqlite_db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        clean_error(
            run(sqlite_db, "restore", "--force", str(backup)), "stop the server", str(holder.pid)
        )
    finally:
        holder.kill()
        holder.wait()
    assert run(sqlite_db, "restore", "--force", str(backup)).exit_code == 0


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.skipif(not HAS_PG_TOOLS, reason="pg_dump/pg_restore are not installed")
def test_postgres_restore_refuses_to_replace_data_without_force(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    def steristock_pg(url: str, *args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(
            cli, list(args), env={"DATABASE_URL": url, "STERISTOCK_DATA_DIR": str(tmp_path)}
        )

    backup = tmp_path / "pg.dump"
    made = steristock_pg(database_url, "backup", str(backup))
    assert made.exit_code == 0, made.output
    clean_error(steristock_pg(database_url, "backup", str(backup)), "already exists")
    target_url = restore_target("postgres", database_url, tmp_path)
    try:
        first = steristock_pg(target_url, "restore", str(backup))
        assert first.exit_code == 0, first.output
        clean_error(steristock_pg(target_url, "restore", str(backup)), "--force")
        again = steristock_pg(target_url, "restore", "--force", str(backup))
        assert again.exit_code == 0, again.output
        not_a_dump = tmp_path / "x.dump"
        not_a_dump.write_text("nope")
        clean_error(
            steristock_pg(target_url, "restore", "--force", str(not_a_dump)), "not a pg_dump"
        )
    finally:
        empty_restore_target("postgres", target_url)
