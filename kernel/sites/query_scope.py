"""The query scope: every ORM statement a user's request runs sees only the user's sites.

The request's session knows who is calling (`bind_user`, done by the `db_session`
dependency); the first ORM statement loads that user's `SiteScope` onto the session and
every SELECT, UPDATE and DELETE of a site-owned table gets the condition "one of the
user's sites" (SQLAlchemy's `with_loader_criteria`, which also reaches joins, subqueries,
counts and `session.get`). A record of another site is then simply not found: lookups
answer their usual 404 and lists leave it out, with no handler doing it by hand.

Domains register their tables where they define them:

    site_owned(Location)                                   # has `site_id`
    owned_through(StockLevel, StockLevel.location_id, Location)   # via its parent

Aliased occurrences (`aliased(Cycle)`, as a recall's triggering cycle) are not filtered:
they are reached through a record that was. Statements that must see every site (a
recall reaching packs sent to other sites) say so: `.execution_options(all_sites=True)`,
or `every_site(session)` / `@across_sites` around them. Sessions outside a request (CLI,
demo, tests' services) have no user and are not scoped. Raw connection-level SQL
(`session.connection().execute(...)`) is not ORM and not scoped: such code asks
`session_scope(session)` itself (docs/sites.md).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from kernel.auth.token_cache import request_cache
from kernel.sites.scope import SiteScope

_SCOPE = "kernel.sites.scope"
_USER = USER_KEY = "kernel.sites.user_id"
_CHOICE = CHOICE_KEY = "kernel.sites.choice"
_LOADING = "kernel.sites.loading"
_LIFTED = "kernel.sites.lifted"
_USERS = "kernel.sites.users_scope"
_CACHE = "kernel.sites.cache"
T = TypeVar("T")
ALL_SITES = "all_sites"  # the execution option that lifts the scope for one statement

Criteria = Callable[[list[int]], ColumnElement[bool]]
_REGISTRY: dict[type, Criteria] = {}


def site_owned(cls: type) -> type:
    """Register a table with a `site_id` column as site-owned."""
    column = cls.site_id  # type: ignore[attr-defined]
    _REGISTRY[cls] = lambda ids: column.in_(ids)
    return cls


def owned_through(cls: type, column: Any, parent: type) -> None:
    """Register a table whose rows belong to the site of a site-owned parent row."""
    parent_id = parent.id  # type: ignore[attr-defined]
    parent_site = parent.site_id  # type: ignore[attr-defined]
    _REGISTRY[cls] = lambda ids: column.in_(
        select(parent_id).where(parent_site.in_(ids)).scalar_subquery()
    )


def registered() -> tuple[type, ...]:
    return tuple(_REGISTRY)


def bind_user(session: Session, user_id: int | None, choice: str | None = None) -> None:
    """Say who the session works for (and the site a page's switcher chose)."""
    session.info[_USER] = user_id
    if choice:
        session.info[_CHOICE] = choice


def set_session_scope(session: Session, scope: SiteScope) -> None:
    """Replace the session's scope (a narrower one: `?site=`, the page's site switcher)."""
    session.info[_SCOPE] = scope


def session_scope(session: Session) -> SiteScope | None:
    """The scope of a user's request session (loaded on first use); None outside one."""
    scope = session.info.get(_SCOPE)
    if scope is not None or _USER not in session.info:
        return scope
    scope = _users_scope(session, session.info[_USER])
    remember_sites(session, scope)
    session.info[_USERS] = scope
    choice = session.info.get(_CHOICE)
    if choice:
        scope = scope.choose(choice)
    session.info[_SCOPE] = scope
    return scope


def _users_scope(session: Session, user_id: int | None) -> SiteScope:
    """The user's scope: read once per user and auth generation per worker (the triggers
    of migration 0018_scope_generation bump it whenever sites or a user's sites change),
    else from the database."""
    cached = session.info.get(_CACHE)
    key = _scope_key(user_id)
    if cached is not None:
        scope = cached[0].recall(key, cached[1])
        if scope is not None:
            return scope
    from kernel.sites.service import scope_for_user

    session.info[_LOADING] = True
    try:
        scope = scope_for_user(session, user_id)
    finally:
        session.info.pop(_LOADING, None)
    if cached is not None:
        cached[0].remember(key, scope, cached[1])
    return scope


def _scope_key(user_id: int | None) -> tuple[str, int | None]:
    return ("site_scope", user_id)


def request_user_id(asgi_scope: Any) -> int | None:
    """The id of the user the request's authentication found (None: anonymous)."""
    return getattr(asgi_scope.get("user"), "id", None)


def remembered_scope(asgi_scope: Any, user_id: int) -> SiteScope | None:
    """The user's scope as remembered under the request's auth generation (None: not
    remembered, or stale), for requests that read without a session (`kernel.reads`)."""
    cached = request_cache(asgi_scope)
    return None if cached is None else cached[0].recall(_scope_key(user_id), cached[1])


def scope_loader(db: Any, asgi_scope: Any, user_id: int) -> Callable[[], SiteScope]:
    """Reads the user's scope in a read session of `db` (a `kernel.db.Database`) and
    remembers it under the request's auth generation (read before the rows: a change in
    between leaves it stale, never wrongly fresh)."""

    def load() -> SiteScope:
        from kernel.sites.service import scope_for_user

        with db.session(write=False) as session:
            scope = scope_for_user(session, user_id)
        cached = request_cache(asgi_scope)
        if cached is not None:
            cached[0].remember(_scope_key(user_id), scope, cached[1])
        return scope

    return load


def users_scope(session: Session) -> SiteScope | None:
    """The user's own sites, before any switcher or `?site=` narrowed them."""
    session_scope(session)
    return session.info.get(_USERS)


def remember_sites(session: Session, scope: SiteScope) -> None:
    """Hand the sites just read to `kernel.sites.codes` (no second query for codes)."""
    from kernel.sites.codes import remember

    remember(session, {s.id: (s.code, s.timezone) for s in scope.all_sites.values()})


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    session = state.session
    if (
        _LOADING in session.info
        or session.info.get(_LIFTED)
        or state.execution_options.get(ALL_SITES)
    ):
        return
    scope = session_scope(session)
    if scope is None or scope.sees_everything:
        return
    state.statement = _scoped(state.statement, tuple(sorted(scope.ids)))


# A statement built once and run again and again (a pack scan) gets its scoped copy once
# per set of sites: a new copy per execution meant SQLAlchemy computing the cache key of a
# statement carrying ~20 criteria every time (0.8 ms of a 2 ms scan for a one-site user).
# Weak keys: a statement built for one request takes its copies with it when it goes.
_SCOPED: weakref.WeakKeyDictionary[Any, dict[tuple[tuple[int, ...], int], Any]] = (
    weakref.WeakKeyDictionary()
)
_SCOPED_LOCK = threading.Lock()


def _scoped(statement: Any, ids: tuple[int, ...]) -> Any:
    key = (ids, len(_REGISTRY))
    with _SCOPED_LOCK:
        copies = _SCOPED.get(statement)
        found = copies.get(key) if copies is not None else None
    if found is not None:
        return found
    found = statement.options(*_criteria_options(*key))
    with _SCOPED_LOCK:
        _SCOPED.setdefault(statement, {})[key] = found
    return found


@functools.lru_cache(maxsize=512)
def _criteria_options(ids: tuple[int, ...], registered: int) -> tuple[Any, ...]:
    """The loader criteria of one set of sites, built once and reused by every statement
    (building them for each of ~20 tables on every statement was most of a pack scan's
    extra cost in a group); `registered` renews them when a table registers later."""
    return tuple(
        with_loader_criteria(cls, criteria(list(ids))) for cls, criteria in _REGISTRY.items()
    )


SITE_COOKIE = "steristock_site"  # the pages' site switcher (docs/sites.md)
REQUEST_SESSION = "kernel.sites.session"


def bind_request(session: Session, scope: Any) -> None:
    """`kernel.db.REQUEST_SESSION_HOOKS`: bind the request's user to its session; pages
    also carry the site the switcher chose (the API narrows with `?site=` instead)."""
    user_id = request_user_id(scope)
    if user_id is None:
        return
    choice = None
    if not str(scope.get("path", "")).startswith("/api/"):
        choice = _cookie(scope, SITE_COOKIE)
        scope.setdefault("state", {})[REQUEST_SESSION] = session  # the page header reads it
    bind_user(session, user_id, choice)
    session.info[_CACHE] = request_cache(scope)


def _cookie(scope: Any, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return v[:40]
    return None


@contextmanager
def every_site(session: Session) -> Iterator[None]:
    """Lift the scope for the statements inside: a safety action that must reach every
    site (a recall pulls packs wherever they were sent). Only after the record that
    started it was found within the user's sites."""
    lifted = session.info.get(_LIFTED, 0)
    session.info[_LIFTED] = lifted + 1
    try:
        yield
    finally:
        session.info[_LIFTED] = lifted


def across_sites(fn: Callable[..., T]) -> Callable[..., T]:
    """`every_site` for a whole function whose first argument is the session."""

    @functools.wraps(fn)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> T:
        with every_site(session):
            return fn(session, *args, **kwargs)

    return wrapper


def site_visible(session: Session, site_id: int | None) -> bool:
    """For connection-level SQL that the query scope cannot see: may this session's
    user see a row of site `site_id`? (Always, outside a user's request.)"""
    scope = session_scope(session)
    return scope is None or scope.sees_everything or scope.allows(site_id)


def visible_site_ids(session: Session) -> list[int] | None:
    """The site ids a connection-level query must keep to; None means no filter."""
    scope = session_scope(session)
    if scope is None or scope.sees_everything:
        return None
    return sorted(scope.ids)


def narrow_session(session: Session, scope: SiteScope, code: str | None) -> SiteScope:
    """`?site=CODE`: the request's scope narrowed to that site, for the session's queries
    too (422 naming `site` when it is not one of the user's sites)."""
    narrowed = scope.narrow(code)
    if narrowed is not scope:
        set_session_scope(session, narrowed)
    return narrowed
