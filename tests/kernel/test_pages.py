"""The page shell over real HTTP: login sessions, CSRF, redirects, scan routing, headers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from litestar import Litestar, Router, get
from litestar.testing import TestClient
from sqlalchemy import select, update

from kernel.audit.models import AuditEntry
from kernel.auth.guards import admin_only
from kernel.auth.models import ApiToken, Role
from kernel.auth.sessions import SESSION_COOKIE, safe_next_path
from kernel.db import Database, utcnow
from kernel.web.pages import PAGE_EXCEPTION_HANDLERS
from kernel.web.templating import TEMPLATES_DIR, template_config
from tests.factories import UserFactory, csrf_token_from, page_login


def session_rows(database: Database) -> list[ApiToken]:
    with database.session(write=False) as session:
        return list(session.scalars(select(ApiToken).where(ApiToken.kind == "session")))


def audit_actions(database: Database) -> list[str]:
    with database.session(write=False) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def set_cookie_header(response: Any, name: str) -> str:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith(f"{name}="):
            return value
    raise AssertionError(f"no {name} cookie set")


def test_anonymous_page_request_redirects_to_login_with_the_page_asked_for(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/scan?code=PK-1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/scan%3Fcode%3DPK-1"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


def test_api_without_bearer_token_still_gets_401_problem_json_even_with_a_session_cookie(
    client: TestClient[Litestar], users: UserFactory
) -> None:
    username = users.create(Role.MA)
    assert page_login(client, username).status_code == 303
    response = client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def test_login_goes_back_to_the_scanned_page_with_an_httponly_lax_cookie(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    username = users.create(Role.MA, full_name="Maria Lopez")
    response = page_login(client, username, next="/scan?code=PK-000123")
    assert response.status_code == 303
    assert response.headers["location"] == "/scan?code=PK-000123"
    cookie = set_cookie_header(response, SESSION_COOKIE).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http to a host that is not the public URL
    home = client.get("/")
    assert home.status_code == 200
    assert "Maria Lopez" in home.text
    assert "Medical assistant" in home.text
    (row,) = session_rows(database)
    assert row.expires_at - utcnow() <= dt.timedelta(minutes=15)
    assert "auth.login" in audit_actions(database)


def test_session_cookie_is_secure_over_https(
    app: Litestar, database: Database, users: UserFactory
) -> None:
    username = users.create(Role.MA)
    with TestClient(app, base_url="https://testserver.local") as https_client:
        response = page_login(https_client, username)
    assert "secure" in set_cookie_header(response, SESSION_COOKIE).lower()


@pytest.mark.parametrize(
    "next_path",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/scan\r\nX: y",
        "evil.example",
    ],
)
def test_login_never_redirects_off_site(
    client: TestClient[Litestar], users: UserFactory, next_path: str
) -> None:
    username = users.create(Role.MA)
    response = page_login(client, username, next=next_path)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == "/"


def test_safe_next_path_keeps_only_same_site_relative_paths() -> None:
    assert safe_next_path("/p/PK-000123") == "/p/PK-000123"
    assert safe_next_path("/b/EXAM1/GLV%2FM?x=1") == "/b/EXAM1/GLV%2FM?x=1"
    for bad in ("//evil", "https://evil", "/\\evil", "", None, "evil", "/login?next=//x"):
        assert safe_next_path(bad) == "/"


def test_wrong_password_shows_a_message_and_feeds_the_throttle(
    client: TestClient[Litestar], users: UserFactory, database: Database, settings: Any
) -> None:
    username = users.create(Role.MA)
    response = page_login(client, username, password="wrong password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert "auth.login_failed" in audit_actions(database)
    for _ in range(settings.login_max_failures - 1):
        page_login(client, username, password="wrong password")
    throttled = page_login(client, username)  # even the right password waits now
    assert throttled.status_code == 429
    assert "Too many failed logins" in throttled.text
    assert session_rows(database) == []


def test_post_without_a_valid_csrf_token_is_refused_and_writes_nothing(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    username = users.create(Role.MA)
    client.get("/login")  # has the CSRF cookie, but the form field is missing or forged
    data = {"username": username, "password": users.password}
    missing = client.post("/login", data=data, follow_redirects=False)
    assert missing.status_code == 403
    assert "form has expired" in missing.text
    assert "text/html" in missing.headers["content-type"]
    forged = client.post("/login", data={**data, "_csrf_token": "0" * 128}, follow_redirects=False)
    assert forged.status_code == 403
    assert session_rows(database) == []

    assert page_login(client, username).status_code == 303
    logout = client.post("/logout", follow_redirects=False)
    assert logout.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in


def test_a_cross_site_form_without_the_csrf_cookie_is_refused(
    app: Litestar, users: UserFactory
) -> None:
    username = users.create(Role.MA)
    with TestClient(app) as victim:
        assert page_login(victim, username).status_code == 303
        token = csrf_token_from(victim.get("/").text)
        victim.cookies.delete("steristock_csrf")
        response = victim.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403


def test_logout_revokes_the_session_at_once(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    username = users.create(Role.MA)
    page_login(client, username)
    stolen = client.cookies.get(SESSION_COOKIE)
    token = csrf_token_from(client.get("/").text)
    response = client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "You are logged out." in client.get("/login").text
    assert "You are logged out." not in client.get("/login").text  # a flash shows once
    client.cookies.set(SESSION_COOKIE, stolen)
    assert client.get("/scan", follow_redirects=False).headers["location"].startswith("/login")
    assert "auth.logout" in audit_actions(database)
    (row,) = session_rows(database)
    assert row.revoked_at is not None


def test_idle_session_expires_and_use_slides_the_expiry(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    username = users.create(Role.MA)
    page_login(client, username)

    def set_expiry(delta: dt.timedelta) -> None:
        with database.session() as session:
            session.execute(update(ApiToken).values(expires_at=utcnow() + delta))

    set_expiry(dt.timedelta(minutes=2))
    assert client.get("/", follow_redirects=False).status_code == 200
    (row,) = session_rows(database)
    assert row.expires_at - utcnow() > dt.timedelta(minutes=14)  # slid to a full 15 min

    set_expiry(dt.timedelta(minutes=14, seconds=30))
    before = session_rows(database)[0].expires_at
    assert client.get("/", follow_redirects=False).status_code == 200
    assert session_rows(database)[0].expires_at == before  # no write within a minute

    set_expiry(dt.timedelta(seconds=-1))
    response = client.get("/scan", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/scan"


def test_slide_never_extends_past_the_token_lifetime(
    client: TestClient[Litestar], users: UserFactory, database: Database, settings: Any
) -> None:
    username = users.create(Role.MA)
    page_login(client, username)
    lifetime = dt.timedelta(minutes=settings.token_ttl_minutes)
    with database.session() as session:
        session.execute(
            update(ApiToken).values(
                created_at=utcnow() - lifetime + dt.timedelta(minutes=3),
                expires_at=utcnow() + dt.timedelta(minutes=2),
            )
        )
    assert client.get("/", follow_redirects=False).status_code == 200
    (row,) = session_rows(database)
    assert row.expires_at <= row.created_at + lifetime


def test_deactivating_a_user_ends_their_page_session(
    client: TestClient[Litestar], users: UserFactory, app: Litestar
) -> None:
    username = users.create(Role.MA)
    admin = users.headers(Role.ADMIN)
    with TestClient(app) as tablet:
        page_login(tablet, username)
        assert tablet.get("/", follow_redirects=False).status_code == 200
        response = client.patch(f"/api/v1/users/{username}", json={"active": False}, headers=admin)
        assert response.status_code == 200
        assert tablet.get("/", follow_redirects=False).headers["location"] == "/login?next=/"


@pytest.mark.own_app
def test_role_guard_on_a_page_shows_a_friendly_403(
    app: Litestar, client: TestClient[Litestar], users: UserFactory
) -> None:
    @get("/", sync_to_thread=False)
    def admin_page() -> str:
        return "secret"

    app.register(
        Router(
            path="/admin-only-page",
            route_handlers=[admin_page],
            guards=[admin_only],
            exception_handlers=PAGE_EXCEPTION_HANDLERS,
        )
    )
    page_login(client, users.create(Role.MA))
    response = client.get("/admin-only-page")
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "Not allowed" in response.text
    assert "needs one of: admin" in response.text


@pytest.mark.parametrize(
    ("code", "location"),
    [
        ("https://clinic.example/p/PK-000123", "/p/PK-000123"),
        ("  pk-000123 ", "/p/PK-000123"),
        ("https://clinic.example/b/EXAM1/GLV%2FM", "/b/EXAM1/GLV%2FM"),
    ],
)
def test_scan_opens_the_page_for_a_pack_or_bin(
    client: TestClient[Litestar], users: UserFactory, code: str, location: str
) -> None:
    page_login(client, users.create(Role.MA))
    response = client.get("/scan", params={"code": code}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("hello <b>world</b>", 422, "Not a pack, bin or product code: \u201chello &lt;b&gt;"),
        ("(01)09506000134352(17)271231(10)ABC", 404, "no item with GTIN 09506000134352"),
        ("   ", 422, "Nothing was scanned."),
    ],
)
def test_scan_of_something_unknown_says_what_was_scanned(
    client: TestClient[Litestar], users: UserFactory, code: str, status: int, message: str
) -> None:
    page_login(client, users.create(Role.MA))
    response = client.get("/scan", params={"code": code})
    assert response.status_code == status
    assert message in response.text
    assert 'id="scan-code"' in response.text


def test_pages_have_security_headers_and_no_inline_script_or_style(
    client: TestClient[Litestar], users: UserFactory
) -> None:
    pages = [client.get("/login"), client.get("/login?next=//evil")]
    page_login(client, users.create(Role.MA))
    pages += [client.get("/"), client.get("/scan"), client.get("/scan?code=junk")]
    for response in pages:
        assert "text/html" in response.headers["content-type"]
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text)
        assert not re.search(r"\sstyle=|<style", response.text)
        assert not re.search(r"\son[a-z]+=", response.text)


def test_static_files_are_served_from_our_own_origin(client: TestClient[Litestar]) -> None:
    css = client.get("/static/css/steristock.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert client.get("/static/js/app.js").status_code == 200
    assert client.get("/static/vendor/htmx/htmx-2.0.11.min.js").status_code == 200
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200


def render_components() -> str:
    """The shared macros rendered outside a request (what domain pages will use)."""
    environment = template_config([TEMPLATES_DIR]).instance.engine  # type: ignore[union-attr]
    return environment.from_string(COMPONENTS).render()


COMPONENTS = """{% import "macros.html" as ui %}
<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/css/steristock.css"></head><body><main class="main">
{{ ui.status_banner(true, ["Sterilized 2026-11-28 in Autoclave A, cycle 42",
                           "Expires 2027-05-27"]) }}
{{ ui.status_banner(false, ["Cycle 41 failed its biological indicator (recall R-3)",
                            "Package was marked compromised: torn wrap"]) }}
