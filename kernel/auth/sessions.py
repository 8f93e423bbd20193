"""Browser sessions for the tablet pages.

A session is an `api_tokens` row of kind ``"session"`` whose opaque token lives in an
HttpOnly cookie. Like bearer tokens it is looked up on every request (so logout and
deactivation take effect at once, on every worker), and it expires after
``STERISTOCK_SESSION_IDLE_MINUTES`` without use: each use slides the expiry forward (at
most one write a minute), but never past ``STERISTOCK_TOKEN_TTL_MINUTES`` after login.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from kernel.auth import service
from kernel.auth.models import ApiToken, Role, User
from kernel.auth.service import CurrentUser, token_digest
from kernel.db import UTCDateTime, utcnow
from kernel.problems import NotAuthenticated
from kernel.settings import Settings

SESSION_COOKIE = "steristock_session"
SESSION_KIND = "session"
# Sliding the expiry costs a write; skip it while the session was slid less than this ago.
SLIDE_GRANULARITY = dt.timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


class LoginRequired(NotAuthenticated):
    """A page was asked for without a live session: the browser goes to the login page."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__("Please log in.")
        self.next_path = next_path


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(safe_next_path(next_path), safe="/")


def safe_next_path(candidate: str | None) -> str:
    """A same-site relative path to go to after login, or "/" (no open redirects).

    Only a path starting with a single "/" is kept: "//evil.example", "/\\evil.example",
    "https://evil.example" and anything with control characters fall back to "/".
    """
    if not candidate or not candidate.startswith("/") or len(candidate) > 2000:
        return "/"
    if candidate.startswith(("//", "/\\")) or "\\" in candidate:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return "/"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return "/"
    if candidate.startswith(("/login", "/logout")):
        return "/"
    return candidate


def start_session(
    session: Session, user: User, *, settings: Settings, client: str
) -> tuple[str, ApiToken]:
    """Log a user in for the pages (audited as ``auth.login`` with kind "session")."""
    return service.issue_token(
        session,
        user,
        ttl=dt.timedelta(minutes=min(settings.session_idle_minutes, settings.token_ttl_minutes)),
        client=client,
        kind=SESSION_KIND,
    )


def end_session(session: Session, me: CurrentUser) -> None:
    """Revoke the caller's session token (audited as ``auth.logout``)."""
    service.revoke_token(session, actor=me.username, token_hash=me.token_hash)


def end_replaced_session(session: Session, token: str | None) -> None:
    """Someone logs in on a browser that still holds another live session (a shared
    tablet): that session ends now instead of lingering until its idle expiry."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return
    digest = token_digest(token)
    username = session.scalar(
        select(User.username)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == digest,
            ApiToken.kind == SESSION_KIND,
            ApiToken.revoked_at.is_(None),  # type: ignore[union-attr]
            ApiToken.expires_at > utcnow(),
        )
    )
    if username is not None:
        service.revoke_token(session, actor=username, token_hash=digest)


_SESSION_LOOKUP = (
    select(
        User.id,
        User.username,
        User.role,
        User.full_name,
        ApiToken.created_at,
        ApiToken.expires_at,
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("digest"),
        ApiToken.kind == SESSION_KIND,
        ApiToken.revoked_at.is_(None),  # type: ignore[union-attr]
        ApiToken.expires_at > bindparam("now", type_=UTCDateTime),
        User.active.is_(True),  # type: ignore[attr-defined]
    )
)


def next_expiry(
    *,
    now: dt.datetime,
    created_at: dt.datetime,
    expires_at: dt.datetime,
    idle: dt.timedelta,
    lifetime: dt.timedelta,
) -> dt.datetime | None:
    """The slid expiry to store for a session used now, or None when no write is due."""
    target = min(now + idle, created_at + lifetime)
    # Write at most once a minute, but for a short idle time (1 minute) a quarter of it:
    # with a fixed minute, a session used every 30 s would never slide and expire.
    if target - expires_at < min(SLIDE_GRANULARITY, idle / 4):
        return None
    return target


def user_for_session(engine: Engine, token: str, settings: Settings) -> CurrentUser | None:
    """The active user a live session token belongs to; slides its idle expiry."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = token_digest(token)
    now = utcnow()
    with engine.connect() as connection:
        row = connection.execute(_SESSION_LOOKUP, {"digest": digest, "now": now}).first()
    if row is None:
        return None
    new_expiry = next_expiry(
        now=now,
        created_at=row.created_at,
        expires_at=row.expires_at,
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
        lifetime=dt.timedelta(minutes=settings.token_ttl_minutes),
    )
    if new_expiry is not None:
        with engine.begin() as connection:
            slide_expiry(connection, digest, new_expiry)
    return CurrentUser(row.id, row.username, Role(row.role), row.full_name, digest)


def slide_expiry(connection: Connection, digest: str, new_expiry: dt.datetime) -> None:
    # Only forward, and never for a token revoked meanwhile (a logout on another worker).
    connection.execute(
        update(ApiToken)
        .where(
            ApiToken.token_hash == digest,
            ApiToken.revoked_at.is_(None),  # type: ignore[union-attr]
            ApiToken.expires_at < new_expiry,
        )
        .values(expires_at=new_expiry)
    )


def cookie_is_secure(scope: Any, settings: Settings) -> bool:
    """Mark the cookie Secure whenever the browser reached us over HTTPS.

    Directly or through a trusted proxy (the request scheme; `kernel.proxies` sets it
    from a trusted proxy's X-Forwarded-Proto), or through a TLS-terminating proxy serving
    the public HTTPS URL (the Host header names the public host).
    """
    if scope.get("scheme") == "https":
        return True
    public = urlsplit(settings.public_url)
    if public.scheme != "https":
        return False
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return value.decode("latin-1").lower() == (public.netloc or "").lower()
    return False
