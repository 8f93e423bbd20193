"""`/api/v1/encounters/{ref}/packs`: tracing back from a patient encounter."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.clock import Clock
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, provide_page_params
from sterilization import packs
from sterilization.responses import pack_out
from sterilization.schemas import PackOut


class EncounterController(Controller):
    path = "/api/v1/encounters"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @get(
        "/{ref:str}/packs",
        guards=[any_role],
        sync_to_thread=True,
        summary="Trace an encounter: the packs used, each with its cycle",
    )
    def list_encounter_packs(
        self, ref: PathKey, db_session: Session, page: PageParams, clock: Clock
    ) -> Page[PackOut]:
        views, total = packs.packs_used_on(
            db_session, ref, zone=clock.zone, now=clock.now(), limit=page.limit,
            offset=page.offset,
        )  # fmt: skip
        return Page(
            items=[pack_out(v) for v in views], total=total, limit=page.limit, offset=page.offset
        )
