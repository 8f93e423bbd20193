"""Fixtures per database backend.

Every test that takes `database` runs once on SQLite and, when
`STERISTOCK_TEST_POSTGRES_URL` is set, once more on PostgreSQL. The schema is built through
the Alembic migrations once per backend per run; each test then starts from a clean copy
(a copied SQLite file, or truncated PostgreSQL tables).

Under pytest-xdist (`make test` runs `-n auto`) every worker has its own SQLite template
(its own temporary directory) and its own PostgreSQL database next to the configured one
(`test` -> `test_gw0`, `test_gw1`, ...), created on first use; databases the tests make
for themselves are named after it (`test_gw0_restore`), so workers never share one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from kernel.clock import CLOCK_STATE_KEY, Clock
from kernel.db import Database
from kernel.migrations import upgrade
from kernel.settings import Settings
from steristock.app import create_app
from tests.factories import UserFactory
from tests.statement_log import StatementLog


def worker_database_url(url: str, worker: str | None) -> str:
    """This xdist worker's own database beside `url` (`.../test` -> `.../test_gw0`)."""
    if not url or not worker:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


def ensure_postgres_database(url: str) -> None:
    """Create the database of `url` if it does not exist (from the `postgres` database)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


# One seal key for the whole run (kernel/audit/keys.py): the template database is sealed
# with it, and every test's app, CLI run and server process verifies with it.
os.environ.setdefault("STERISTOCK_AUDIT_KEY", "test-audit-key")

POSTGRES_URL = worker_database_url(
    os.environ.get("STERISTOCK_TEST_POSTGRES_URL", ""), os.environ.get("PYTEST_XDIST_WORKER")
)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: runs against PostgreSQL")
    config.addinivalue_line("markers", "own_app: the test changes the app, so it gets its own")
    # Real argon2id, but at the cheapest cost: hundreds of tests create and log in users.
    # `test_passwords_are_hashed_with_argon2id_at_production_cost` checks the real setting.
    from argon2 import PasswordHasher

    import kernel.auth.service as auth_service

    auth_service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    # The hash an unknown username is checked against (so it costs what a real one does).
    auth_service._DUMMY_HASH = auth_service._hasher.hash("not-a-real-password")
    if POSTGRES_URL and os.environ.get("PYTEST_XDIST_WORKER"):
        # Tests that make their own databases connect through this one; if PostgreSQL is
        # down, `postgres_migrated` fails each PostgreSQL test saying so.
        with contextlib.suppress(Exception):
            ensure_postgres_database(POSTGRES_URL)


def heavy(item: pytest.Item) -> bool:
    """Marked slow, or built on a module-scoped fixture (a live server, a browser)."""
    if item.get_closest_marker("slow"):
        return True
    definitions = item._fixtureinfo.name2fixturedefs.values()  # type: ignore[attr-defined]
    return any(d[-1].scope in ("module", "class") for d in definitions)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Files with heavy tests first, in their own order: xdist hands out files in collection
    # order, so the long ones start early instead of leaving one worker busy at the end.
    heavy_files = {item.path for item in items if heavy(item)}
    items.sort(key=lambda item: item.path not in heavy_files)
    if POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="set STERISTOCK_TEST_POSTGRES_URL to run on PostgreSQL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


TEST_TIMEZONE = "America/Chicago"  # the test clinic's zone (`make_settings`), MAIN's too


@contextlib.contextmanager
def clinic_timezone() -> Iterator[None]:
    """Migrate as a clinic in the tests' zone would: site MAIN takes STERISTOCK_TIMEZONE."""
    before = os.environ.get("STERISTOCK_TIMEZONE")
    os.environ["STERISTOCK_TIMEZONE"] = TEST_TIMEZONE
    try:
        yield
    finally:
        if before is None:
            del os.environ["STERISTOCK_TIMEZONE"]
        else:
            os.environ["STERISTOCK_TIMEZONE"] = before


def reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    with clinic_timezone():
        upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured")
    try:
        ensure_postgres_database(POSTGRES_URL)
        reset_postgres_schema(POSTGRES_URL)
    except Exception as exc:  # CI must fail loudly, never skip, when PostgreSQL is down
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
    with clinic_timezone():
        upgrade(POSTGRES_URL)
    return POSTGRES_URL


# Rows the migrations seed (as they make the audit head): kept through the truncate, with
# their ids restarting at 1 as in a fresh database.
SEEDED_ROWS = {"sites": "code = 'MAIN'", "bi_products": "code = 'DEFAULT'"}
# The seeded rows as the migrations made them, read at a database's first truncation
# (before any test ran): a test that renames MAIN or moves it to another zone must not
# hand that on to the next tests.
_SEEDED_AS_MIGRATED: dict[str, dict[str, list[dict[str, Any]]]] = {}


