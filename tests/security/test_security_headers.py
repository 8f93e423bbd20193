"""Security headers on every kind of response, HTTPS-only HSTS and Secure cookies, and
the trusted-proxy setting (X-Forwarded-Proto / X-Forwarded-For believed only from it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.auth.sessions import SESSION_COOKIE
from kernel.db import Database
from kernel.settings import Settings
from steristock.app import create_app
from tests.factories import UserFactory, csrf_token_from, page_login

CSP_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


def assert_security_headers(response: Any, label: str) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    for directive in CSP_DIRECTIVES:
        assert directive in csp, f"{label}: CSP lacks {directive!r}: {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, label
    assert headers.get("x-frame-options") == "DENY", label
    assert headers.get("x-content-type-options") == "nosniff", label
    assert headers.get("referrer-policy") == "no-referrer", label
    assert "microphone=()" in headers.get("permissions-policy", ""), label
    assert headers.get("x-request-id"), label


@get("/api/v1/test-boom", sync_to_thread=False, include_in_schema=False)
def boom() -> None:
    raise RuntimeError("an unexpected failure")


@pytest.fixture
def boom_client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    """The app with one extra API route that fails, for the 500 response."""
    app.register(boom)
    with TestClient(app) as client:
        yield client


@pytest.mark.own_app  # boom_client registers a route
def test_every_kind_of_response_carries_the_security_headers(
    boom_client: TestClient[Litestar], users: UserFactory
) -> None:
    client = boom_client
    admin = users.headers(Role.ADMIN)
    responses = {
        "health": client.get("/health"),
        "schema page": client.get("/schema"),
        "schema json": client.get("/schema/openapi.json"),
        "static css": client.get("/static/css/steristock.css"),
        "static js": client.get("/static/js/app.js"),
        "swagger static": client.get("/static/swagger/swagger-ui-bundle.js"),
        "static 404": client.get("/static/nope.js"),
        "api 401": client.get("/api/v1/users"),
        "api 200": client.get("/api/v1/users", headers=admin),
        "api 403": client.get("/api/v1/users", headers=users.headers(Role.MA)),
        "api 404": client.get("/api/v1/nope", headers=admin),
        "api 405": client.delete("/api/v1/users", headers=admin),
        "api 422": client.post("/api/v1/users", json={"username": 3}, headers=admin),
        "api 500": client.get("/api/v1/test-boom", headers=admin),
        "token 401": client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}),
        "login page": client.get("/login"),
        "login redirect": client.get("/", follow_redirects=False),
        "page 404": client.get("/no-such-page"),
        "csrf 403": client.post("/login", data={"username": "x"}),
    }
    assert responses["api 500"].status_code == 500
    assert responses["csrf 403"].status_code == 403
    assert responses["static 404"].status_code == 404
    for label, response in responses.items():
        assert_security_headers(response, label)
        assert "strict-transport-security" not in response.headers, label


def test_the_schema_page_needs_no_inline_script_or_style(client: TestClient[Litestar]) -> None:
    page = client.get("/schema")
    assert page.status_code == 200
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert "<style" not in page.text and " style=" not in page.text
    scripts = [line for line in page.text.splitlines() if "<script" in line]
    assert scripts and all(" src=" in line for line in scripts)
    assert "/static/js/swagger-init.js" in page.text
    assert "https://" not in page.text  # nothing from another origin (no CDN favicon)
    assert client.get("/static/js/swagger-init.js").status_code == 200
    assert client.get("/schema/oauth2-redirect.html").status_code == 404


@pytest.fixture
def proxied_settings(settings: Settings) -> Settings:
    """Behind a proxy at 10.0.0.2 (TestClient's peer is "testclient", so that is trusted
    in the proxied app; the plain app trusts no one)."""
    return settings.model_copy(
        update={"trusted_proxies": "10.0.0.2, testclient", "public_url": "https://clinic.example"}
    )


@pytest.fixture
def proxied_app(proxied_settings: Settings, database: Database) -> Litestar:
    return create_app(proxied_settings, database)


def set_cookie(response: Any, name: str) -> str:
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}="))


def test_hsts_and_secure_cookies_only_over_https(app: Litestar, users: UserFactory) -> None:
    username = users.create(Role.MA)
    with TestClient(app, base_url="http://10.1.1.5:8000") as plain:
        login = page_login(plain, username)
        assert "secure" not in set_cookie(login, SESSION_COOKIE).lower()
        assert "strict-transport-security" not in plain.get("/login").headers
    with TestClient(app, base_url="https://clinic.example") as tls:
        login = page_login(tls, username)
        assert "secure" in set_cookie(login, SESSION_COOKIE).lower()
        for response in (tls.get("/login"), tls.get("/health"), tls.get("/nope")):
            assert response.headers["strict-transport-security"].startswith("max-age=")


def test_forwarded_proto_from_a_trusted_proxy_means_https(
    proxied_app: Litestar, users: UserFactory
) -> None:
    username = users.create(Role.MA)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.168.7.20"}
    with TestClient(proxied_app, base_url="http://app.local:8000") as client:
        client.headers.update(forwarded)
        form = client.get("/login")
        csrf_cookie = set_cookie(form, "steristock_csrf")
        assert "secure" in csrf_cookie.lower()
        # The test client talks plain HTTP to the app, so it won't send a Secure cookie
        # back by itself; the browser (on HTTPS to the proxy) would.
        login = client.post(
            "/login",
            data={"username": username, "password": users.password,
                  "_csrf_token": csrf_token_from(form.text)},
            headers={"Cookie": csrf_cookie.split(";")[0]},
            follow_redirects=False,
        )  # fmt: skip
        cookie = set_cookie(login, SESSION_COOKIE).lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        for response in (client.get("/login"), client.get("/static/nope.css")):
            assert response.headers["strict-transport-security"].startswith("max-age=")


def test_forwarded_headers_from_anyone_else_are_ignored(app: Litestar, users: UserFactory) -> None:
    username = users.create(Role.MA)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.168.7.20"}
    with TestClient(app, base_url="http://app.local:8000") as client:
        client.headers.update(forwarded)
        login = page_login(client, username)
        assert "secure" not in set_cookie(login, SESSION_COOKIE).lower()
        assert "strict-transport-security" not in client.get("/login").headers


def test_the_client_address_behind_a_trusted_proxy_feeds_the_login_throttle(
    proxied_app: Litestar, proxied_settings: Settings, users: UserFactory
) -> None:
    """Behind the proxy every request comes from the proxy's address; the per-client
    throttle must count the real client, or one attacker would lock out the clinic."""
    limit = proxied_settings.login_client_max_failures
    with TestClient(proxied_app) as client:

        def attempt(ip: str, username: str) -> int:
            return client.post(
                "/api/v1/auth/token",
                json={"username": username, "password": "wrong password"},
                headers={"X-Forwarded-For": f"{ip}, 10.0.0.2", "X-Forwarded-Proto": "https"},
            ).status_code

        for n in range(limit):
            assert attempt("203.0.113.9", f"nobody{n}") == 401
        assert attempt("203.0.113.9", "someone-else") == 429
        # Another client behind the same proxy is not locked out.
        assert attempt("192.168.7.21", "someone-else") == 401
