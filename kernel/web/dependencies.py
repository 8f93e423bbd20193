"""Dependencies resolved one after another instead of in an anyio task group.

Litestar resolves the dependencies of one level of the graph concurrently (a task group
per request when a handler takes two or more, e.g. `db_session`, `me` and `clock`).
SteriStock's dependencies do no I/O while being provided (the session connects lazily in
the handler's thread), so the concurrency buys nothing, and the task group was about a
sixth of the per-request cost of `GET /api/v1/users/me` (docs/benchmarks.md, issue 22).
Resolving them in order gives the same values and the same first error.
"""

from __future__ import annotations

from typing import Any

from litestar._kwargs.cleanup import DependencyCleanupGroup
from litestar._kwargs.dependencies import resolve_dependency
from litestar._kwargs.kwargs_model import KwargsModel
from litestar.connection import ASGIConnection


async def resolve_dependencies_in_order(
    self: KwargsModel, connection: ASGIConnection[Any, Any, Any, Any], kwargs: dict[str, Any]
) -> DependencyCleanupGroup:
    cleanup_group = DependencyCleanupGroup()
    for batch in self.dependency_batches:
        for dependency in batch:
            await resolve_dependency(dependency, connection, kwargs, cleanup_group)
    return cleanup_group


def resolve_dependencies_sequentially() -> None:
    """Install the in-order resolution (idempotent; the kernel plugin calls it)."""
    KwargsModel.resolve_dependencies = resolve_dependencies_in_order  # type: ignore[method-assign]