def truncate_postgres(db: Database) -> None:
    tables = [t for t in inspect(db.engine).get_table_names() if t != "alembic_version"]
    with db.engine.begin() as conn:
        url = str(db.engine.url)
        if url not in _SEEDED_AS_MIGRATED:
            _SEEDED_AS_MIGRATED[url] = {
                table: [
                    {k: v for k, v in row._mapping.items() if k != "id"}
                    for row in conn.execute(text(f"SELECT * FROM {table} WHERE {where}"))
                ]
                for table, where in SEEDED_ROWS.items()
            }
        seeded = _SEEDED_AS_MIGRATED[url]
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64}
        )
        conn.execute(text("INSERT INTO auth_generation (id, generation) VALUES (1, 0)"))
        for table, rows in seeded.items():
            for row in rows:
                columns = ", ".join(row)
                values = ", ".join(f":{k}" for k in row)
                conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
        conn.execute(
            text("INSERT INTO record_seal_head (id, seq, mac, audit_seq) VALUES (1, 0, :h, 0)"),
            {"h": "0" * 64},
        )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "steristock.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    return request.getfixturevalue("postgres_migrated")


@pytest.fixture
def database(database_url: str, backend: str) -> Iterator[Database]:
    # Tests do not survive power cuts, so they skip the per-commit fsync (FULL costs ~7 ms
    # a commit on the CI VM); the server subprocess tests (crash safety, backups) run the
    # production default, FULL.
    db = Database(database_url, pool_size=10, sqlite_synchronous="normal")
    if backend == "postgres":
        truncate_postgres(db)
    yield db
    db.dispose()


def make_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        STERISTOCK_DATA_DIR=data_dir,
        STERISTOCK_SECRET_KEY="test-secret-key",
        STERISTOCK_PUBLIC_URL="https://clinic.example",
        STERISTOCK_TIMEZONE=TEST_TIMEZONE,
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(database_url, tmp_path / "data")


class SharedApp:
    """One built app per test process, lent to each test with that test's settings,
    database and clock on its state (restored afterwards). Building the app (Litestar
    parses every handler's signature) took longer than most tests; what the app reads at
    request time (`state.settings`, `state.db`, `state.clock`) is all that differs
    between tests. A test that changes the app itself (registers a route, say) is marked
    `own_app` and gets an app of its own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._app: Litestar | None = None

    def get(self) -> Litestar:
        if self._app is None:
            url = f"sqlite:///{self.directory / 'unused.db'}"
            self._app = create_app(make_settings(url, self.directory), Database(url))
            self._routes = self.routes(self._app)
            self._state = self._app.state.dict()
        return self._app

    @staticmethod
    def routes(app: Litestar) -> list[tuple[str, frozenset[str]]]:
        return [(route.path, frozenset(route.methods)) for route in app.routes]

    def lend(self, settings: Settings, database: Database) -> Litestar:
        app = self.get()
        app.state.update(
            {"settings": settings, "db": database, CLOCK_STATE_KEY: Clock.from_settings(settings)}
        )
        return app

    def give_back(self) -> str | None:
        """Restore the state; if the test changed the app's routes, drop the app (the next
        test builds another) and say so."""
        assert self._app is not None
        for key in list(self._app.state):
            del self._app.state[key]
        self._app.state.update(self._state)
        if self.routes(self._app) != self._routes:
            self._app = None
            return "this test changed the shared app's routes: mark it @pytest.mark.own_app"
        return None


@pytest.fixture(scope="session")
def shared_app(tmp_path_factory: pytest.TempPathFactory) -> SharedApp:
    return SharedApp(tmp_path_factory.mktemp("shared-app"))


@pytest.fixture
def app(
    request: pytest.FixtureRequest, settings: Settings, database: Database, shared_app: SharedApp
) -> Iterator[Litestar]:
    if request.node.get_closest_marker("own_app"):
        yield create_app(settings, database)
        return
    yield shared_app.lend(settings, database)
    problem = shared_app.give_back()
    if problem:
        pytest.fail(problem)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def users(database: Database, client: TestClient[Litestar]) -> UserFactory:
    return UserFactory(database, client)


@pytest.fixture
def statements(database: Database) -> Iterator[StatementLog]:
    """The SQL statements sent to the database (every connection of its engine): how a test
    pins down work that must not grow with the data, instead of timing it."""
    log = StatementLog()
    event.listen(database.engine, "before_cursor_execute", log.record)
    yield log
    event.remove(database.engine, "before_cursor_execute", log.record)
