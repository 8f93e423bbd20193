"""No password, token, session cookie or secret key ever reaches the logs.

Everything is captured: every logger at DEBUG in-process (SQLAlchemy's statement and
parameter logging included), and the stdout/stderr of a real `steristock serve` (and of
`steristock users create`) driven through the same story: logins right and wrong, a new
user, a password change, bearer tokens, page sessions, validation errors and a failure
while a password is in the request.
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

import kernel.auth.service as auth_service
from kernel.auth.sessions import SESSION_COOKIE
from kernel.db import Database
from kernel.settings import Settings
from steristock.app import create_app
from tests.factories import csrf_token_from
from tests.live_server import live_server, steristock_command


class Secrets:
    """Distinct, greppable secret values for one test."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def new(self, label: str) -> str:
        value = f"{label}-{secrets.token_hex(8)}"
        self.values[label] = value
        return value

    def add(self, label: str, value: str) -> str:
        assert len(value) >= 16, f"{label} is too short to grep for"
        self.values[label] = value
        return value

    def found_in(self, text: str) -> list[str]:
        return [label for label, value in self.values.items() if value in text]


def drive(client: Any, found: Secrets, admin: str, admin_password: str) -> None:
    """The story, over any HTTP client (TestClient or httpx against the live server)."""
    wrong = found.new("wrong-password")
    assert client.post(
        "/api/v1/auth/token", json={"username": admin, "password": wrong}
    ).status_code == 401  # fmt: skip
    assert client.post(
        "/api/v1/auth/token", json={"username": "nobody", "password": wrong}
    ).status_code == 401  # fmt: skip
    response = client.post(
        "/api/v1/auth/token", json={"username": admin, "password": admin_password}
    )
    assert response.status_code == 200, response.text
    bearer = {
        "Authorization": f"Bearer {found.add('admin-token', response.json()['access_token'])}"
    }
    assert client.get("/api/v1/users/me", headers=bearer).status_code == 200

    nurse_password = found.new("nurse-password")
    assert client.post(
        "/api/v1/users", headers=bearer,
        json={"username": "nurse", "role": "ma", "password": nurse_password},
    ).status_code == 201  # fmt: skip
    # Validation errors with a password in the body: nothing echoes it back or logs it.
    for body in (
        {"username": "bad name!", "role": "ma", "password": found.new("invalid-user-password")},
        {"username": "nurse2", "role": "nurse", "password": found.new("bad-role-password")},
        {"username": "nurse3", "role": "ma", "password": found.new("x" * 300)},
        {"username": "nurse4", "role": "ma", "password": found.new("extra"), "pin": "x"},
    ):
        response = client.post("/api/v1/users", headers=bearer, json=body)
        assert response.status_code in (400, 422), response.text
        assert found.found_in(response.text) == [], response.text
    response = client.post(
        "/api/v1/auth/token",
        json={"username": "nurse", "password": found.new("y" * 300)},
    )
    assert response.status_code in (400, 422) and found.found_in(response.text) == []
    too_short = found.new("short")[:7]
    response = client.patch("/api/v1/users/nurse", headers=bearer, json={"password": too_short})
    assert response.status_code == 422 and too_short not in response.text

    changed = found.new("changed-password")
    assert client.patch(
        "/api/v1/users/nurse", headers=bearer, json={"password": changed}
    ).status_code == 200  # fmt: skip
    response = client.post("/api/v1/auth/token", json={"username": "nurse", "password": changed})
    nurse_token = found.add("nurse-token", response.json()["access_token"])
    assert client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {nurse_token}"}
    ).status_code == 200  # fmt: skip
    assert client.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {nurse_token}"}
    ).status_code == 204  # fmt: skip
    assert client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {nurse_token}"}
    ).status_code == 401  # fmt: skip

    # The pages: a wrong and a right password through the login form, then the session.
    form = client.get("/login")
    token = found.add("csrf-token", csrf_token_from(form.text))
    login = {"username": "nurse", "_csrf_token": token, "next": "/"}
    wrong_form = found.new("wrong-form-password")
    assert client.post("/login", data={**login, "password": wrong_form}).status_code == 401
    response = client.post("/login", data={**login, "password": changed}, follow_redirects=False)
    assert response.status_code == 303
    found.add("session-cookie", client.cookies.get(SESSION_COOKIE))
    assert client.get("/", follow_redirects=True).status_code == 200
    scan = client.get("/scan", params={"code": "PK-999999"}, follow_redirects=True)
    assert scan.status_code in (200, 404)


