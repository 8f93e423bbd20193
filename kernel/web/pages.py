"""The kernel's pages (login, logout), the HTML error pages, CSRF, and the page router.

Pages live outside ``/api``: the auth middleware authenticates them with the session
cookie and sends anonymous visitors to ``/login?next=...``. Errors on pages render as
HTML (a friendly 403 for a role guard, a plain message for a refused action) instead of
problem+json. Every plugin's page handlers are mounted with `page_router`, so they all
share these error pages (and the CSRF middleware, which the kernel plugin installs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, State
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.orm import Session

from kernel.auth import service, sessions
from kernel.auth.middleware import is_page_path
from kernel.auth.service import CurrentUser
from kernel.auth.sessions import SESSION_COOKIE, LoginRequired, login_url, safe_next_path
from kernel.auth.views import client_address
from kernel.problems import (
    DomainError,
    NotAuthenticated,
    TooManyRequests,
    _http_to_problem,
    request_id,
)
from kernel.settings import Settings
from kernel.web.templating import redirect_with_flash, render_page

log = logging.getLogger("steristock.errors")

CSRF_FAILED = (
    "This form has expired or was not sent from SteriStock. Reload the page and try again."
)


MAX_USERNAME_LENGTH = 64
MAX_PASSWORD_LENGTH = 1024


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = ""


def session_cookie(request: Request[Any, Any, Any], token: str) -> Cookie:
    settings: Settings = request.app.state.settings
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=sessions.cookie_is_secure(request.scope, settings),
    )


def expired_session_cookie() -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", path="/", max_age=0, httponly=True)


@get("/login", opt={"exclude_from_auth": True}, sync_to_thread=False)
def login_page(request: Request[Any, Any, Any], next: str = "/") -> Template:
    return render_page(request, "login.html", next=safe_next_path(next), error=None, username="")


@post("/login", opt={"exclude_from_auth": True}, sync_to_thread=True, status_code=303)
def login(
    request: Request[Any, Any, Any],
    db_session: Session,
    state: State,
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response[Any]:
    """Check the password (throttled like the API) and start a session."""
    settings: Settings = state.settings
    next_path = safe_next_path(data.next)
    username = service.normalize_username(data.username)
    client = client_address(request)

    def refused(message: str, status_code: int) -> Template:
        return render_page(
            request,
            "login.html",
            status_code=status_code,
            next=next_path,
            error=message,
            username=username,
        )

    if not username or not data.password:
        return refused("Enter your username and password.", 422)
    if len(username) > MAX_USERNAME_LENGTH or len(data.password) > MAX_PASSWORD_LENGTH:
        return refused("Wrong username or password.", 401)
    try:
        service.check_login_throttle(
            db_session,
            username=username,
            client=client,
            max_failures=settings.login_max_failures,
            client_max_failures=settings.login_client_max_failures,
            window=dt.timedelta(minutes=settings.login_window_minutes),
        )
    except TooManyRequests as exc:
        return refused(exc.detail, 429)
    try:
        user = service.authenticate(db_session, username=username, password=data.password)
    except NotAuthenticated:
        service.record_login_failure(db_session, username=username, client=client)
        return refused("Wrong username or password.", 401)
    sessions.end_replaced_session(db_session, request.cookies.get(SESSION_COOKIE))
    token, _ = sessions.start_session(db_session, user, settings=settings, client=client)
    return Redirect(next_path, status_code=303, cookies=[session_cookie(request, token)])


@post("/logout", sync_to_thread=True, status_code=303)
def logout(request: Request[Any, Any, Any], db_session: Session, me: CurrentUser) -> Response[Any]:
    sessions.end_session(db_session, me)
    response = redirect_with_flash(request, "/login", "You are logged out.", "info")
    response.cookies.append(expired_session_cookie())
    return response


# --- Errors on pages ------------------------------------------------------------------


def redirect_to_login(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    """Anonymous or expired: go to the login page, then come back to the page asked for."""
    target = login_url(exc.next_path if request.method == "GET" else "/")
    cookies = [expired_session_cookie()] if SESSION_COOKIE in request.cookies else []
    if request.headers.get("hx-request"):
        return Response(
            content="", status_code=401, headers={"HX-Redirect": target}, cookies=cookies
        )
    return Redirect(target, status_code=303, cookies=cookies)


def _error_page(
    request: Request[Any, Any, Any], status_code: int, title: str, detail: str
) -> Template:
    return render_page(
        request,
        "errors/error.html",
        status_code=status_code,
        status=status_code,
        title=title,
        detail=detail,
        request_id=request_id(request.scope),
    )


def page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Every error on a page becomes an HTML page an MA can read."""
    if isinstance(exc, LoginRequired):
        return redirect_to_login(request, exc)
    if isinstance(exc, DomainError):
        status = int(exc.status_code)
        title = "Not allowed" if status == 403 else "That did not work"
        return _error_page(request, status, title, exc.detail)
    if isinstance(exc, PermissionDeniedException):
        detail = exc.detail
        if "CSRF" in (detail or ""):
            detail = CSRF_FAILED
        return _error_page(request, 403, "Not allowed", detail or "You may not do this.")
    if isinstance(exc, NotFoundException):
        return _error_page(request, 404, "Not found", "There is no such page.")
    if isinstance(exc, HTTPException):
        status = exc.status_code
        if status >= 500:
            log.error("page error, request_id=%s", request_id(request.scope), exc_info=exc)
            return _error_page(request, status, "Something went wrong", "Please try again.")
        return _error_page(request, status, "That did not work", exc.detail or "Bad request.")
    log.error("unhandled error, request_id=%s", request_id(request.scope), exc_info=exc)
    return _error_page(
        request,
        500,
        "Something went wrong",
        "Something went wrong on our side. Try again; if it keeps happening, "
        f"quote request id {request_id(request.scope)} to support.",
    )


