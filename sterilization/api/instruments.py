"""`/api/v1/instruments`: the instrument catalogue count sheets are built from."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from sterilization.guards import ma_or_admin
from sterilization.sets import instruments
from sterilization.sets.responses import instrument_out
from sterilization.sets.schemas import InstrumentCreate, InstrumentOut


class InstrumentController(Controller):
    path = "/api/v1/instruments"
    tags = ["instrument sets"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[ma_or_admin], sync_to_thread=True, summary="Add an instrument")
    def create_instrument(
        self, data: InstrumentCreate, db_session: Session, me: CurrentUser
    ) -> InstrumentOut:
        return instrument_out(
            instruments.create_instrument(
                db_session,
                code=data.code,
                name=data.name,
                manufacturer=data.manufacturer,
                catalog_number=data.catalog_number,
                actor=me.username,
            )
        )

    @get("/", guards=[any_role], sync_to_thread=True, summary="The instrument catalogue")
    def list_instruments(self, db_session: Session, page: PageParams) -> Page[InstrumentOut]:
        return paginate(db_session, instruments.instruments_by_code(), page, instrument_out)

    @get("/{code:str}", guards=[any_role], sync_to_thread=True, summary="One instrument")
    def get_instrument(self, code: PathKey, db_session: Session) -> InstrumentOut:
        return instrument_out(instruments.get_instrument(db_session, code))