def assert_no_secrets(text: str, found: Secrets, secret_key: str, what: str) -> None:
    assert secret_key not in text, f"the secret key is in the {what}"
    assert found.found_in(text) == [], f"in the {what}"


@pytest.fixture
def log_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": f"key-{secrets.token_hex(16)}"})


@pytest.fixture
def log_client(log_settings: Settings, database: Database) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(log_settings, database)) as client:
        yield client


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def all_logs() -> Iterator[Collect]:
    """Every record of every logger, at DEBUG, formatted with tracebacks."""
    handler = Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("steristock", "sqlalchemy", "sqlalchemy.engine", "litestar", "httpx"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)
    for name in ("steristock", "sqlalchemy", "sqlalchemy.engine", "litestar", "httpx"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_no_secret_reaches_the_logs_in_process(
    log_client: TestClient[Litestar],
    log_settings: Settings,
    database: Database,
    all_logs: Collect,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = Secrets()
    admin_password = found.new("admin-password")
    with database.session() as session:
        auth_service.create_user(
            session, actor="test", username="boss", role=auth_service.Role.ADMIN,
            password=admin_password,
        )  # fmt: skip
    root = logging.getLogger()
    if all_logs not in root.handlers:  # the app's logging setup must not drop our handler
        root.addHandler(all_logs)
    drive(log_client, found, "boss", admin_password)

    # A failure while a password is in the request (the password hasher breaks): the
    # traceback is logged, the password is not.
    def broken(*_: Any) -> bool:
        raise RuntimeError("password hasher unavailable")

    monkeypatch.setattr(auth_service, "verify_password", broken)
    failing = found.new("password-during-500")
    response = log_client.post("/api/v1/auth/token", json={"username": "boss", "password": failing})
    assert response.status_code == 500
    assert found.found_in(response.text) == []

    text = "\n".join(all_logs.lines)
    assert "password hasher unavailable" in text  # the capture really sees the app's logs
    assert "SELECT" in text  # ...and SQLAlchemy's statements with their parameters
    assert_no_secrets(text, found, log_settings.secret_key, "in-process logs")


@pytest.mark.slow  # a real server subprocess
def test_no_secret_reaches_the_server_output(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    found = Secrets()
    secret_key = found.new("server-secret-key")
    admin_password = found.new("admin-password")
    env = {"STERISTOCK_SECRET_KEY": secret_key}
    created = subprocess.run(
        [*steristock_command(), "users", "create", "boss", "--role", "admin"],
        input=admin_password + "\n", capture_output=True, text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": database_url,
             "STERISTOCK_DATA_DIR": str(tmp_path / "data"), **env},
        cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    cli_output = created.stdout + created.stderr
    with (
        live_server(database_url, tmp_path, workers=2, env=env) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        drive(client, found, "boss", admin_password)
        # A request the server refuses before any handler (malformed JSON).
        bad = client.post(
            "/api/v1/auth/token",
            content=b'{"username": "boss", "password": "' + admin_password.encode(),
            headers={"Content-Type": "application/json"},
        )
        assert bad.status_code in (400, 422) and admin_password not in bad.text
    server_output = server.output()
    assert "SteriStock serving" in server_output
    assert_no_secrets(cli_output, found, secret_key, "CLI output")
    assert_no_secrets(server_output, found, secret_key, "server output")