def not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    """An unknown URL: an HTML page for a browser path, problem+json under /api."""
    path = request.url.path
    if is_page_path(path) and not path.startswith(("/static/", "/schema")):
        return _error_page(request, 404, "Not found", "There is no such page.")
    return _http_to_problem(exc).to_response(request)


PAGE_EXCEPTION_HANDLERS: dict[Any, Any] = {
    Exception: page_error,
    HTTPException: page_error,
    DomainError: page_error,
}


def csrf_config(settings: Settings) -> CSRFConfig:
    """Signed double-submit CSRF tokens on every page form. The API is exempt: it takes
    only bearer tokens, which a browser never sends on its own."""
    return CSRFConfig(
        secret=settings.ensure_secret_key(),
        cookie_name="steristock_csrf",
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=[r"^/api/", r"^/static/", r"^/schema", r"^/health$"],
    )


class PageCSRFMiddleware:
    """Litestar's CSRF middleware, with the cookie marked Secure per request (when the
    browser reached us over HTTPS), like the session cookie."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        self.plain = CSRFMiddleware(app, config)
        self.secure = CSRFMiddleware(app, dataclasses.replace(config, cookie_secure=True))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings: Settings = scope["litestar_app"].state.settings
        if not _same_origin(scope, settings, self.plain.config.exclude):
            await _refuse_cross_origin(send)
            return
        chosen = self.secure if sessions.cookie_is_secure(scope, settings) else self.plain
        await chosen(scope, receive, send)


_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# `Sec-Fetch-Site` values that no other site can have caused: our own page, or the user
# (a bookmark, the address bar).
_OWN_FETCH_SITES = frozenset({"same-origin", "none"})


def _same_origin(scope: Scope, settings: Settings, exclude: Any) -> bool:
    """A page form posted from another site is refused, before the token check (defence in
    depth: a leaked token is not enough). The browser's `Sec-Fetch-Site` decides where it
    is sent; otherwise the `Origin` header. Our pages are served with
    `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` even on a
    same-origin form post, so `null` (like no `Origin`: an old browser, a non-browser
    client) leaves the token check alone to decide."""
    if scope.get("type") != "http" or scope.get("method") not in _UNSAFE:
        return True
    path = scope.get("path", "")
    patterns = [exclude] if isinstance(exclude, str) else list(exclude or [])
    if any(re.match(pattern, path) for pattern in patterns):
        return True
    headers = dict(scope.get("headers") or [])
    fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1").strip().lower()
    if fetch_site:
        return fetch_site in _OWN_FETCH_SITES
    origin = headers.get(b"origin", b"").decode("latin-1").strip().lower().rstrip("/")
    if not origin or origin == "null":
        return True
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    allowed = {f"{scope.get('scheme', 'http')}://{host}"}
    if settings.public_url:
        parsed = urlsplit(str(settings.public_url))
        allowed.add(f"{parsed.scheme}://{parsed.netloc}".lower())
    return origin in allowed


async def _refuse_cross_origin(send: Send) -> None:
    body = b"Forbidden: this form was sent from another site."
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def csrf_middleware(settings: Settings) -> DefineMiddleware:
    """Goes after the auth middleware, so an anonymous POST is sent to log in first."""
    return DefineMiddleware(PageCSRFMiddleware, config=csrf_config(settings))


def page_router(handlers: Sequence[Any]) -> Router:
    """A router at ``/`` for page handlers: HTML error pages, no OpenAPI entries."""
    return Router(
        path="/",
        route_handlers=list(handlers),
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        include_in_schema=False,
    )


page_handlers: list[Any] = [login_page, login, logout]
