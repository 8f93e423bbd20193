"""`/api/v1/packs`: assembling packs, a scanned pack (is it safe to use, and why not), use
on an encounter, compromise, and a pack's history."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, delete, get, post
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import MAX_ID, PathKey
from kernel.pagination import Page, PageParams, provide_page_params
from kernel.reads import Reader, run_read
from kernel.sites import SiteScope
from sterilization import pack_scan, packs, trace, transfers
from sterilization.api.never_deleted import deletion_refused
from sterilization.guards import ma_or_admin
from sterilization.responses import pack_event_out, pack_out
from sterilization.schemas import (
    PackCompromise,
    PackCreate,
    PackEventOut,
    PackList,
    PackOut,
    PackStatus,
    PackTransfer,
    PackUse,
)
from sterilization.sets import counts

CycleId = Annotated[int | None, Parameter(ge=1, le=MAX_ID)]


class PackController(Controller):
    path = "/api/v1/packs"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post(
        "/",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Assemble packs (one per label), free text or counted against a set template",
    )
    def create_packs(
        self, data: PackCreate, db_session: Session, me: CurrentUser, clock: Clock, sites: SiteScope
    ) -> PackList:
        now = clock.now()
        site = sites.site_for_write(data.site)
        if data.set is not None or data.template is not None:
            codes = counts.assemble_counted_packs(
                db_session,
                set_code=data.set,
                template_code=data.template,
                counted=[(c.instrument, c.quantity) for c in data.counted]
                if data.counted is not None
                else None,
                accept_short_reason=data.accept_short.reason if data.accept_short else None,
                quantity=data.quantity,
                implant=data.implant,
                actor=me.username,
                now=now,
                free_text=data.description is not None or bool(data.contents),
                site_id=site.id,
            )
        else:
            codes = packs.create_packs(
                db_session,
                description=counts.free_text_description(data.description, data.counted),
                contents=[msgspec.to_builtins(c) for c in data.contents],
                quantity=data.quantity,
                implant=data.implant,
                actor=me.username,
                now=now,
                site_id=site.id,
            )
        views = packs.packs_with_codes(db_session, codes, zone=clock.zone, now=now)
        return PackList(items=[pack_out(v) for v in views])

    @get("/", guards=[any_role], sync_to_thread=True, summary="Packs")
    def list_packs(
        self,
        db_session: Session,
        page: PageParams,
        clock: Clock,
        status: PackStatus | None = None,
        cycle: CycleId = None,
    ) -> Page[PackOut]:
        views, total = packs.list_packs(
            db_session, zone=clock.zone, now=clock.now(), status=status, cycle_id=cycle,
            limit=page.limit, offset=page.offset,
        )  # fmt: skip
        return Page(
            items=[pack_out(v) for v in views], total=total, limit=page.limit, offset=page.offset
        )

    @get(
        "/{code:str}",
        guards=[any_role],
        summary="A scanned pack: is it safe to use, and why not",
    )
    async def get_pack(self, code: PathKey, reader: Reader, clock: Clock) -> PackOut:
        view = await run_read(reader, pack_scan.scan_pack_view, reader, code, now=clock.now())
        return pack_out(view)

    @post(
        "/{code:str}/use",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Record use on a patient encounter (409 with reasons if not usable)",
    )
    def use_pack(
        self, code: PathKey, data: PackUse, db_session: Session, me: CurrentUser, clock: Clock
    ) -> PackOut:
        now = clock.now()
        packs.use_pack(
            db_session, code, encounter_ref=data.encounter_ref, actor=me.username,
            zone=clock.zone, now=now,
        )  # fmt: skip
        return pack_out(packs.get_pack_view(db_session, code, zone=clock.zone, now=now))

    @post(
        "/{code:str}/compromise",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Mark a pack compromised (torn, wet, dropped)",
    )
    def compromise_pack(
        self,
        code: PathKey,
        data: PackCompromise,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> PackOut:
        now = clock.now()
        packs.compromise_pack(db_session, code, reason=data.reason, actor=me.username, now=now)
        return pack_out(packs.get_pack_view(db_session, code, zone=clock.zone, now=now))

    @post(
        "/{code:str}/transfer",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Send a pack to another of your sites (central sterile processing)",
        description=(
            "The pack moves to `to_site` (one of your sites) and its history gains a "
            "`transfer` event; loaded and used packs stay where they are (409)."
        ),
    )
    def transfer_pack(
        self,
        code: PathKey,
        data: PackTransfer,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        sites: SiteScope,
    ) -> PackOut:
        now = clock.now()
        to_site = sites.by_code(data.to_site, field="to_site")
        transfers.transfer_pack(db_session, code, to_site=to_site, actor=me.username, now=now)
        return pack_out(packs.get_pack_view(db_session, code, zone=clock.zone, now=now))

    @get(
        "/{code:str}/history",
        guards=[any_role],
        sync_to_thread=True,
        summary="Every event of a pack, in order, with its cycle's indicator results",
    )
    def get_pack_history(
        self, code: PathKey, db_session: Session, page: PageParams
    ) -> Page[PackEventOut]:
        events, total = trace.pack_history(db_session, code, limit=page.limit, offset=page.offset)
        return Page(
            items=[pack_event_out(e) for e in events],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )

    @delete(
        "/{code:str}",
        guards=[any_role],
        include_in_schema=False,
        status_code=405,
        sync_to_thread=False,
    )
    def delete_pack(self, code: PathKey) -> None:
        raise deletion_refused("Packs")
