"""Factories for test data: users with roles and their bearer-token headers."""

from __future__ import annotations

import itertools
import re
from typing import Any

from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.auth.service import create_user
from kernel.db import Database

_counter = itertools.count(1)


class UserFactory:
    """Creates users straight through the service and logs them in over HTTP."""

    password = "correct horse battery"

    def __init__(self, database: Database, client: TestClient[Any]) -> None:
        self.database = database
        self.client = client
        self._headers: dict[str, dict[str, str]] = {}
        self.usernames: dict[str, str] = {}  # the cached user of each role, by role

    def create(self, role: Role | str, username: str | None = None, **kwargs: Any) -> str:
        username = username or f"{Role(role).value}{next(_counter)}"
        with self.database.session() as session:
            create_user(
                session,
                actor="test",
                username=username,
                role=Role(role),
                password=kwargs.pop("password", self.password),
                **kwargs,
            )
        return username

    def token(self, username: str, password: str | None = None) -> str:
        response = self.client.post(
            "/api/v1/auth/token",
            json={"username": username, "password": password or self.password},
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def headers(self, role: Role | str) -> dict[str, str]:
        """Bearer headers for a (cached, per test) user of this role."""
        key = Role(role).value
        if key not in self._headers:
            username = self.create(role)
            self.usernames[key] = username
            self._headers[key] = {"Authorization": f"Bearer {self.token(username)}"}
        return self._headers[key]


CSRF_FIELD_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token a rendered page put in its forms."""
    match = CSRF_FIELD_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def page_login(
    client: TestClient[Any], username: str, password: str = UserFactory.password, next: str = "/"
) -> Any:
    """Log a browser-like client in through the login form (keeps the session cookie)."""
    form = client.get("/login", params={"next": next})
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": next,
            "_csrf_token": csrf_token_from(form.text),
        },
        follow_redirects=False,
    )


def form_post(client: TestClient[Any], path: str, form_id: str, **fields: str) -> Any:
    """Submit the form `form_id` of the page at `path` as a browser would (its CSRF token,
    its hidden fields and nonce), with `fields` filled in."""
    html = client.get(path).text
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S)
    assert form, f"no form {form_id}"
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
    hidden["_csrf_token"] = csrf_token_from(html)
    action = re.search(r'action="([^"]+)"', form.group(0))
    assert action
    return client.post(action.group(1), data={**hidden, **fields}, follow_redirects=False)


def assert_csp_clean(response: Any) -> None:
    """No inline script, style or handler (the CSP would block them), never cached."""
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)
    assert not re.search(r"\sstyle=|<style", response.text)
    assert not re.search(r"\son[a-z]+=", response.text)


def grant_competency(database: Database, username: str, skill: str) -> None:
    """Sign `username` off for `skill` (since 2000, no expiry): the trained staff most
    tests mean, so only the tests about training see the untrained warnings."""
    import datetime as dt

    from kernel.auth.competencies import grant_competency as grant

    with database.session() as session:
        grant(
            session,
            username,
            skill=skill,
            granted_on=dt.date(2000, 1, 1),
            actor="test",
            now=dt.datetime.now(dt.UTC),
        )
