"""`/api/v1/sterilizers`: the sterilizers and their service status (changes are admin's)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get, patch, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from kernel.sites import SiteScope
from sterilization import requalification, sterilizers
from sterilization.responses import sterilizer_out
from sterilization.schemas import SterilizerCreate, SterilizerOut, SterilizerUpdate


class SterilizerController(Controller):
    path = "/api/v1/sterilizers"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Add a sterilizer (admin)")
    def create_sterilizer(
        self, data: SterilizerCreate, db_session: Session, me: CurrentUser, sites: SiteScope
    ) -> SterilizerOut:
        site = sites.site_for_write(data.site)
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
            site_id=site.id,
        )
        return sterilizer_out(s)

    @get("/", guards=[any_role], sync_to_thread=True, summary="Sterilizers")
    def list_sterilizers(self, db_session: Session, page: PageParams) -> Page[SterilizerOut]:
        return paginate(
            db_session,
            sterilizers.sterilizers_by_code(),
            page,
            lambda s: sterilizer_out(s, requalification.progress(db_session, s)),
        )

    @get("/{code:str}", guards=[any_role], sync_to_thread=True, summary="One sterilizer")
    def get_sterilizer(self, code: PathKey, db_session: Session) -> SterilizerOut:
        s = sterilizers.get_sterilizer(db_session, code)
        return sterilizer_out(s, requalification.progress(db_session, s))

    @patch(
        "/{code:str}",
        guards=[admin_only],
        sync_to_thread=True,
        summary="Change a sterilizer's details or BI cadence, or put it in or out of service "
        "with a reason (admin)",
    )
    def update_sterilizer(
        self,
        code: PathKey,
        data: SterilizerUpdate,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> SterilizerOut:
        changes = {
            key: value
            for key in sterilizers.IDENTITY_FIELDS
            if (value := getattr(data, key)) is not msgspec.UNSET
            and (value is not None or key not in ("name", "bi_frequency"))
        }
        if data.requalify and data.status is None:
            data = msgspec.structs.replace(data, status="out_of_service")
        s = sterilizers.update_sterilizer(
            db_session,
            code,
            changes=changes,
            status=data.status,
            reason=data.reason,
            requalify=data.requalify,
            actor=me.username,
            now=clock.now(),
        )
        return sterilizer_out(s, requalification.progress(db_session, s))
