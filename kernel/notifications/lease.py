"""One sender across workers and containers: a lease row in the database.

Whoever holds the unexpired lease runs the rules and delivers; everyone else waits (the
`notify run` command, up to a minute) or skips this turn (the server's loop). The lease
expires by itself, so a sender that died never blocks the others for long. Lease times
are the real wall clock (every process must agree), never a test's pinned clock.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from kernel.db import Database, utcnow
from kernel.notifications.models import SenderLease

LEASE_NAME = "notifications"
LEASE_TTL = dt.timedelta(minutes=10)


def new_holder() -> str:
    """A name for this sender: host, process and a random part (two runs never match)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def try_acquire(
    database: Database, holder: str, *, name: str = LEASE_NAME, ttl: dt.timedelta = LEASE_TTL
) -> bool:
    """Take (or renew) the lease if it is free, expired or ours; False if someone holds it."""
    now = utcnow()
    with database.session() as session:
        taken = session.execute(
            update(SenderLease)
            .where(
                SenderLease.name == name,
                or_(SenderLease.holder == holder, SenderLease.expires_at <= now),
            )
            .values(holder=holder, expires_at=now + ttl)
        ).rowcount
        if taken:
            return True
    try:
        with database.session() as session:
            session.add(SenderLease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False  # the row exists and someone else holds it
    return True


def acquire(
    database: Database,
    holder: str,
    *,
    wait: float = 60.0,
    poll: float = 1.0,
    name: str = LEASE_NAME,
    ttl: dt.timedelta = LEASE_TTL,
) -> bool:
    """Take the lease, waiting up to `wait` seconds while another sender holds it."""
    deadline = time.monotonic() + wait
    while True:
        if try_acquire(database, holder, name=name, ttl=ttl):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


def release(database: Database, holder: str, *, name: str = LEASE_NAME) -> None:
    """Give the lease up at once (only if still ours)."""
    with database.session() as session:
        session.execute(
            update(SenderLease)
            .where(SenderLease.name == name, SenderLease.holder == holder)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
