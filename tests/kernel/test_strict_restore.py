"""Strict restore: a backup is restored only if its records verify and its schema is
exactly what the migrations build; each bad backup of the issue is refused, naming why,
and the database being replaced is untouched."""

from __future__ import annotations

import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from kernel.migrations import upgrade
from steristock.cli import main as cli
from tests.kernel.test_backup import restore_target
from tests.tampering import build_clinic

HAS_PG_TOOLS = bool(shutil.which("pg_dump") and shutil.which("pg_restore"))

RESURRECTING_TRIGGER = (
    "CREATE TRIGGER unrecall AFTER UPDATE ON packs WHEN NEW.status = 'recalled' "
    "BEGIN UPDATE packs SET status = 'sterile' WHERE id = NEW.id; END"
)
PG_RESURRECTING_TRIGGER = [
    "CREATE FUNCTION unrecall() RETURNS trigger AS $$ BEGIN NEW.status := 'sterile'; "
    "RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER unrecall BEFORE UPDATE ON packs FOR EACH ROW EXECUTE FUNCTION unrecall()",
]


def cli_run(database_url: str, data: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        cli, list(args), env={"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(data)}
    )


@pytest.fixture
def backup_file(client, users, database, database_url, backend, tmp_path) -> Path:
    if backend == "postgres" and not HAS_PG_TOOLS:
        pytest.skip("pg_dump/pg_restore not installed")
    build_clinic(client, users, database)
    target = tmp_path / ("b.db" if backend == "sqlite" else "b.dump")
    result = cli_run(database_url, tmp_path / "data", "backup", str(target))
    assert result.exit_code == 0, result.output
    return target


def edit_backup(backend: str, backup: Path, database_url: str, tmp_path: Path, *sql: str) -> Path:
    """The insider's edit of a backup file: SQLite in place; PostgreSQL restored to a
    scratch database, edited, dumped again."""
    if backend == "sqlite":
        with closing(sqlite3.connect(backup, isolation_level=None)) as conn:
            for statement in sql:
                conn.execute(statement)
        return backup
    import subprocess

    from sqlalchemy import create_engine, text

    from kernel.backup import libpq

    scratch = restore_target(backend, database_url, tmp_path)
    conninfo, env = libpq(scratch)
    subprocess.run(
        ["pg_restore", "--no-owner", f"--dbname={conninfo}", str(backup)], env=env, check=True
    )
    engine = create_engine(scratch)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in sql:
            conn.execute(text(statement))
    engine.dispose()
    edited = tmp_path / "edited.dump"
    subprocess.run(
        ["pg_dump", "--format=custom", f"--file={edited}", f"--dbname={conninfo}"],
        env=env,
        check=True,
    )
    return edited


def refused(backend, database_url, tmp_path, backup: Path, *phrases: str) -> None:
    target = restore_target(backend, database_url, tmp_path)
    if backend == "sqlite":
        target = f"sqlite:///{tmp_path / 'restored' / 'steristock.db'}"
    result = cli_run(target, tmp_path / "data", "restore", "--force", str(backup))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output
    if backend == "sqlite":
        assert not (tmp_path / "restored" / "steristock.db").exists()


def test_a_good_backup_restores(backend, database_url, backup_file, tmp_path):
    target = restore_target(backend, database_url, tmp_path)
    result = cli_run(target, tmp_path / "data", "restore", "--force", str(backup_file))
    assert result.exit_code == 0, result.output
    verify = cli_run(target, tmp_path / "data", "audit", "verify")
    assert verify.exit_code == 0, verify.output


def test_a_backup_with_a_failed_cycle_turned_passed_is_refused(
    backend, database_url, backup_file, tmp_path
):
    edited = edit_backup(
        backend, backup_file, database_url, tmp_path,
        "UPDATE cycles SET status = 'passed' WHERE status = 'failed'",
    )  # fmt: skip
    refused(backend, database_url, tmp_path, edited, "do not verify", "cycles row")


def test_a_backup_with_every_recall_deleted_is_refused(
    backend, database_url, backup_file, tmp_path
):
    statements = [
        "DELETE FROM recall_packs",
        "UPDATE packs SET recall_id = NULL",
        "DELETE FROM recalls",
    ]
    if backend == "sqlite":
        statements = [
            "DROP TRIGGER recall_packs_no_delete",
            "DROP TRIGGER recalls_no_delete",
            *statements,
        ]
    edited = edit_backup(backend, backup_file, database_url, tmp_path, *statements)
    refused(backend, database_url, tmp_path, edited, "recalls row", "sealed, but deleted")


def test_a_backup_with_an_added_trigger_is_refused(backend, database_url, backup_file, tmp_path):
    sql = [RESURRECTING_TRIGGER] if backend == "sqlite" else PG_RESURRECTING_TRIGGER
    edited = edit_backup(backend, backup_file, database_url, tmp_path, *sql)
    refused(
        backend,
        database_url,
        tmp_path,
        edited,
        "differs from what the migrations build",
        "unrecall",
    )


def test_a_backup_with_a_missing_table_is_refused(backend, database_url, backup_file, tmp_path):
    sql = "DROP TABLE recall_packs" + ("" if backend == "sqlite" else " CASCADE")
    edited = edit_backup(backend, backup_file, database_url, tmp_path, sql)
    refused(backend, database_url, tmp_path, edited, "recall_packs")


def test_a_backup_with_an_extra_view_is_refused(backend, database_url, backup_file, tmp_path):
    edited = edit_backup(
        backend,
        backup_file,
        database_url,
        tmp_path,
        "CREATE VIEW sterile_now AS SELECT id FROM packs",
    )
    refused(backend, database_url, tmp_path, edited, "extra", "sterile_now")


def test_an_old_backup_from_before_the_seals_is_sealed_on_restore(tmp_path):
    """A backup made before the seals existed restores and is sealed by the migration."""
    old = tmp_path / "old.db"
    upgrade(f"sqlite:///{old}", "0009_restock_purchasing")
    target = f"sqlite:///{tmp_path / 'restored' / 'steristock.db'}"
    result = cli_run(target, tmp_path / "data", "restore", str(old))
    assert result.exit_code == 0, result.output
    assert cli_run(target, tmp_path / "data", "audit", "verify").exit_code == 0


def rewrite_packs_table(backup: Path, rewrite) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the stored `CREATE TABLE packs (...)` text of a SQLite backup in place: its
    columns and PRIMARY KEY, then its named constraints and foreign keys, go through
    `rewrite(constraints)`. The rows are untouched: the columns keep their order."""
    with closing(sqlite3.connect(backup, isolation_level=None)) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'packs'").fetchone()
        assert sql.endswith(")")
        columns, *constraints = re.split(r",\s*(?=CONSTRAINT |FOREIGN KEY)", sql[:-1])
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE name = 'packs'",
            (", ".join([columns, *rewrite(constraints)]) + ")",),
        )
        conn.execute("PRAGMA writable_schema = OFF")
    with closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_backup_whose_table_constraints_are_in_another_order_restores(
    backend, database_url, backup_file, tmp_path
):
    """SQLite batch migrations write a rebuilt table's constraints in no fixed order, so
    the backup of a database migrated by another run of the migrations has them so."""

    def reversed_(constraints: list[str]) -> list[str]:
        assert len(constraints) > 2
        return constraints[::-1]

    rewrite_packs_table(backup_file, reversed_)
    target = restore_target(backend, database_url, tmp_path)
    result = cli_run(target, tmp_path / "data", "restore", "--force", str(backup_file))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_backup_whose_table_lost_a_check_constraint_is_refused(
    backend, database_url, backup_file, tmp_path
):

    def without_checks(constraints: list[str]) -> list[str]:
        kept = [c for c in constraints if not c.startswith("CONSTRAINT ck_packs")]
        assert len(kept) < len(constraints)
        return kept

    rewrite_packs_table(backup_file, without_checks)
    refused(
        backend,
        database_url,
        tmp_path,
        backup_file,
        "differs from what the migrations build",
        "altered table packs",
    )
