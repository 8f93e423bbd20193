"""Reading and verifying the audit trail (admin and auditor)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, get
from litestar.di import Provide
from litestar.params import QueryParameter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steristock.audit.models import AuditEntry
from steristock.audit.service import verify_chain
from steristock.auth.guards import requires_role
from steristock.auth.models import Role
from steristock.fields import QueryText
from steristock.pagination import Page, PageParams, provide_page_params

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
    ok: bool
    entries: int
    head: str
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
    def list_entries(
        self,
        db_session: Session,
        page: PageParams,
        from_: Annotated[dt.datetime | None, QueryParameter(name="from")] = None,
        to: dt.datetime | None = None,
        entity: QueryText(64) = None,
        entity_id: QueryText(128) = None,
        actor: QueryText(64) = None,
    ) -> Page[AuditEntryOut]:
        conditions = []
        if from_ is not None:
            conditions.append(AuditEntry.at >= _aware(from_))
        if to is not None:
            conditions.append(AuditEntry.at <= _aware(to))
        if entity:
            conditions.append(AuditEntry.entity == entity)
        if entity_id:
            conditions.append(AuditEntry.entity_id == entity_id)
        if actor:
            conditions.append(AuditEntry.actor == actor)
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

    @get("/verify", sync_to_thread=True, summary="Recompute the hash chain")
    def verify(self, db_session: Session) -> ChainStatus:
        report = verify_chain(db_session)
        return ChainStatus(
            ok=report.ok,
            entries=report.entries,
            head=report.head,
            first_bad_entry=report.first_bad_entry,
            problem=report.problem,
        )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
