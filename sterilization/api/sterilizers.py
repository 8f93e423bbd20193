"""`/api/v1/sterilizers`: the sterilizers and their service status (changes are admin's)."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from sterilization import sterilizers
from sterilization.responses import sterilizer_out
from sterilization.schemas import SterilizerCreate, SterilizerOut, SterilizerStatusChange


class SterilizerController(Controller):
    path = "/api/v1/sterilizers"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Add a sterilizer (admin)")
    def create_sterilizer(
        self, data: SterilizerCreate, db_session: Session, me: CurrentUser
    ) -> SterilizerOut:
        s = sterilizers.create_sterilizer(
            db_session, code=data.code, name=data.name, kind=data.kind, actor=me.username
        )
        return sterilizer_out(s)

    @get("/", guards=[any_role], sync_to_thread=True, summary="Sterilizers")
    def list_sterilizers(self, db_session: Session, page: PageParams) -> Page[SterilizerOut]:
        return paginate(db_session, sterilizers.sterilizers_by_code(), page, sterilizer_out)

    @get("/{code:str}", guards=[any_role], sync_to_thread=True, summary="One sterilizer")
    def get_sterilizer(self, code: PathKey, db_session: Session) -> SterilizerOut:
        return sterilizer_out(sterilizers.get_sterilizer(db_session, code))

    @patch(
        "/{code:str}",
        guards=[admin_only],
        sync_to_thread=True,
        summary="Put a sterilizer in or out of service, with a reason (admin)",
    )
    def change_sterilizer_status(
        self, code: PathKey, data: SterilizerStatusChange, db_session: Session, me: CurrentUser
    ) -> SterilizerOut:
        s = sterilizers.change_status(
            db_session, code, status=data.status, reason=data.reason, actor=me.username
        )
        return sterilizer_out(s)
