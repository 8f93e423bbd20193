"""Authentication: bearer tokens for the API, a session cookie for the pages.

Tokens are looked up on every request (one indexed query) rather than trusted from a
signature, so logging out or deactivating a user takes effect on the very next request.
Everything under ``/api/`` is the API (401 problem+json without a valid bearer token);
every other authenticated path is a page (a redirect to the login page without a live
session cookie, see `kernel.auth.sessions`).
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from kernel.auth.service import CurrentUser, user_for_token
from kernel.auth.sessions import SESSION_COOKIE, LoginRequired, user_for_session
from kernel.db import Database, thread_limiters
from kernel.problems import NotAuthenticated

PUBLIC_PATHS = [r"^/health$", r"^/schema", r"^/api/v1/auth/token$", r"^/static/"]
API_PREFIX = "/api/"


def is_page_path(path: str) -> bool:
    return not path.startswith(API_PREFIX)


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def lookup_user(db: Database, token: str) -> CurrentUser | None:
    with db.engine.connect() as connection:
        return user_for_token(connection, token)


class BearerTokenAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        if is_page_path(connection.scope["path"]):
            return await self.authenticate_page(connection)
        token = bearer_token(connection)
        if token is None:
            raise NotAuthenticated(
                "Send 'Authorization: Bearer <token>' (POST /api/v1/auth/token)."
            )
        if len(token) > 200:
            raise NotAuthenticated("Invalid or expired token.")
        state = connection.app.state
        user = await to_thread.run_sync(
            lookup_user, state.db, token, limiter=thread_limiters(state).auth
        )
        if user is None:
            raise NotAuthenticated("Invalid or expired token.")
        return AuthenticationResult(user=user, auth=token)

    async def authenticate_page(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        scope = connection.scope
        query = scope.get("query_string", b"").decode("latin-1")
        # The raw path keeps percent-escapes: a SKU "GLV/M" is "GLV%2FM" in a bin URL.
        raw_path = scope.get("raw_path")
        # (Some servers leave the query on raw_path; a literal "?" can only start it.)
        path = raw_path.decode("latin-1").split("?", 1)[0] if raw_path else scope["path"]
        wanted = path + (f"?{query}" if query else "")
        token = connection.cookies.get(SESSION_COOKIE)
        if not token:
            raise LoginRequired(wanted)
        state = connection.app.state
        user = await to_thread.run_sync(
            user_for_session,
            state.db.engine,
            token,
            state.settings,
            limiter=thread_limiters(state).auth,
        )
        if user is None:
            raise LoginRequired(wanted)
        return AuthenticationResult(user=user, auth=token)
