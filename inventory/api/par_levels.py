"""`PUT /api/v1/items/{sku}/par-levels/{location_code}`: an item's par level at a location."""

from __future__ import annotations

from litestar import Controller, put
from sqlalchemy.orm import Session

from inventory import catalogue
from inventory.roles import can_keep_catalogue
from inventory.schemas.catalogue import ParLevelOut, ParLevelSet
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey


class ParLevelController(Controller):
    path = "/api/v1/items/{sku:str}/par-levels"
    tags = ["inventory"]

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
