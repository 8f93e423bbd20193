"""Authentication: bearer tokens for the API, a session cookie for the pages.

Tokens are checked against the database on every request rather than trusted from a
signature, so logging out or deactivating a user takes effect on the very next request:
a worker remembers the tokens it has looked up, and every request reads the database's
auth generation, which triggers bump on every logout, deactivation or role change
(`kernel.auth.token_cache`).
Everything under ``/api/`` is the API (401 problem+json without a valid bearer token);
every other authenticated path is a page (a redirect to the login page without a live
session cookie, see `kernel.auth.sessions`).
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from kernel.auth.service import CurrentUser, token_digest, token_lookup, user_for_token
from kernel.auth.sessions import SESSION_COOKIE, LoginRequired, user_for_session
from kernel.auth.token_cache import TokenCache, bind_request_cache, token_cache
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


def lookup_and_cache(
    db: Database, cache: TokenCache, digest: str, generation: int | None
) -> CurrentUser | None:
    """Look a token up (a worker thread) and remember it under the generation read first."""
    with db.engine.connect() as connection:
        found = token_lookup(connection, digest)
    if found is None:
        return None
    user, expires_at = found
    cache.put(user, expires_at, generation)
    return user


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
        db: Database = state.db
        cache = token_cache(db)
        digest = token_digest(token)
        # The generation is read on every request (a primary-key read, on the loop); a
        # token seen under the same generation needs no lookup and no thread.
        generation = await cache.generation_now()
        bind_request_cache(connection.scope, cache, generation)
        user = cache.get(digest, generation)
        if user is None:
            user = await to_thread.run_sync(
                lookup_and_cache, db, cache, digest, generation, limiter=thread_limiters(state).auth
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
        cache = token_cache(state.db)
        bind_request_cache(connection.scope, cache, cache.generation())
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
