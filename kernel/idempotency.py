"""Safe retries for POSTs: the `Idempotency-Key` header.

A tablet on flaky Wi-Fi may send the same "take 2 boxes of gloves" twice. When a request
carries an `Idempotency-Key`, the first successful response is stored with the key (per
user) in the same transaction as the change it made. A retry with the same key and the
same body gets that stored response back and writes nothing; the same key with a
different body is a client bug and gets 409. Failed requests store nothing (their
transaction rolls back), so retrying them runs them again.

Usage in a sync handler::

    return idempotency.respond(
        db_session, me=me, key=idempotency_key, scope="POST /api/v1/stock/movements",
        payload=data, status_code=201, action=lambda: ledger.move(...),
    )
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Response
from litestar.params import HeaderParameter
from sqlalchemy import Column, Text, UniqueConstraint, bindparam, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from kernel.auth.service import CurrentUser
from kernel.db import UTCDateTime, utcnow
from kernel.direct_sql import Direct
from kernel.fields import PRINTABLE
from kernel.problems import Conflict, InvalidInput

MAX_KEY_LENGTH = 200
REPLAY_HEADER = "Idempotent-Replayed"

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=PRINTABLE,
        description=(
            "Any unique string (e.g. a UUID) to make a retry safe: the same key with the same "
            "body returns the first response and writes nothing more."
        ),
    ),
]


class IdempotencyRecord(SQLModel, table=True):
    """The first successful response to a request sent with an `Idempotency-Key`."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    key: str = Field(max_length=MAX_KEY_LENGTH)
    scope: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


def fingerprint(scope: str, payload: Any) -> str:
    """SHA-256 of the request's meaning (decoded body, not its whitespace)."""
    canonical = json.dumps(
        [scope, msgspec.to_builtins(payload)], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_records = IdempotencyRecord.__table__  # type: ignore[attr-defined]
# Run on the driver's cursor (`kernel.direct_sql`): every keyed stock action reads and
# writes here, and through the ORM the two cost more than the action's own statements.
_FIND = Direct(
    select(
        _records.c.scope, _records.c.request_hash, _records.c.status_code,
        _records.c.response_body,
    ).where(_records.c.user_id == bindparam("user_id"), _records.c.key == bindparam("key"))
)  # fmt: skip
_STORE = Direct(
    insert(_records).values(
        {
            name: bindparam(name, type_=_records.c[name].type)
            for name in (
                "user_id", "key", "scope", "request_hash", "status_code", "response_body",
                "created_at",
            )
        }
    )
)  # fmt: skip
_LOCK = Direct(text("SELECT pg_advisory_xact_lock(:lock_id)"))


def _lock_key(connection: Connection, user_id: int, key: str) -> None:
    """Make concurrent requests with the same key queue, so the second one replays.

    SQLite already serialises writers; PostgreSQL gets a transaction-scoped advisory lock
    (taken in a statement of its own: the look-up after it must see what a request that
    held the lock committed).
    """
    if connection.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    _LOCK.run(connection, {"lock_id": int.from_bytes(digest[:8], "big", signed=True)})


def respond(
    session: Session,
    *,
    me: CurrentUser,
    key: str | None,
    scope: str,
    payload: Any,
    status_code: int,
    action: Callable[[], Any],
) -> Response[Any]:
    """Run `action` once per (user, key); later identical requests get the stored response."""
    if key is None:
        return Response(
            content=msgspec.json.encode(action()),
            status_code=status_code,
            media_type="application/json",
        )
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")
    request_hash = fingerprint(scope, payload)
    connection = session.connection()
    _lock_key(connection, me.id, key)
    found = _FIND.run(connection, {"user_id": me.id, "key": key})
    if found:
        stored_scope, stored_hash, stored_status, stored_body = found[0]
        if stored_scope != scope or stored_hash != request_hash:
            raise Conflict(
                "This Idempotency-Key was already used for a different request; "
                "use a new key for a new request."
            )
        return Response(
            content=stored_body.encode(),
            status_code=stored_status,
            media_type="application/json",
            headers={REPLAY_HEADER: "true"},
        )
    result = action()
    body = msgspec.json.encode(result).decode()
    session.flush()  # what the action left pending is written before its key, as before
    _STORE.run(
        connection,
        {
            "user_id": me.id,
            "key": key,
            "scope": scope,
            "request_hash": request_hash,
            "status_code": status_code,
            "response_body": body,
            "created_at": utcnow(),
        },
    )
    return Response(content=body.encode(), status_code=status_code, media_type="application/json")
