"""The audit trail as CSV (admin and auditor), streamed in batches.

Each row carries the entry exactly as it was hashed (the `before`/`after` JSON text, the
time to the microsecond), so anyone can recompute the chain from the file alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from litestar import get
from litestar.datastructures import State
from litestar.response import Stream
from sqlalchemy import select

from kernel.audit.anchors import anchor_text, current_anchor
from kernel.audit.models import AuditEntry
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.clock import Clock
from kernel.csv_export import MEDIA_TYPE, csv_chunks
from kernel.db import Database
from kernel.fields import FromParam, QueryText
from kernel.periods import Period, parse_period

AUDIT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "prev_hash",
    "hash",
)
BATCH = 5000
ANCHOR_HEADER = "X-Audit-Anchor"


def audit_filters(
    *,
    period: Period,
    entity: str | None,
    entity_id: str | None,
    actor: str | None,
) -> list[Any]:
    """The same filters as `GET /api/v1/audit`."""
    conditions: list[Any] = period.where(AuditEntry.at)
    if entity:
        conditions.append(AuditEntry.entity == entity)
    if entity_id:
        conditions.append(AuditEntry.entity_id == entity_id)
    if actor:
        conditions.append(AuditEntry.actor == actor)
    return conditions


def audit_rows(
    db: Database, conditions: list[Any], tz: dt.tzinfo, *, batch: int = BATCH
) -> Iterator[tuple[Any, ...]]:
    """Oldest first, keyset by sequence number inside one read transaction."""
    last = 0
    with db.session(write=False) as session:
        while True:
            rows = session.execute(
                select(
                    AuditEntry.seq,
                    AuditEntry.at,
                    AuditEntry.actor,
                    AuditEntry.action,
                    AuditEntry.entity,
                    AuditEntry.entity_id,
                    AuditEntry.before,
                    AuditEntry.after,
                    AuditEntry.prev_hash,
                    AuditEntry.hash,
                )
                .where(AuditEntry.seq > last, *conditions)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).all()
            for seq, at, *rest in rows:
                yield (seq, at.astimezone(tz).isoformat(), *rest)
            if len(rows) < batch:
                return
            last = rows[-1][0]


def audit_csv_chunks(
    db: Database, conditions: list[Any], tz: dt.tzinfo, *, batch: int = BATCH
) -> Iterator[str]:
    """The CSV text, one chunk per batch. Text cells a spreadsheet would run as a formula
    start with `'` (`kernel.csv_export.undefuse` before recomputing a hash)."""
    return csv_chunks(AUDIT_COLUMNS, audit_rows(db, conditions, tz, batch=batch), chunk_rows=batch)


@get(
    "/api/v1/audit.csv",
    guards=[requires_role(Role.AUDITOR)],
    sync_to_thread=False,
    tags=["audit"],
    media_type="text/csv",
    summary="The audit trail as CSV, oldest first (same filters as the list)",
)
def download_audit_csv(
    state: State,
    clock: Clock,
    from_: FromParam = None,
    to: QueryText(40) = None,
    entity: QueryText(64) = None,
    entity_id: QueryText(128) = None,
    actor: QueryText(64) = None,
) -> Stream:
    period = parse_period(from_, to, clock.zone)
    conditions = audit_filters(period=period, entity=entity, entity_id=entity_id, actor=actor)
    name = f"audit-trail-{clock.today()}.csv"
    with state.db.session(write=False) as session:
        anchor = anchor_text(current_anchor(session))
    return Stream(
        audit_csv_chunks(state.db, conditions, clock.tz),
        media_type=MEDIA_TYPE,
        # The signed heads as of this download: the auditor's copy is an anchor
        # (docs/tamper_evidence.md), checkable later with `audit verify --anchors`.
        headers={"Content-Disposition": f'attachment; filename="{name}"', ANCHOR_HEADER: anchor},
    )


__all__ = ["AUDIT_COLUMNS", "audit_csv_chunks", "audit_filters", "download_audit_csv"]
