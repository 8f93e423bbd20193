"""Online backups and checked restores (`steristock backup` / `steristock restore`).

SQLite: `VACUUM INTO` writes a consistent snapshot of the live database in one statement.
It runs as one read transaction, and in WAL mode readers never block the app's writers
(`BEGIN IMMEDIATE`) nor wait for them, so the server keeps writing while the copy is
made; the copy holds every transaction committed before it started and nothing after.
Unlike the page-by-page backup API it needs no destination connection, never restarts
when another process writes, and leaves a compact, self-contained file (no -wal beside
it). The copy is written to a temporary name in the target's directory, checked
(`integrity_check`), flushed to disk, and only then given its name, so a backup file is
never half-written.

A restore never touches the live file until the backup has been proven good on a private
copy: it must be a SteriStock database at a migration revision this version knows, pass
`integrity_check`, and its audit chain must verify; it is then migrated to the head and
swapped in with one rename. The database being replaced is kept beside it.

PostgreSQL: `pg_dump --format=custom` (a consistent snapshot of a live database) and
`pg_restore --clean --if-exists --single-transaction` (all or nothing) when the client
tools are installed; otherwise the error names the command to run (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

STERISTOCK_TABLES = ("alembic_version", "audit_entries", "audit_head", "users")


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message says what to do."""


@dataclass(frozen=True)
class Snapshot:
    """What a backup or restore produced."""

    path: str
    revision: str
    audit_entries: int | None  # None: not known without reading the dump back
    kept: Path | None = None  # a restore's previous database, set aside


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names no SQLite file to back up.")
    return Path(database)


# SQLite ------------------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    """A connection to an existing file (never creates one), waiting on locks like the app."""
    uri = f"{path.resolve().as_uri()}?mode=rw"
    try:
        return sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from exc


def _revision(conn: sqlite3.Connection, path: Path) -> str:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in STERISTOCK_TABLES if t not in tables]
    if missing:
        raise BackupError(f"{path} is not a SteriStock database (no {', '.join(missing)} table).")
    revisions = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    if not revisions:
        raise BackupError(f"{path} has no migration revision recorded.")
    return ",".join(sorted(revisions))


def _integrity(conn: sqlite3.Connection, path: Path) -> None:
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise BackupError(f"{path} fails integrity_check: {'; '.join(problems[:5])}")


def _check_target(target: Path, *, force: bool) -> None:
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; pass --force to overwrite it.")
    if target.is_dir():
        raise BackupError(f"{target} is a directory; give a file name.")
    if not target.parent.is_dir():
        raise BackupError(f"cannot write {target}: {target.parent} is not a directory.")


def _partial(target: Path, tag: str) -> Path:
    partial = target.parent / f".{target.name}.{tag}-{os.getpid()}"
    with suppress(FileNotFoundError):
        partial.unlink()  # left by an earlier attempt that was killed
    return partial


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _place(partial: Path, target: Path, *, force: bool) -> None:
    """Give the finished file its name atomically; without `force` never clobber a file
    that appeared meanwhile (a hard link fails if the name exists). Backups and restored
    databases hold password and token hashes: owner-only (0600)."""
    partial.chmod(0o600)
    _fsync(partial)
    try:
        if force:
            os.replace(partial, target)
        else:
            try:
                os.link(partial, target)
            except FileExistsError as exc:
                raise BackupError(
                    f"{target} already exists; pass --force to overwrite it."
                ) from exc
            except OSError:  # a file system without hard links
                if target.exists():
                    raise BackupError(f"{target} already exists; pass --force.") from None
                os.replace(partial, target)
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()
    with suppress(OSError):  # make the rename itself durable
        _fsync(target.parent)


