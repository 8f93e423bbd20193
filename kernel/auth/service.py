"""Passwords, tokens, throttling and user management as plain functions over a session."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kernel import audit
from kernel.auth.models import ApiToken, LoginFailure, Role, User
from kernel.db import UTCDateTime, utcnow
from kernel.problems import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from kernel.sites import service as site_service

_hasher = PasswordHasher()  # argon2id; OWASP-level defaults (t=3, m=64 MiB)
PRODUCTION_HASHER = _hasher
# Verified against when the username is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class CurrentUser:
    """Who is calling: kept on the connection, independent of any session."""

    id: int
    username: str
    role: Role
    full_name: str = ""
    token_hash: str = ""


API_KIND = "api"  # a bearer token; page sessions are kernel.auth.sessions.SESSION_KIND


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_username(username: str) -> str:
    return username.strip().lower()


def validate_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters.",
            extra={"errors": [{"field": "password", "message": "too short", "source": "body"}]},
        )


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == normalize_username(username)))
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


_PROFILE = select(
    User.username,
    User.full_name,
    User.role,
    User.active,
    User.created_at,
    User.email,
    User.all_sites,
).where(User.id == bindparam("user_id"))


def user_profile(session: Session, user_id: int) -> Any:
    """One user's public columns as a row (a Core read: no ORM object for `/users/me`)."""
    row = session.connection().execute(_PROFILE, {"user_id": user_id}).first()
    if row is None:
        raise NotFound("No such user.")
    return row


def user_snapshot(user: User, session: Session | None = None) -> dict[str, object]:
    snap = audit.snapshot(user, exclude=("password_hash",))
    if session is not None:
        snap["sites"] = site_service.user_site_codes(session, user.id)  # type: ignore[arg-type]
    return snap


def create_user(
    session: Session,
    *,
    actor: str,
    username: str,
    role: Role,
    password: str,
    full_name: str = "",
    email: str | None = None,
    sites: Sequence[str] | None = None,
    all_sites: bool | None = None,
) -> User:
    """A new user; without `sites` they work at `MAIN`, admins and auditors at all sites."""
    username = normalize_username(username)
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "Username must be 2-64 characters: letters, digits, '.', '_' or '-'.",
            extra={"errors": [{"field": "username", "message": "invalid", "source": "body"}]},
        )
    validate_new_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"A user named {username!r} already exists.")
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=Role(role).value,
        password_hash=hash_password(password),
        email=email.strip() or None if email else None,
    )
    session.add(user)
    session.flush()
    site_service.set_user_sites(session, user, sites=sites, all_sites=all_sites, creating=True)
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=username,
        after=user_snapshot(user, session),
    )
    return user


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        or 0
    )


def update_user(
    session: Session,
    *,
    actor: str,
    username: str,
    role: Role | None = None,
    active: bool | None = None,
    full_name: str | None = None,
    password: str | None = None,
    email: str | None = None,
    sites: Sequence[str] | None = None,
    all_sites: bool | None = None,
) -> User:
    """Change a user; deactivating revokes their tokens at once. The last admin stays."""
    user = get_user(session, username)
    before = user_snapshot(user, session)
    losing_admin = (
        user.role == Role.ADMIN
        and user.active
        and ((role is not None and role != Role.ADMIN) or active is False)
    )
    if losing_admin and _active_admins(session) <= 1:
        raise Conflict("This is the last active administrator; add another admin first.")
    if role is not None:
        user.role = Role(role).value
    if full_name is not None:
        user.full_name = full_name.strip()
    if password is not None:
        validate_new_password(password)
        user.password_hash = hash_password(password)
    if active is not None:
        user.active = active
    if email is not None:
        user.email = email.strip() or None
    site_service.set_user_sites(session, user, sites=sites, all_sites=all_sites, creating=False)
    if active is False or password is not None:
        revoke_user_tokens(session, user.id)  # type: ignore[arg-type]
    user.updated_at = utcnow()
    session.flush()
    after = user_snapshot(user, session)
    if password is not None:
        after["password_changed"] = True
    audit.record(
        session,
        actor=actor,
        action="user.update",
        entity="user",
        entity_id=user.username,
        before=before,
        after=after,
    )
    return user


