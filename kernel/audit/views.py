"""Reading and verifying the audit trail (admin and auditor)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.audit.anchors import anchor_log, current_anchor, verify_all
from kernel.audit.export import audit_filters
from kernel.audit.models import AuditEntry
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.clock import Clock
from kernel.fields import FromParam, QueryText
from kernel.pagination import Page, PageParams, provide_page_params
from kernel.periods import parse_period

auditors = requires_role(Role.AUDITOR)


class AuditEntryOut(msgspec.Struct):
    seq: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class ChainStatus(msgspec.Struct, omit_defaults=True):
    """`ok` covers the audit chain, every record seal and the anchor log; `problems` name
    the table and row of each finding; `anchor` is the current signed heads (keep it)."""

    ok: bool
    entries: int
    head: str
    seals: int = 0
    evidence_rows: int = 0
    anchors: int = 0
    problems: list[str] = []
    anchor: dict[str, Any] | None = None
    first_bad_entry: int | None = None
    problem: str | None = None


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        before=msgspec.json.decode(entry.before) if entry.before else None,
        after=msgspec.json.decode(entry.after) if entry.after else None,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [auditors]

    @get(
        "/",
        sync_to_thread=True,
        dependencies={"page": Provide(provide_page_params, sync_to_thread=False)},
        summary="Audit trail, newest first",
    )
    def list_audit_entries(
        self,
        db_session: Session,
        page: PageParams,
        clock: Clock,
        from_: FromParam = None,
        to: QueryText(40) = None,
        entity: QueryText(64) = None,
        entity_id: QueryText(128) = None,
        actor: QueryText(64) = None,
    ) -> Page[AuditEntryOut]:
        """`from`/`to`: a date (whole clinic days, `to` included) or a date-time with offset."""
        conditions = audit_filters(
            period=parse_period(from_, to, clock.zone),
            entity=entity,
            entity_id=entity_id,
            actor=actor,
        )
        total = db_session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
        rows = db_session.scalars(
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.seq.desc())  # type: ignore[attr-defined]
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page(
            items=[entry_out(e) for e in rows],
            total=total or 0,
            limit=page.limit,
            offset=page.offset,
        )

    @get("/verify", sync_to_thread=True, summary="Verify the audit chain and every record seal")
    def verify_audit_chain(self, db_session: Session, state: State) -> ChainStatus:
        result = verify_all(db_session, anchor_log(state.settings))
        report = result.chain
        return ChainStatus(
            ok=result.ok,
            entries=report.entries,
            head=report.head,
            seals=result.records.seals,
            evidence_rows=result.records.rows,
            anchors=result.anchors,
            problems=result.problems(),
            anchor=current_anchor(db_session) if result.ok else None,
            first_bad_entry=report.first_bad_entry,
            problem=report.problem,
        )
