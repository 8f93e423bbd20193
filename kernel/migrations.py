"""Run Alembic migrations from code (serve, `db upgrade`, tests)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool


def migrations_dir() -> Path:
    """The `migrations/` folder beside the packages (source checkout or Docker image)."""
    candidates = [Path(__file__).resolve().parent.parent / "migrations", Path.cwd() / "migrations"]
    for candidate in candidates:
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("migrations/ folder not found next to the steristock package")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# PostgreSQL advisory lock key held while migrating ("STERISTO" in ASCII).
MIGRATION_LOCK_KEY = 0x5354455249535430


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations. On PostgreSQL, under an advisory lock: several app containers
    starting at once (each `steristock serve` upgrades first) migrate one after another,
    and all but the first find nothing left to do. (SQLite serialises on its file lock.)"""
    config = alembic_config(url)
    if not url.startswith("postgresql"):
        command.upgrade(config, revision)
        return
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(select(func.pg_advisory_lock(MIGRATION_LOCK_KEY)))
            connection.commit()
            try:
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            finally:
                connection.rollback()
                connection.execute(select(func.pg_advisory_unlock(MIGRATION_LOCK_KEY)))
                connection.commit()
    finally:
        engine.dispose()


@lru_cache(maxsize=1)
def _script_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def script_heads() -> set[str]:
    """The head revisions of the migration scripts (read once per process)."""
    return set(_script_heads())


def current_heads(connection: Connection) -> set[str]:
    """The revisions the database is at. Read straight from `alembic_version` (`GET /health`
    asks on every call); a database without the table has none. The table is looked for
    only when the read fails: asking the catalogue first doubled the cost of every call."""
    try:
        return {row[0] for row in connection.execute(_CURRENT_HEADS)}
    except DBAPIError:
        connection.rollback()  # PostgreSQL refuses any statement after a failed one
        if inspect(connection).has_table("alembic_version"):
            raise
        return set()


_CURRENT_HEADS = text("SELECT version_num FROM alembic_version")
