"""Several workers share nothing but the database: `steristock serve --workers 2` as a
subprocess, on SQLite and PostgreSQL.

Each HTTP connection is pinned to the worker that accepted it (keep-alive), and which
worker that is is read from the kernel: the server side of our socket is found in
``/proc/net/tcp`` and its owner among the workers' file descriptors. So "answered by the
other worker" is a fact checked, not a hope from concurrency. Sessions, CSRF tokens,
flash messages, the login throttle and idempotency keys are all shown to cross workers.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from inventory.models import StockMovement
from kernel.auth.models import Role
from kernel.auth.service import create_user, update_user
from kernel.db import Database
from kernel.idempotency import REPLAY_HEADER
from tests.conftest import truncate_postgres
from tests.factories import CSRF_FIELD_RE
from tests.inventory_factories import InventoryFactory
from tests.live_server import LiveServer, live_server

if not Path("/proc/net/tcp").exists():
    pytest.skip("needs Linux /proc to see which worker owns a socket", allow_module_level=True)

PASSWORD = "correct horse battery"
MAX_FAILURES = 3
_names = itertools.count(1)


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


@dataclass
class Connection:
    """One keep-alive connection, so one worker; with a little cookie jar."""

    server: LiveServer
    conn: http.client.HTTPConnection
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, *, json_body: Any = None, form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:  # fmt: skip
        sent = dict(headers or {})
        body: bytes | None = None
        if json_body is not None:
            body, sent["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        reply = Reply(response.status, response.headers, response.read())
        for header in response.headers.get_all("set-cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def worker(self) -> int:
        """The pid of the worker process holding the server side of this connection."""
        client_port = self.conn.sock.getsockname()[1]
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            parts = line.split()
            local_port = int(parts[1].split(":")[1], 16)
            remote_port = int(parts[2].split(":")[1], 16)
            if local_port == self.server.port and remote_port == client_port:
                inode = parts[9]
        assert inode, "server side of the connection not found"
        target = f"socket:[{inode}]"
        for pid in self.server.worker_pids():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        raise AssertionError("no worker holds the connection")

    def close(self) -> None:
        self.conn.close()


def connect(server: LiveServer) -> Connection:
    connection = Connection(server, http.client.HTTPConnection("127.0.0.1", server.port, 30))
    assert connection.request("GET", "/health").status == 200  # accepted by a worker now
    return connection


def connections_per_worker(server: LiveServer, each: int) -> dict[int, list[Connection]]:
    """At least `each` open connections on every one of the two workers."""
    found: dict[int, list[Connection]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        connection = connect(server)
        pid = connection.worker()
        if len(found.setdefault(pid, [])) < each:
            found[pid].append(connection)
        else:
            connection.close()
        if len(found) == 2 and all(len(c) >= each for c in found.values()):
            break
    assert len(found) == 2 and all(len(c) >= each for c in found.values()), (
        f"could not reach both workers: {[(pid, len(c)) for pid, c in found.items()]}"
    )
    return found


@pytest.fixture
def two(server: Server) -> Iterator[tuple[Connection, Connection]]:
    """One connection on each worker."""
    by_worker = connections_per_worker(server.live, 1)
    first, second = (conns[0] for conns in by_worker.values())
    assert first.worker() != second.worker()
    yield first, second
    first.close()
    second.close()


@dataclass
class Server:
    live: LiveServer
    database: Database

    def user(self, role: Role) -> str:
        username = f"{role.value}-scale-{next(_names)}"
        with self.database.session() as session:
            create_user(session, actor="test", username=username, role=role, password=PASSWORD)
        return username

    def bearer(self, connection: Connection, username: str) -> dict[str, str]:
        reply = connection.request(
            "POST", "/api/v1/auth/token", json_body={"username": username, "password": PASSWORD}
        )
        assert reply.status == 200, reply.text
        return {"Authorization": f"Bearer {reply.json()['access_token']}"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("scale")
    if request.param == "sqlite":
        target = workdir / "steristock.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_migrated")
    database = Database(url, pool_size=4)
    if request.param == "postgres":
        truncate_postgres(database)
    env = {
        "STERISTOCK_SECRET_KEY": "scale-out-shared-secret",
        "STERISTOCK_LOGIN_MAX_FAILURES": str(MAX_FAILURES),
        "STERISTOCK_LOGIN_CLIENT_MAX_FAILURES": "1000",
    }
    try:
        with live_server(url, workdir, workers=2, env=env) as live:
            assert len(live.worker_pids()) >= 2
            yield Server(live, database)
    finally:
        database.dispose()


def test_requests_are_served_by_both_workers_without_errors(server: Server) -> None:
    admin = server.user(Role.ADMIN)
    with_token = connect(server.live)
    headers = server.bearer(with_token, admin)
    with_token.close()

    def one_request(_: int) -> tuple[int, int]:
        connection = connect(server.live)
        try:
            reply = connection.request("GET", "/api/v1/users/me", headers=headers)
            return reply.status, connection.worker()
        finally:
            connection.close()

    # At least 40 requests, and on until both workers have answered: right after start-up
    # (or on a busy machine) the kernel may hand a run of connections to one worker.
    results: list[tuple[int, int]] = []
    deadline = time.monotonic() + 60
    with ThreadPoolExecutor(8) as pool:
        while len(results) < 40 or (
            len({pid for _, pid in results}) < 2 and time.monotonic() < deadline
        ):
            results.extend(pool.map(one_request, range(8)))
    assert {status for status, _ in results} == {200}
    assert len({pid for _, pid in results}) == 2, (
        f"all {len(results)} requests in 60 s went to one worker"
    )


def test_login_throttle_holds_whichever_worker_answers(
    server: Server, two: tuple[Connection, Connection]
) -> None:
    username = server.user(Role.MA)
    wrong = {"username": username, "password": "not the password"}
    right = {"username": username, "password": PASSWORD}
    for n in range(MAX_FAILURES):
        connection = two[n % 2]
        assert connection.request("POST", "/api/v1/auth/token", json_body=wrong).status == 401
    for connection in two:  # both workers now refuse, even the right password
        reply = connection.request("POST", "/api/v1/auth/token", json_body=right)
        assert reply.status == 429 and reply.headers["Retry-After"]


def test_an_idempotent_retry_answered_by_the_other_worker_replays_the_first_response(
    server: Server, two: tuple[Connection, Connection]
) -> None:
    first, second = two
    inventory = InventoryFactory(server.database)
    location = inventory.location(f"SCALE{next(_names)}")
    sku = inventory.item()
    headers = server.bearer(first, server.user(Role.MA)) | {"Idempotency-Key": "tablet-7-0001"}
    body = {"kind": "receive", "sku": sku, "location": location, "quantity": 5}
    original = first.request("POST", "/api/v1/stock/movements", json_body=body, headers=headers)
    assert original.status == 201, original.text
    replay = second.request("POST", "/api/v1/stock/movements", json_body=body, headers=headers)
    assert replay.status == 201
    assert replay.headers[REPLAY_HEADER] == "true"
    assert replay.json() == original.json()
    with server.database.session(write=False) as session:
        movements = session.scalar(
            select(func.count()).select_from(StockMovement).where(
                StockMovement.id == original.json()["id"]
            )
        )  # fmt: skip
    assert movements == 1
    assert inventory.invariant_violations() == []


def test_a_page_session_csrf_token_and_flash_work_on_either_worker(
    server: Server, two: tuple[Connection, Connection]
) -> None:
    first, second = two
    username = server.user(Role.MA)
    form = first.request("GET", "/login")
    token = CSRF_FIELD_RE.search(form.text).group(1)  # type: ignore[union-attr]
    second.cookies = dict(first.cookies)  # one browser, two connections
    login = second.request(
        "POST", "/login",
        form={"username": username, "password": PASSWORD, "next": "/", "_csrf_token": token},
    )  # fmt: skip
    assert login.status == 303, login.text
    first.cookies = dict(second.cookies)
    assert first.request("GET", "/").status == 200
    page = second.request("GET", "/scan")
    assert page.status == 200
    logout_token = CSRF_FIELD_RE.search(page.text).group(1)  # type: ignore[union-attr]
    first.cookies = dict(second.cookies)
    logout = first.request("POST", "/logout", form={"_csrf_token": logout_token})
    assert logout.status == 303
    second.cookies = dict(first.cookies)
    shown = second.request("GET", "/login")
    assert "You are logged out." in shown.text  # the flash set by the other worker
    second.cookies["steristock_session"] = login_session(login)
    assert second.request("GET", "/").status == 303  # the session ended everywhere


def login_session(reply: Reply) -> str:
    for header in reply.headers.get_all("set-cookie") or []:
        cookie = SimpleCookie(header)
        if "steristock_session" in cookie:
            return cookie["steristock_session"].value
    raise AssertionError("no session cookie")


def warm(connections: tuple[Connection, ...], path: str, headers: dict[str, str]) -> None:
    """Each worker answers twice, so each has the token in its cache."""
    for connection in connections:
        for _ in range(2):
            reply = connection.request("GET", path, headers=headers)
            assert reply.status == 200, reply.text


def test_a_token_logged_out_on_one_worker_is_refused_by_the_other_on_the_next_request(
    server: Server, two: tuple[Connection, Connection]
) -> None:
    first, second = two
    headers = server.bearer(first, server.user(Role.MA))
    warm(two, "/api/v1/users/me", headers)
    assert first.request("POST", "/api/v1/auth/logout", headers=headers).status == 204
    assert second.request("GET", "/api/v1/users/me", headers=headers).status == 401
    assert first.request("GET", "/api/v1/users/me", headers=headers).status == 401


def test_a_user_deactivated_on_one_worker_is_refused_by_the_other_on_the_next_request(
    server: Server, two: tuple[Connection, Connection]
) -> None:
    first, second = two
    username = server.user(Role.MA)
    headers = server.bearer(first, username)
    admin = server.bearer(second, server.user(Role.ADMIN))
    warm(two, "/api/v1/users/me", headers)
    patched = first.request(
        "PATCH", f"/api/v1/users/{username}", json_body={"active": False}, headers=admin
    )
    assert patched.status == 200, patched.text
    assert second.request("GET", "/api/v1/users/me", headers=headers).status == 401
    assert first.request("GET", "/api/v1/users/me", headers=headers).status == 401


def test_a_role_taken_away_outside_the_server_is_refused_by_both_workers_on_the_next_request(
    server: Server, two: tuple[Connection, Connection]
) -> None:
    """Changed through the services in this (test) process, as the CLI does: no worker
    hears about it except through the database."""
    server.user(Role.ADMIN)  # another admin: the last one cannot be demoted
    username = server.user(Role.ADMIN)
    headers = server.bearer(two[0], username)
    warm(two, "/api/v1/users", headers)  # admin only
    with server.database.session() as session:
        update_user(session, actor="cli", username=username, role=Role.AUDITOR)
    for connection in two:
        assert connection.request("GET", "/api/v1/users", headers=headers).status == 403
        me = connection.request("GET", "/api/v1/users/me", headers=headers)
        assert me.json()["role"] == "auditor"


def test_concurrent_takes_of_the_last_unit_across_workers_exactly_one_succeeds(
    server: Server,
) -> None:
    inventory = InventoryFactory(server.database)
    location = inventory.location(f"SCALE{next(_names)}")
    sku = inventory.item()
    by_worker = connections_per_worker(server.live, 3)
    connections = [c for conns in by_worker.values() for c in conns[:3]]
    admin = server.user(Role.MA)
    headers = server.bearer(connections[0], admin)
    receive = {"kind": "receive", "sku": sku, "location": location, "quantity": 1}
    assert connections[0].request(
        "POST", "/api/v1/stock/movements", json_body=receive, headers=headers
    ).status == 201  # fmt: skip
    barrier = threading.Barrier(len(connections))
    consume = {"kind": "consume", "sku": sku, "location": location, "quantity": 1}

    def take(connection: Connection) -> tuple[int, int]:
        barrier.wait()
        reply = connection.request(
            "POST", "/api/v1/stock/movements", json_body=consume, headers=headers
        )
        return reply.status, connection.worker()

    try:
        with ThreadPoolExecutor(len(connections)) as pool:
            results = list(pool.map(take, connections))
    finally:
        for connection in connections:
            connection.close()
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (len(connections) - 1), results
    assert len({pid for _, pid in results}) == 2
    assert inventory.invariant_violations() == []


def _start_worker(data_dir: str) -> str:
    from kernel.settings import Settings

    return Settings(STERISTOCK_DATA_DIR=data_dir, STERISTOCK_SECRET_KEY="").ensure_secret_key()


def test_workers_starting_at_once_without_a_configured_key_share_one(tmp_path: Path) -> None:
    """Under a bare `granian --workers N steristock.asgi:app` each worker generates the
    key on first start: one wins, all sign with it (else a session or CSRF token from one
    worker would be refused by another)."""
    from concurrent.futures import ProcessPoolExecutor

    data_dir = str(tmp_path / "data")
    with ProcessPoolExecutor(6) as pool:
        keys = set(pool.map(_start_worker, [data_dir] * 12))
    assert len(keys) == 1
    stored = tmp_path / "data" / "secret_key"
    assert keys == {stored.read_text()}
    assert stored.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["secret_key"]


@pytest.mark.postgres
def test_app_containers_starting_at_once_migrate_postgres_once(
    postgres_migrated: str,
) -> None:
    """Every `steristock serve` upgrades first; started together on a fresh PostgreSQL
    database they queue on an advisory lock instead of racing to create the same tables."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from kernel.migrations import current_heads, script_heads, upgrade

    base = make_url(postgres_migrated)
    fresh = base.set(database=f"{base.database}_migrate_race")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{fresh.database}"'))
        connection.execute(text(f'CREATE DATABASE "{fresh.database}"'))
    url = fresh.render_as_string(hide_password=False)
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: upgrade(url), range(4)))
        engine = create_engine(url)
        with engine.connect() as connection:
            assert current_heads(connection) == script_heads()
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{fresh.database}"'))
        admin.dispose()
