"""`/api/v1/cycle-types`: the built-in cycle types and those an administrator configures."""

from __future__ import annotations

from litestar import Controller, get, post
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.pagination import Page
from sterilization import cycle_types
from sterilization.responses import cycle_type_out
from sterilization.schemas import CycleTypeCreate, CycleTypeOut


class CycleTypeController(Controller):
    path = "/api/v1/cycle-types"
    tags = ["sterilization"]

    @get("/", guards=[any_role], sync_to_thread=True, summary="Cycle types and their minimums")
    def list_cycle_types(self, db_session: Session) -> Page[CycleTypeOut]:
        rules = cycle_types.list_cycle_types(db_session)
        return Page(
            items=[cycle_type_out(r) for r in rules], total=len(rules), limit=len(rules), offset=0
        )

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Configure a cycle type (admin)")
    def create_cycle_type(
        self, data: CycleTypeCreate, db_session: Session, me: CurrentUser
    ) -> CycleTypeOut:
        rule = cycle_types.create_cycle_type(
            db_session,
            code=data.code,
            name=data.name,
            min_temperature_c=data.min_temperature_c,
            min_exposure_minutes=data.min_exposure_minutes,
            sterilizer_kinds=list(data.sterilizer_kinds),
            actor=me.username,
        )
        return cycle_type_out(rule)