<p>{{ ui.status_tag("ok", "Passed") }} {{ ui.status_tag("warn", "BI pending") }}
   {{ ui.status_tag("stop", "Failed") }}</p>
{{ ui.data_table(["Item", "On hand", "Par"],
                 [["Nitrile gloves M", 3, 20], ["Gauze 4x4", 40, 30]]) }}
<p>{{ ui.button("Use for encounter", "ok") }} {{ ui.button("Mark compromised", "danger") }}</p>
</main></body></html>"""


def test_status_banner_says_it_in_words_and_icons_not_only_colour() -> None:
    html = render_components()
    ok, stop = html.split('class="banner banner-stop"')
    assert 'class="banner banner-ok"' in ok and "OK TO USE" in ok and "✔" in ok
    assert "DO NOT USE" in stop and "✖" in stop and "failed its biological indicator" in stop
    assert "<b>" not in render_components_with_reason("<b>x</b>")


def render_components_with_reason(reason: str) -> str:
    environment = template_config([TEMPLATES_DIR]).instance.engine  # type: ignore[union-attr]
    return environment.from_string(
        '{% import "macros.html" as ui %}{{ ui.status_banner(false, [reason]) }}'
    ).render(reason=reason)


def test_unknown_urls_get_an_html_page_for_browsers_and_problem_json_for_the_api(
    client: TestClient[Litestar],
) -> None:
    page = client.get("/p/PK-000999/nothing-here")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "There is no such page." in page.text
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    assert client.get("/static/nothing.css").status_code == 404


def test_htmx_request_without_session_is_told_where_to_log_in(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/scan", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=/scan"


def test_htmx_requests_can_send_the_csrf_token_as_a_header(
    client: TestClient[Litestar], users: UserFactory
) -> None:
    page_login(client, users.create(Role.MA))
    html = client.get("/").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert token == csrf_token_from(html)
    response = client.post("/logout", headers={"X-CSRFToken": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_oversized_login_fields_are_refused_without_hashing(
    client: TestClient[Litestar],
) -> None:
    token = csrf_token_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "u" * 500, "password": "p" * 5000, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "Wrong username or password." in response.text


@pytest.mark.own_app
def test_login_returns_to_a_bin_url_with_an_escaped_slash_intact(
    app: Litestar, client: TestClient[Litestar], users: UserFactory
) -> None:
    # Litestar routes on the decoded path, so a "%2F" needs a `:path` parameter.
    @get("/{rest:path}", sync_to_thread=False)
    def fake_bin(rest: str) -> str:
        return rest

    app.register(Router(path="/bin-test", route_handlers=[fake_bin]))
    response = client.get("/bin-test/EXAM1/GLV%2FM", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/bin-test/EXAM1/GLV%252FM"
    login = page_login(client, users.create(Role.MA), next="/bin-test/EXAM1/GLV%2FM")
    assert login.headers["location"] == "/bin-test/EXAM1/GLV%2FM"


def test_csrf_cookie_is_httponly_and_secure_only_over_https(app: Litestar) -> None:
    with TestClient(app) as plain:
        cookie = set_cookie_header(plain.get("/login"), "steristock_csrf").lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    with TestClient(app, base_url="https://testserver.local") as https_client:
        cookie = set_cookie_header(https_client.get("/login"), "steristock_csrf").lower()
        assert "secure" in cookie


def test_logging_in_over_another_users_session_ends_that_session(
    client: TestClient[Litestar], users: UserFactory, database: Database
) -> None:
    first, second = users.create(Role.MA), users.create(Role.MA)
    page_login(client, first)
    first_cookie = client.cookies.get(SESSION_COOKIE)
    page_login(client, second)
    rows = {row.token_hash: row for row in session_rows(database)}
    assert len(rows) == 2
    assert sum(row.revoked_at is not None for row in rows.values()) == 1
    client.cookies.set(SESSION_COOKIE, first_cookie)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert audit_actions(database)[-2:] == ["auth.logout", "auth.login"]
