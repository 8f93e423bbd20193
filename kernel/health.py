"""`GET /health`: is the database reachable and migrated to the head? No auth needed."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.datastructures import State

from kernel.db import Database
from kernel.migrations import current_heads, script_heads


class MigrationStatus(msgspec.Struct):
    current: list[str]
    head: list[str]
    up_to_date: bool


class Health(msgspec.Struct):
    status: str
    database: str
    migrations: MigrationStatus | None = None
    version: str = ""


def check_health(db: Database) -> Health:
    from kernel import __version__

    heads = sorted(script_heads())
    try:
        with db.engine.connect() as conn:  # reading the version table proves it answers
            current = sorted(current_heads(conn))
    except Exception:
        return Health(status="error", database="unreachable", version=__version__)
    migrations = MigrationStatus(current=current, head=heads, up_to_date=current == heads)
    return Health(
        status="ok" if migrations.up_to_date else "error",
        database=db.engine.dialect.name,
        migrations=migrations,
        version=__version__,
    )


@get("/health", sync_to_thread=True, opt={"exclude_from_auth": True}, tags=["health"])
def get_health(state: State) -> Response[Health]:
    """Liveness and readiness: 200 when the database answers and is migrated, else 503."""
    result = check_health(state.db)
    return Response(result, status_code=200 if result.status == "ok" else 503)
