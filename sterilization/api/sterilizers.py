"""`/api/v1/sterilizers`: the sterilizers and their service status (changes are admin's)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from sterilization import sterilizers
from sterilization.responses import sterilizer_out
from sterilization.schemas import SterilizerCreate, SterilizerOut, SterilizerUpdate


class SterilizerController(Controller):
    path = "/api/v1/sterilizers"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Add a sterilizer (admin)")
    def create_sterilizer(
        self, data: SterilizerCreate, db_session: Session, me: CurrentUser
    ) -> SterilizerOut:
        s = sterilizers.create_sterilizer(
            db_session,
            code=data.code,
            name=data.name,
            kind=data.kind,
            manufacturer=data.manufacturer,
            model=data.model,
            serial_number=data.serial_number,
            bi_frequency=data.bi_frequency,
            actor=me.username,
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
        summary="Change a sterilizer's details or BI cadence, or put it in or out of service "
        "with a reason (admin)",
    )
    def update_sterilizer(
        self, code: PathKey, data: SterilizerUpdate, db_session: Session, me: CurrentUser
    ) -> SterilizerOut:
        changes = {
            key: value
            for key in sterilizers.IDENTITY_FIELDS
            if (value := getattr(data, key)) is not msgspec.UNSET
            and (value is not None or key not in ("name", "bi_frequency"))
        }
        s = sterilizers.update_sterilizer(
            db_session,
            code,
            changes=changes,
            status=data.status,
            reason=data.reason,
            actor=me.username,
        )
        return sterilizer_out(s)
