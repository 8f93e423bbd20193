"""HTTP handlers for sites (admin) and the `sites` request dependency."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from kernel.sites import service
from kernel.sites.models import Site
from kernel.sites.query_scope import bind_user, session_scope
from kernel.sites.schemas import SiteCreate, SiteOut
from kernel.sites.scope import SiteScope


def site_out(site: Site) -> SiteOut:
    return SiteOut(
        code=site.code, name=site.name, timezone=site.timezone, created_at=site.created_at
    )


def provide_site_scope(db_session: Session, me: CurrentUser) -> SiteScope:
    """The `sites` dependency: the calling user's sites, the same scope the session's
    queries are filtered by (docs/sites.md)."""
    scope = session_scope(db_session)
    if scope is None:  # a session made outside the request's dependency
        bind_user(db_session, me.id)
        scope = session_scope(db_session)
    assert scope is not None
    return scope


class SiteController(Controller):
    path = "/api/v1/sites"
    tags = ["sites"]
    guards = [admin_only]

    @post("/", sync_to_thread=True, summary="Create a site (admin)")
    def create_site(self, data: SiteCreate, db_session: Session, me: CurrentUser) -> SiteOut:
        site = service.create_site(
            db_session, actor=me.username, code=data.code, name=data.name, timezone=data.timezone
        )
        return site_out(site)

    @get(
        "/",
        sync_to_thread=True,
        dependencies={"page": Provide(provide_page_params, sync_to_thread=False)},
        summary="List the sites of the group (admin)",
    )
    def list_sites(self, db_session: Session, page: PageParams) -> Page[SiteOut]:
        return paginate(db_session, select(Site).order_by(Site.code), page, site_out)

    @get("/{code:str}", sync_to_thread=True, summary="One site (admin)")
    def get_site(self, code: PathKey, db_session: Session) -> SiteOut:
        return site_out(service.get_site(db_session, code))
