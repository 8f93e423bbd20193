"""Migrations build the whole schema from empty on both databases, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import steristock.tables  # noqa: F401
from kernel.migrations import script_heads, upgrade
from tests.conftest import POSTGRES_URL, reset_postgres_schema


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> str:
    """A brand-new empty database (a separate PostgreSQL database, not the test one)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    target = url.set(database=name).render_as_string(hide_password=False)
    reset_postgres_schema(target)
    return target


def test_migrations_run_up_from_empty_to_head(empty_database_url):
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
            assert current == script_heads()
            assert conn.scalar(text("SELECT seq FROM audit_head WHERE id = 1")) == 0
    finally:
        engine.dispose()


def test_running_migrations_twice_is_harmless(empty_database_url):
    upgrade(empty_database_url)
    upgrade(empty_database_url)


def test_migrated_schema_matches_the_models(empty_database_url):
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], diff
