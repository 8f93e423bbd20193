"""Bearer tokens and page sessions end together: on deactivation and on a password
change every credential of the user dies at once; a logout ends only the credential it
was sent with. The login throttle lives in the database, so it holds across processes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from kernel.auth.models import LoginFailure, Role
from kernel.auth.service import check_login_throttle, record_login_failure
from kernel.db import Database
from kernel.problems import TooManyRequests
from kernel.settings import Settings
from steristock.app import create_app
from tests.factories import UserFactory, csrf_token_from, page_login


class Credentials:
    """One user holding two bearer tokens and a page session in its own browser."""

    def __init__(self, app: Litestar, users: UserFactory, client: TestClient[Litestar]) -> None:
        self.username = users.create(Role.MA)
        self.api = client
        self.tokens = [users.token(self.username), users.token(self.username)]
        self.browser = TestClient(app)
        self.browser.__enter__()
        assert page_login(self.browser, self.username).status_code == 303

    def bearer_alive(self) -> list[bool]:
        return [
            self.api.get(
                "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 200
            for token in self.tokens
        ]

    def session_alive(self) -> bool:
        return self.browser.get("/", follow_redirects=False).status_code == 200

    def close(self) -> None:
        self.browser.__exit__(None, None, None)


def deactivate(client: TestClient[Litestar], users: UserFactory, who: Credentials) -> None:
    response = client.patch(
        f"/api/v1/users/{who.username}", json={"active": False}, headers=users.headers(Role.ADMIN)
    )
    assert response.status_code == 200


def change_password(client: TestClient[Litestar], users: UserFactory, who: Credentials) -> None:
    response = client.patch(
        f"/api/v1/users/{who.username}",
        json={"password": "a whole new password"},
        headers=users.headers(Role.ADMIN),
    )
    assert response.status_code == 200


@pytest.mark.parametrize("action", [deactivate, change_password], ids=lambda f: f.__name__)
def test_deactivation_and_password_change_end_every_token_and_session(
    app: Litestar,
    client: TestClient[Litestar],
    users: UserFactory,
    action: Callable[..., None],
) -> None:
    who = Credentials(app, users, client)
    try:
        assert who.bearer_alive() == [True, True] and who.session_alive()
        action(client, users, who)
        assert who.bearer_alive() == [False, False]
        assert not who.session_alive()
    finally:
        who.close()


def test_api_logout_ends_only_that_token(
    app: Litestar, client: TestClient[Litestar], users: UserFactory
) -> None:
    who = Credentials(app, users, client)
    try:
        response = client.post(
            "/api/v1/auth/logout", headers={"Authorization": f"Bearer {who.tokens[0]}"}
        )
        assert response.status_code == 204
        assert who.bearer_alive() == [False, True]
        assert who.session_alive()
    finally:
        who.close()


def test_page_logout_ends_only_that_session(
    app: Litestar, client: TestClient[Litestar], users: UserFactory
) -> None:
    who = Credentials(app, users, client)
    try:
        form = who.browser.get("/scan")
        response = who.browser.post(
            "/logout", data={"_csrf_token": csrf_token_from(form.text)}, follow_redirects=False
        )
        assert response.status_code == 303
        stolen = response.request.headers["cookie"]  # what the browser sent: now useless
        assert not who.session_alive()
        with TestClient(app) as other:
            replay = other.get("/", headers={"Cookie": stolen}, follow_redirects=False)
            assert replay.status_code == 303
        assert who.bearer_alive() == [True, True]
    finally:
        who.close()


def test_login_throttle_is_shared_by_every_process_on_the_database(
    settings: Settings, database: Database, users: UserFactory
) -> None:
    """Two app instances (as two workers would be) on one database: failures through
    one count on the other, per username and per client, and on the API and the pages."""
    username = users.create(Role.MA)
    first = create_app(settings, database)
    second = create_app(settings, database)
    limit = settings.login_max_failures

    def api_attempt(app: Litestar, password: str) -> int:
        with TestClient(app) as client:
            return client.post(
                "/api/v1/auth/token", json={"username": username, "password": password}
            ).status_code

    def page_attempt(app: Litestar, password: str) -> Any:
        with TestClient(app) as client:
            return page_login(client, username, password=password)

    for n in range(limit):
        if n % 2:
            assert api_attempt(first, "wrong password") == 401
        else:
            assert page_attempt(second, "wrong password").status_code == 401
    assert api_attempt(first, users.password) == 429  # even the right password now
    assert page_attempt(second, users.password).status_code == 429
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == limit


def test_login_throttle_counts_per_client_across_usernames(database: Database) -> None:
    window = dt.timedelta(minutes=15)
    with database.session() as session:
        for n in range(4):
            record_login_failure(session, username=f"guess{n}", client="198.51.100.7")
    with database.session() as session:
        check_login_throttle(
            session, username="fresh", client="198.51.100.8", max_failures=5,
            client_max_failures=4, window=window,
        )  # fmt: skip
        with pytest.raises(TooManyRequests):
            check_login_throttle(
                session, username="fresh", client="198.51.100.7", max_failures=5,
                client_max_failures=4, window=window,
            )  # fmt: skip
