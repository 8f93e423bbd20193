"""`GET/PUT /api/v1/items/{sku}/par-levels/{location_code}`: an item's par level at a
location."""

from __future__ import annotations

from litestar import Controller, get, put
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_queries
from inventory.roles import can_keep_catalogue, can_read
from inventory.schemas.catalogue import ParLevelOut, ParLevelSet
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey


class ParLevelController(Controller):
    path = "/api/v1/items/{sku:str}/par-levels"
    tags = ["inventory"]

    @get("/{location_code:str}", guards=[can_read], sync_to_thread=True,
         summary="An item's par level at a location")  # fmt: skip
    def get_par_level(
        self, sku: PathKey, location_code: PathKey, db_session: Session
    ) -> ParLevelOut:
        return catalogue_queries.get_par_level(db_session, sku, location_code)

    @put(
        "/{location_code:str}",
        guards=[can_keep_catalogue],
        sync_to_thread=True,
        summary="Set an item's par level (and reorder point) at a location",
        description="The reorder point defaults to half the par level, rounded up.",
    )
    def set_par_level(
        self,
        sku: PathKey,
        location_code: PathKey,
        data: ParLevelSet,
        db_session: Session,
        me: CurrentUser,
    ) -> ParLevelOut:
        return catalogue.set_par_level(
            db_session,
            actor=me.username,
            sku=sku,
            location_code=location_code,
            par_level=data.par_level,
            reorder_point=data.reorder_point,
        )
