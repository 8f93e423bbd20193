"""Litestar guards for the four roles. Admin may do everything."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.problems import NotAuthenticated, PermissionDenied


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    user = connection.scope.get("user")
    if not isinstance(user, CurrentUser):
        raise NotAuthenticated()
    return user


def requires_role(*roles: Role) -> Guard:
    """A guard that admits admins plus the given roles."""
    allowed = frozenset({Role.ADMIN, *roles})
    names = ", ".join(sorted(r.value for r in allowed))

    # A coroutine: Litestar runs a plain function guard in a worker thread, a thread hop
    # on every request for a check of one attribute.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user.role not in allowed:
            raise PermissionDenied(
                f"Your role ({user.role.value}) may not do this; it needs one of: {names}."
            )

    guard.__name__ = f"requires_{'_or_'.join(sorted(r.value for r in allowed))}"
    guard.allowed_roles = allowed  # type: ignore[attr-defined]
    return guard


admin_only = requires_role()
any_role = requires_role(Role.MA, Role.PURCHASING, Role.AUDITOR)
