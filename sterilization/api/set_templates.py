"""`/api/v1/set-templates`: count sheets in versions. `PUT` writes a new version; earlier
versions stay readable under `/versions/{version}`."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, provide_page_params
from kernel.problems import InvalidInput
from sterilization.guards import ma_or_admin
from sterilization.sets import templates
from sterilization.sets.responses import template_out
from sterilization.sets.schemas import SetTemplateCreate, SetTemplateOut, SetTemplateRevise

VersionNumber = Annotated[int, Parameter(ge=1, le=1_000_000)]


class SetTemplateController(Controller):
    path = "/api/v1/set-templates"
    tags = ["instrument sets"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[ma_or_admin], sync_to_thread=True, summary="A new count sheet (version 1)")
    def create_set_template(
        self, data: SetTemplateCreate, db_session: Session, me: CurrentUser, clock: Clock
    ) -> SetTemplateOut:
        view = templates.create_template(
            db_session, code=data.code, name=data.name, packaging=data.packaging,
            shelf_life_days=data.shelf_life_days,
            items=[(i.instrument, i.quantity) for i in data.items], actor=me.username,
            now=clock.now(),
        )  # fmt: skip
        return template_out(view)

    @get("/", guards=[any_role], sync_to_thread=True, summary="Count sheets (current versions)")
    def list_set_templates(self, db_session: Session, page: PageParams) -> Page[SetTemplateOut]:
        views, total = templates.list_templates(db_session, limit=page.limit, offset=page.offset)
        return Page(
            items=[template_out(v) for v in views], total=total, limit=page.limit,
            offset=page.offset,
        )  # fmt: skip

    @get("/{code:str}", guards=[any_role], sync_to_thread=True, summary="A count sheet as it is")
    def get_set_template(self, code: PathKey, db_session: Session) -> SetTemplateOut:
        return template_out(templates.get_template_view(db_session, code))

    @put(
        "/{code:str}",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Change a count sheet: writes a new version (the same content writes nothing)",
    )
    def update_set_template(
        self,
        code: PathKey,
        data: SetTemplateRevise,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> SetTemplateOut:
        if data.code is not None and data.code != code:
            raise InvalidInput.for_field(
                "code", f"The body's code {data.code!r} is not the template in the path.",
                message="does not match the path",
            )  # fmt: skip
        view, _created = templates.revise_template(
            db_session, code, name=data.name, packaging=data.packaging,
            shelf_life_days=data.shelf_life_days,
            items=[(i.instrument, i.quantity) for i in data.items], actor=me.username,
            now=clock.now(),
        )  # fmt: skip
        return template_out(view)

    @get(
        "/{code:str}/versions",
        guards=[any_role],
        sync_to_thread=True,
        summary="Every version of a count sheet, oldest first",
    )
    def list_set_template_versions(
        self, code: PathKey, db_session: Session
    ) -> Page[SetTemplateOut]:
        views = templates.list_versions(db_session, code)
        return Page(
            items=[template_out(v) for v in views], total=len(views), limit=len(views), offset=0
        )

    @get(
        "/{code:str}/versions/{version:int}",
        guards=[any_role],
        sync_to_thread=True,
        summary="A count sheet as it was at one version",
    )
    def get_set_template_version(
        self, code: PathKey, version: VersionNumber, db_session: Session
    ) -> SetTemplateOut:
        return template_out(templates.get_template_view(db_session, code, version))