def backup_sqlite(source: Path, target: Path, *, force: bool = False) -> Snapshot:
    """A consistent copy of a (possibly live) SQLite database, written atomically."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}.")
    _check_target(target, force=force)
    partial = _partial(target, "partial")
    try:
        with closing(_connect(source)) as conn:
            _revision(conn, source)
            conn.execute("VACUUM INTO ?", (str(partial),))
        with closing(_connect(partial)) as copy:
            _integrity(copy, partial)
            revision = _revision(copy, partial)
            (entries,) = copy.execute("SELECT count(*) FROM audit_entries").fetchone()
        _place(partial, target, force=force)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {source} to {target} failed: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()
    return Snapshot(str(target), revision, entries)


def processes_using(path: Path) -> list[int]:
    """Other processes that have the database (or its WAL) open (Linux /proc; elsewhere
    nothing is found and the docs' "stop the server first" is all there is)."""
    names = {str(path.resolve()) + suffix for suffix in ("", "-wal", "-shm")}
    found = set()
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            links = [os.readlink(fd) for fd in fd_dir.iterdir()]
        except OSError:
            continue
        if names.intersection(links):
            found.add(int(fd_dir.parent.name))
    found.discard(os.getpid())
    return sorted(found)


def _check_backup(copy: Path, source: Path) -> str:
    """Refuse anything but a sound SteriStock database this version can migrate."""
    from alembic.util import CommandError

    from kernel.migrations import alembic_config

    with closing(_connect(copy)) as conn:
        try:
            _integrity(conn, source)
            revision = _revision(conn, source)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite database ({exc}).") from exc
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    for rev in revision.split(","):
        try:
            scripts.get_revision(rev)
        except CommandError as exc:
            raise BackupError(
                f"{source} is at migration {rev}, which this version of SteriStock does not "
                "know (a backup from a newer version?)."
            ) from exc
    return revision


def _verify_and_migrate(url: str, source: Path | str) -> int:
    """Refuse a backup whose audit chain or record seals do not verify, migrate it, and
    refuse it if its schema is not exactly what the migrations build."""
    from sqlalchemy import inspect

    from kernel.audit.evidence import verify_records
    from kernel.audit.service import verify_chain
    from kernel.db import Database
    from kernel.migrations import upgrade

    database = Database(url, pool_size=1)
    try:
        with database.session(write=False) as session:
            report = verify_chain(session)
            sealed = inspect(session.connection()).has_table("record_seals")
            records = verify_records(session) if sealed and report.ok else None
    finally:
        database.dispose()
    if not report.ok:
        raise BackupError(
            f"the audit chain in {source} does not verify: entry {report.first_bad_entry}: "
            f"{report.problem}."
        )
    if records is not None and not records.ok:
        raise _records_refused(source, records.problems)
    upgrade(url)
    _check_schema(url, source)
    if records is None:  # a backup from before the seals: the migration sealed it
        database = Database(url, pool_size=1)
        try:
            with database.session(write=False) as session:
                problems = verify_records(session).problems
        finally:
            database.dispose()
        if problems:
            raise _records_refused(source, problems)
    return report.entries


def _records_refused(source: Path | str, problems: list[str]) -> BackupError:
    shown = "\n  ".join(problems[:20])
    more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
    return BackupError(f"the records in {source} do not verify:\n  {shown}{more}")


def _check_schema(url: str, source: Path | str) -> None:
    """The migrated backup's schema must equal a freshly migrated database's."""
    from kernel.db import make_engine
    from kernel.schema_check import differences, migrated_sqlite_schema, schema_of

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            actual = schema_of(connection)
    finally:
        engine.dispose()
    expected = migrated_sqlite_schema() if is_sqlite(url) else _migrated_postgres_schema(url)
    found = differences(actual, expected)
    if found:
        shown = "\n  ".join(found[:20])
        raise BackupError(
            f"the schema in {source} differs from what the migrations build:\n  {shown}"
        )


def restore_sqlite(source: Path, database: Path, *, force: bool = False) -> Snapshot:
    """Check a backup on a private copy, migrate it, and swap it in for `database`."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}.")
    users = processes_using(database)
    if users:
        raise BackupError(
            f"{database} is open in process(es) {', '.join(map(str, users))}: stop the server "
            "(and any other steristock command) before restoring."
        )
    if database.exists() and not force:
        raise BackupError(
            f"{database} exists; pass --force to replace it (it is kept beside the restored one)."
        )
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(database, "restore")
    kept = None
    try:
        shutil.copyfile(source, partial)
        _check_backup(partial, source)
        entries = _verify_and_migrate(f"sqlite:///{partial}", source)
        with closing(_connect(partial)) as conn:
            revision = _revision(conn, partial)
            # Fold the migration's WAL back in: the file is swapped in alone.
            conn.execute("PRAGMA journal_mode=DELETE")
        if database.exists():
            kept = _set_aside(database)
        _place(partial, database, force=True)
    except sqlite3.Error as exc:
        raise BackupError(f"restore of {source} failed: {exc}") from exc
    except OSError as exc:
        raise BackupError(f"cannot restore into {database}: {exc.strerror or exc}") from exc
    finally:
        for leftover in (partial, *(Path(f"{partial}{s}") for s in ("-wal", "-shm", "-journal"))):
            with suppress(FileNotFoundError):
                leftover.unlink()
    return Snapshot(str(database), revision, entries, kept)


def _set_aside(database: Path) -> Path:
    """Fold the current database's WAL into it and keep a hard link to it under a dated
    name, so the swap that follows loses nothing and the old data stays at hand."""
    with closing(_connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(f"{database}-wal")
    if wal.exists() and wal.stat().st_size:
        raise BackupError(f"{database} is still being written to: stop the server first.")
    for leftover in (wal, Path(f"{database}-shm")):
        with suppress(FileNotFoundError):
            leftover.unlink()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.replaced-{stamp}")
    try:
        os.link(database, kept)
    except OSError:
        shutil.copy2(database, kept)
    return kept


# PostgreSQL --------------------------------------------------------------------------


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The DATABASE_URL as a libpq URL for pg_dump/pg_restore, with the password moved to
    PGPASSWORD so it never shows in the process list."""
    parsed: URL = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    conninfo = parsed.set(drivername="postgresql", password=None)
    return conninfo.render_as_string(hide_password=False), env


def _tool(name: str, documented: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed (apt-get install postgresql-client). Run it yourself:\n"
            f"  {documented}\n(see docs/operations.md)"
        )
    return path


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    # An argument list (no shell) naming a tool found with shutil.which.
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip()[-2000:]}")


