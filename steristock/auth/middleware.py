"""Bearer-token authentication for the API.

Tokens are looked up on every request (one indexed query) rather than trusted from a
signature, so logging out or deactivating a user takes effect on the very next request.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from steristock.auth.service import CurrentUser, user_for_token
from steristock.db import Database, thread_limiters
from steristock.problems import NotAuthenticated

PUBLIC_PATHS = [r"^/health$", r"^/schema", r"^/api/v1/auth/token$", r"^/static/"]


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