def revoke_user_tokens(session: Session, user_id: int) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utcnow())
    )


# A username's failures from all clients together: wide enough that one stranger cannot
# lock `admin` out from the clinic's own tablets (their failures count against their own
# address), tight enough to stop guessing spread over many addresses.
USER_SPREAD = 10


def check_login_throttle(
    session: Session,
    *,
    username: str,
    client: str,
    max_failures: int,
    client_max_failures: int,
    window: dt.timedelta,
) -> None:
    """Refuse (429) while this username from this client, this client, or this username
    from everywhere (USER_SPREAD times the limit) has too many recent failures."""
    since = utcnow() - window
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    by_pair = (
        session.scalar(
            recent.where(LoginFailure.username == username, LoginFailure.client == client)
        )
        or 0
    )
    by_user = session.scalar(recent.where(LoginFailure.username == username)) or 0
    by_client = session.scalar(recent.where(LoginFailure.client == client)) or 0
    if (
        by_pair >= max_failures
        or by_client >= client_max_failures
        or by_user >= max_failures * USER_SPREAD
    ):
        retry = int(window.total_seconds())
        raise TooManyRequests(
            f"Too many failed logins; try again in {retry // 60} minutes.",
            headers={"Retry-After": str(retry)},
        )


def record_login_failure(session: Session, *, username: str, client: str) -> None:
    session.add(LoginFailure(username=username[:64], client=client[:64]))
    audit.record(
        session,
        actor=username[:64] or "-",
        action="auth.login_failed",
        entity="user",
        entity_id=username[:64],
        after={"client": client},
    )


def authenticate(session: Session, *, username: str, password: str) -> User:
    """The active user with this username and password, or NotAuthenticated."""
    user = session.scalar(select(User).where(User.username == normalize_username(username)))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise NotAuthenticated("Wrong username or password.")
    if not verify_password(user.password_hash, password) or not user.active:
        raise NotAuthenticated("Wrong username or password.")
    return user


def issue_token(
    session: Session, user: User, *, ttl: dt.timedelta, client: str, kind: str = API_KIND
) -> tuple[str, ApiToken]:
    """Create a bearer token for a user who just logged in; clears their failures."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=token_digest(token),
        user_id=user.id,  # type: ignore[arg-type]
        kind=kind,
        expires_at=utcnow() + ttl,
    )
    session.add(row)
    session.execute(delete(LoginFailure).where(LoginFailure.username == user.username))
    audit.record(
        session,
        actor=user.username,
        action="auth.login",
        entity="user",
        entity_id=user.username,
        after={"client": client, "kind": kind, "expires_at": row.expires_at},
    )
    return token, row


# Built once: the lookup runs on every API request, so statement construction matters.
_TOKEN_LOOKUP = (
    select(User.id, User.username, User.role, User.full_name, ApiToken.expires_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("digest"),
        # A page session's cookie is not a bearer token: stolen from a browser it must
        # not open the API (nor skip the page's CSRF check).
        ApiToken.kind == API_KIND,
        ApiToken.revoked_at.is_(None),  # type: ignore[union-attr]
        ApiToken.expires_at > bindparam("now", type_=UTCDateTime),
        User.active.is_(True),  # type: ignore[attr-defined]
    )
)


def user_for_token(connection: Connection | Session, token: str) -> CurrentUser | None:
    """The active user a live, unrevoked token belongs to (one indexed query)."""
    found = token_lookup(connection, token_digest(token))
    return None if found is None else found[0]


def token_lookup(
    connection: Connection | Session, digest: str
) -> tuple[CurrentUser, dt.datetime] | None:
    """The user a live, unrevoked token digest belongs to, and when the token expires."""
    row = connection.execute(_TOKEN_LOOKUP, {"digest": digest, "now": utcnow()}).first()
    if row is None:
        return None
    return CurrentUser(row.id, row.username, Role(row.role), row.full_name, digest), row.expires_at


def revoke_token(session: Session, *, actor: str, token_hash: str) -> None:
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))  # type: ignore[union-attr]
        .values(revoked_at=utcnow())
    )
    audit.record(session, actor=actor, action="auth.logout", entity="user", entity_id=actor)
