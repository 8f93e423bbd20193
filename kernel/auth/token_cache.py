"""Bearer-token lookups cached per worker, checked against the database on every request.

A token lookup (join of `api_tokens` and `users`) used to cost a worker-thread hop and a
pooled connection per request. Here each worker keeps `token digest -> (user, expiry)` for
the tokens it has seen, tagged with the **auth generation** they were looked up under: a
single-row counter that database triggers bump whenever a token is revoked or a user is
deactivated, re-roled or renamed (migration `0011_auth_generation`). Every request still
reads that counter (one primary-key read on a connection the cache keeps for itself, so
on the event loop, no thread), and a changed counter empties the cache. So a logout or a
deactivation on any worker or from the CLI is honoured on the very next request, on
every worker, exactly as without a cache.

The cache belongs to its `Database` (not to the app): tests that share one app each
bring their own database, so nothing cached by one test is seen by another.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from kernel.auth.service import CurrentUser
from kernel.db import Database, utcnow

READ_GENERATION = "SELECT generation FROM auth_generation WHERE id = 1"
MAX_ENTRIES = 10_000  # tokens per worker; past it the cache starts again (no LRU needed)
_KEY = "auth_token_cache"


@dataclass(frozen=True)
class Cached:
    user: CurrentUser
    expires_at: dt.datetime


class TokenCache:
    """Token lookups of one database, valid while the auth generation stays the same."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._entries: dict[str, Cached] = {}
        self._generation: int | None = None
        self._raw: Any = None  # a DBAPI connection of our own, autocommit

    def generation(self) -> int | None:
        """The database's auth generation now, or None when it cannot be read (then
        nothing is trusted from the cache and the caller looks the token up)."""
        with self._lock:
            try:
                if self._raw is None:
                    self._raw = self._connect()
                cursor = self._raw.cursor()
                try:
                    cursor.execute(READ_GENERATION)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            except Exception:  # a dropped connection, a database being migrated: look up
                self._close_raw()
                return None
            generation = None if row is None else int(row[0])
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
            return generation

    def _connect(self) -> Any:
        raw = self._db.engine.raw_connection()
        driver = raw.driver_connection
        if not self._db.is_sqlite:
            # Autocommit: a read never leaves a transaction open (no snapshot held, no
            # lock in the way of DDL or TRUNCATE).
            driver.autocommit = True  # type: ignore[union-attr]
        return raw

    def get(self, digest: str, generation: int | None) -> CurrentUser | None:
        """The cached user for a token digest, if it was cached under `generation` and the
        token has not expired since."""
        if generation is None:
            return None
        entry = self._entries.get(digest)
        if entry is None or self._generation != generation or entry.expires_at <= utcnow():
            return None
        return entry.user

    def put(self, user: CurrentUser, expires_at: dt.datetime, generation: int | None) -> None:
        """Remember a lookup made after reading `generation` (a bump in between makes the
        entry stale at once, never wrongly fresh)."""
        if generation is None:
            return
        with self._lock:
            if self._generation != generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[user.token_hash] = Cached(user, expires_at)

    def _close_raw(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to close
                raw.invalidate()

    def close(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation = None
            if self._raw is not None:
                raw, self._raw = self._raw, None
                with contextlib.suppress(Exception):  # closing a broken connection
                    raw.close()


def token_cache(db: Database) -> TokenCache:
    """The database's token cache (made on first use, closed with the database)."""
    cache = db.extensions.get(_KEY)
    if cache is None:
        made = TokenCache(db)
        cache = db.extensions.setdefault(_KEY, made)
        if cache is made:
            db.on_dispose(cache.close)
    return cache
