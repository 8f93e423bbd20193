"""`/api/v1/locations`: the rooms and cupboards stock is kept in."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_queries, lookups
from inventory.api.params import PAGED
from inventory.responses import location_out
from inventory.roles import can_keep_catalogue, can_read
from inventory.schemas.catalogue import LocationCreate, LocationOut, LocationUpdate
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams
from kernel.sites import SiteScope


class LocationController(Controller):
    path = "/api/v1/locations"
    tags = ["inventory"]

    @post("/", guards=[can_keep_catalogue], sync_to_thread=True, summary="Add a location")
    def create_location(
        self, data: LocationCreate, db_session: Session, me: CurrentUser, sites: SiteScope
    ) -> LocationOut:
        site = sites.site_for_write(data.site)
        return location_out(
            catalogue.create_location(db_session, actor=me.username, data=data, site_id=site.id)
        )

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED, summary="Locations")
    def list_locations(self, db_session: Session, page: PageParams) -> Page[LocationOut]:
        rows, total = catalogue_queries.list_locations(
            db_session, limit=page.limit, offset=page.offset
        )
        return Page([location_out(loc) for loc in rows], total, page.limit, page.offset)

    @get("/{code:str}", guards=[can_read], sync_to_thread=True, summary="One location")
    def get_location(self, code: PathKey, db_session: Session) -> LocationOut:
        return location_out(lookups.get_location(db_session, code))

    @patch(
        "/{code:str}",
        guards=[can_keep_catalogue],
        sync_to_thread=True,
        summary="Rename or (de)activate a location",
    )
    def update_location(
        self, code: PathKey, data: LocationUpdate, db_session: Session, me: CurrentUser
    ) -> LocationOut:
        return location_out(
            catalogue.update_location(db_session, actor=me.username, code=code, data=data)
        )