def backup_postgres(url: str, target: Path, *, force: bool = False) -> Snapshot:
    """`pg_dump --format=custom` (a consistent snapshot, safe while the servers write)."""
    pg_dump = _tool(
        "pg_dump", f'pg_dump --format=custom --file={target} "postgresql://USER@HOST/DB"'
    )
    _check_target(target, force=force)
    conninfo, env = libpq(url)
    partial = _partial(target, "partial")
    try:
        _run(
            [pg_dump, "--format=custom", f"--file={partial}", f"--dbname={conninfo}"],
            env,
            "pg_dump",
        )
        _place(partial, target, force=force)
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        with suppress(FileNotFoundError):
            partial.unlink()
    return Snapshot(str(target), _postgres_revision(url), None)


def _postgres_revision(url: str) -> str:
    from sqlalchemy import text

    from kernel.db import Database

    database = Database(url, pool_size=1)
    try:
        with database.engine.connect() as conn:
            return ",".join(sorted(conn.scalars(text("SELECT version_num FROM alembic_version"))))
    finally:
        database.dispose()


def _postgres_in_use(url: str) -> tuple[int, bool]:
    """(other sessions connected to the database, whether it already holds SteriStock)."""
    from sqlalchemy import text

    from kernel.db import Database

    database = Database(url, pool_size=1)
    try:
        with database.engine.connect() as conn:
            others = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            )
            populated = conn.scalar(
                text("SELECT to_regclass('public.alembic_version') IS NOT NULL")
            )
            return others or 0, bool(populated)
    except Exception as exc:
        raise BackupError(f"cannot connect to the database: {exc}") from exc
    finally:
        database.dispose()


def _scratch_database(url: str, suffix: str) -> str:
    """An empty database beside `url`'s (created, or emptied if it exists) for checks that
    must not touch the live one; needs the CREATEDB privilege."""
    from sqlalchemy import create_engine, text

    base = make_url(url)
    name = f"{base.database}_{suffix}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        raise BackupError(
            f"cannot create the scratch database {name} to check the backup in ({exc}); "
            "grant the restoring role CREATEDB or create it beforehand."
        ) from exc
    finally:
        admin.dispose()
    scratch = base.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(scratch, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    return scratch


def _migrated_postgres_schema(url: str) -> dict[str, str]:
    from kernel.db import make_engine
    from kernel.migrations import upgrade
    from kernel.schema_check import postgres_schema

    scratch = _scratch_database(url, "schema_check")
    upgrade(scratch)
    engine = make_engine(scratch, pool_size=1)
    try:
        with engine.connect() as connection:
            return postgres_schema(connection)
    finally:
        engine.dispose()


def _pg_restore_into(pg_restore: str, url: str, source: Path) -> None:
    conninfo, env = libpq(url)
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={conninfo}",
            str(source),
        ],
        env,
        "pg_restore",
    )


def restore_postgres(url: str, source: Path, *, force: bool = False) -> Snapshot:
    """Check the backup in a scratch database first (pg_restore, verify, migrate, schema),
    then `pg_restore --clean --if-exists --single-transaction` it into the database."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}.")
    pg_restore = _tool(
        "pg_restore",
        f'pg_restore --clean --if-exists --no-owner --single-transaction --dbname="postgresql://'
        f'USER@HOST/DB" {source}',
    )
    _conninfo, env = libpq(url)
    listing = subprocess.run(  # noqa: S603 (argument list, no shell)
        [pg_restore, "--list", str(source)], env=env, capture_output=True, text=True, check=False
    )
    if listing.returncode != 0 or " TABLE public audit_entries " not in listing.stdout:
        raise BackupError(f"{source} is not a pg_dump --format=custom backup of SteriStock.")
    others, populated = _postgres_in_use(url)
    if others:
        raise BackupError(
            f"{others} other session(s) are connected to the database: stop the servers first."
        )
    if populated and not force:
        raise BackupError("the database already holds SteriStock data; pass --force to replace it.")
    scratch = _scratch_database(url, "restore_check")
    _pg_restore_into(pg_restore, scratch, source)
    entries = _verify_and_migrate(scratch, source)
    _pg_restore_into(pg_restore, url, source)
    from kernel.migrations import upgrade

    upgrade(url)
    revision = _postgres_revision(url)
    return Snapshot(make_url(url).render_as_string(hide_password=True), revision, entries)


def backup(url: str, target: Path, *, force: bool = False) -> Snapshot:
    if is_sqlite(url):
        return backup_sqlite(sqlite_path(url), target, force=force)
    return backup_postgres(url, target, force=force)


def restore(url: str, source: Path, *, force: bool = False) -> Snapshot:
    if is_sqlite(url):
        return restore_sqlite(source, sqlite_path(url), force=force)
    return restore_postgres(url, source, force=force)
