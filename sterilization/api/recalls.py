"""`/api/v1/recalls`: recalls after a positive spore test, and their resolution (admin)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import RowId
from kernel.pagination import Page, PageParams, provide_page_params
from sterilization import recalls
from sterilization.responses import recall_detail_out, recall_row_out
from sterilization.schemas import RecallDetail, RecallResolve, RecallRow, RecallStatus
from sterilization.sets import assets
from sterilization.shelf_life import ShelfLife


def recall_detail(session: Session, recall_id: int) -> RecallDetail:
    line = recalls.recall_line(session, recall_id)
    packs = recalls.recall_packs(session, recall_id)
    trays = assets.sets_in_packs(session, [p.id for p, _, _ in packs if p.set_id is not None])
    return recall_detail_out(line, packs, trays)


class RecallController(Controller):
    path = "/api/v1/recalls"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @get("/", guards=[any_role], sync_to_thread=True, summary="Recalls")
    def list_recalls(
        self, db_session: Session, page: PageParams, status: RecallStatus | None = None
    ) -> Page[RecallRow]:
        lines, total = recalls.list_recalls(
            db_session, status=status, limit=page.limit, offset=page.offset
        )
        return Page(
            items=[recall_row_out(line) for line in lines],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )

    @get("/{recall_id:int}", guards=[any_role], sync_to_thread=True, summary="A recall and packs")
    def get_recall(self, recall_id: RowId, db_session: Session) -> RecallDetail:
        return recall_detail(db_session, recall_id)

    @post(
        "/{recall_id:int}/resolve",
        guards=[admin_only],
        sync_to_thread=True,
        status_code=200,
        summary="Resolve a recall as confirmed or released (admin)",
    )
    def resolve_recall(
        self,
        recall_id: RowId,
        data: RecallResolve,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        shelf_life: ShelfLife,
    ) -> RecallDetail:
        recalls.resolve_recall(
            db_session,
            recall_id,
            resolution=data.resolution,
            reason=data.reason.strip(),
            actor=me.username,
            zone=clock.zone,
            shelf_life=shelf_life,
            now=clock.now(),
        )
        return recall_detail(db_session, recall_id)
