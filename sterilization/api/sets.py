"""`/api/v1/sets`: reusable trays and cassettes, their packs, and the encounters they met."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import PathKey, QueryText
from kernel.labels import set_label_png, set_label_svg
from kernel.labels.responses import PNG, SVG, filename, label_response, render
from kernel.pagination import Page, PageParams, provide_page_params
from kernel.sites import SiteScope
from sterilization.api.labels import FormatParam
from sterilization.guards import ma_or_admin
from sterilization.sets import assets
from sterilization.sets.responses import set_encounter_out, set_out
from sterilization.sets.schemas import SetCreate, SetEncounterOut, SetOut


class SetController(Controller):
    path = "/api/v1/sets"
    tags = ["instrument sets"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[ma_or_admin], sync_to_thread=True, summary="A new tray or cassette")
    def create_set(
        self,
        data: SetCreate,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        state: State,
        sites: SiteScope,
    ) -> SetOut:
        asset = assets.create_set(
            db_session,
            template=data.template,
            actor=me.username,
            now=clock.now(),
            site_id=sites.site_for_write(data.site).id,
        )
        return set_out(assets.get_set_view(db_session, asset.code), state.settings.public_url)

    @get("/", guards=[any_role], sync_to_thread=True, summary="Trays and cassettes")
    def list_sets(
        self,
        db_session: Session,
        page: PageParams,
        state: State,
        template: QueryText(40) = None,
    ) -> Page[SetOut]:
        views, total = assets.list_sets(
            db_session, template=template, limit=page.limit, offset=page.offset
        )
        url = state.settings.public_url
        return Page(
            items=[set_out(v, url) for v in views], total=total, limit=page.limit,
            offset=page.offset,
        )  # fmt: skip

    @get(
        "/{code:str}",
        guards=[any_role],
        sync_to_thread=True,
        summary="A tray: its template, the pack it is in, its packs and uses",
    )
    def get_set(self, code: PathKey, db_session: Session, state: State) -> SetOut:
        return set_out(assets.get_set_view(db_session, code), state.settings.public_url)

    @get(
        "/{code:str}/encounters",
        guards=[any_role],
        sync_to_thread=True,
        summary="Every encounter the tray's packs were opened for",
    )
    def list_set_encounters(
        self, code: PathKey, db_session: Session, page: PageParams
    ) -> Page[SetEncounterOut]:
        lines, total = assets.set_encounters(db_session, code, limit=page.limit, offset=page.offset)
        return Page(
            items=[set_encounter_out(ln) for ln in lines], total=total, limit=page.limit,
            offset=page.offset,
        )  # fmt: skip

    @get(
        "/{code:str}/label.png",
        guards=[any_role],
        sync_to_thread=True,
        media_type=PNG,
        tags=["labels"],
        summary="A tray's permanent label as PNG: QR of /s/{code}, its name and set",
    )
    def download_set_label_png(
        self, code: PathKey, db_session: Session, state: State, format: FormatParam = "letter"
    ) -> Response[bytes]:
        label = assets.set_label(db_session, code)
        body = render(lambda: set_label_png(label, state.settings.public_url, format=format))
        return label_response(body, PNG, filename(label.code, ext="png"))

    @get(
        "/{code:str}/label.svg",
        guards=[any_role],
        sync_to_thread=True,
        media_type=SVG,
        tags=["labels"],
        summary="A tray's permanent label as SVG",
    )
    def download_set_label_svg(
        self, code: PathKey, db_session: Session, state: State, format: FormatParam = "letter"
    ) -> Response[bytes]:
        label = assets.set_label(db_session, code)
        body = render(lambda: set_label_svg(label, state.settings.public_url, format=format))
        return label_response(body, SVG, filename(label.code, ext="svg"))
