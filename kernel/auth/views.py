"""HTTP handlers for tokens and users; thin wrappers over `kernel.auth.service`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.auth import competencies, service
from kernel.auth.guards import admin_only, current_user, requires_role
from kernel.auth.models import Role, User, UserCompetency
from kernel.auth.schemas import (
    CompetencyIn,
    CompetencyOut,
    TokenRequest,
    TokenResponse,
    TokenUser,
    UserCreate,
    UserOut,
    UserUpdate,
)
from kernel.auth.service import CurrentUser
from kernel.auth.token_cache import recall_or_load
from kernel.clock import Clock
from kernel.db import Database
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from kernel.problems import NotAuthenticated
from kernel.settings import Settings
from kernel.sites.service import user_site_codes


def competency_out(c: UserCompetency, username: str, today: dt.date) -> CompetencyOut:
    return CompetencyOut(
        id=c.id,  # type: ignore[arg-type]
        username=username,
        skill=c.skill,
        granted_on=c.granted_on,
        expires_on=c.expires_on,
        current=c.granted_on <= today and (c.expires_on is None or c.expires_on >= today),
        evidence=c.evidence,
        recorded_by=c.recorded_by,
        recorded_at=c.recorded_at,
    )


def user_out(user: User | Any, sites: list[str]) -> UserOut:
    """A user's public view, from an ORM `User` or a row with the same columns."""
    return UserOut(
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        active=user.active,
        created_at=user.created_at,
        sites=sites,
        all_sites=user.all_sites,
        email=user.email,
    )


def user_out_of(session: Session) -> Callable[[User], UserOut]:
    """`user_out` with the user's site codes read from `session`."""
    return lambda user: user_out(user, user_site_codes(session, user.id))  # type: ignore[arg-type]


def my_profile(db: Database, user_id: int) -> UserOut:
    with db.session(write=False) as session:
        return user_out(service.user_profile(session, user_id), user_site_codes(session, user_id))


def provide_current_user(request: Request[Any, Any, Any]) -> CurrentUser:
    return current_user(request)


def client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/token",
        opt={"exclude_from_auth": True, "problems": [429]},
        sync_to_thread=True,
        status_code=200,
        summary="Log in and get a bearer token",
    )
    def create_token(
        self, data: TokenRequest, db_session: Session, request: Request[Any, Any, Any], state: State
    ) -> TokenResponse:
        settings: Settings = state.settings
        username = service.normalize_username(data.username)
        client = client_address(request)
        service.check_login_throttle(
            db_session,
            username=username,
            client=client,
            max_failures=settings.login_max_failures,
            client_max_failures=settings.login_client_max_failures,
            window=dt.timedelta(minutes=settings.login_window_minutes),
        )
        try:
            user = service.authenticate(db_session, username=username, password=data.password)
        except NotAuthenticated:
            # The 401 rolls the request back, so the failure that feeds the throttle is
            # committed here first (in this session: a second one would wait on SQLite's
            # write lock that this one holds).
            db_session.rollback()
            service.record_login_failure(db_session, username=username, client=client)
            db_session.commit()
            raise
        token, row = service.issue_token(
            db_session,
            user,
            ttl=dt.timedelta(minutes=settings.token_ttl_minutes),
            client=client,
        )
        return TokenResponse(
            access_token=token,
            token_type="bearer",  # noqa: S106 (the OAuth token type, not a secret)
            expires_at=row.expires_at,
            user=TokenUser(username=user.username, role=Role(user.role)),
        )

    @post("/logout", sync_to_thread=True, status_code=204, summary="Revoke the current token")
    def revoke_token(self, db_session: Session, me: CurrentUser) -> None:
        service.revoke_token(db_session, actor=me.username, token_hash=me.token_hash)


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]

    @get("/me", summary="The calling user")
    async def get_current_user(self, request: Request[Any, Any, Any], me: CurrentUser) -> UserOut:
        """Remembered per worker under the auth generation, which every change to the
        user's columns or sites bumps: a repeated call reads nothing but the generation."""
        db = request.app.state.db
        return await recall_or_load(
            request.scope, ("profile", me.id), lambda: my_profile(db, me.id)
        )

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Create a user (admin)")
    def create_user(self, data: UserCreate, db_session: Session, me: CurrentUser) -> UserOut:
        user = service.create_user(
            db_session,
            actor=me.username,
            username=data.username,
            role=data.role,
            password=data.password,
            full_name=data.full_name,
            email=data.email,
            sites=data.sites,
            all_sites=data.all_sites,
        )
        return user_out_of(db_session)(user)

    @get(
        "/",
        guards=[admin_only],
        sync_to_thread=True,
        dependencies={"page": Provide(provide_page_params, sync_to_thread=False)},
        summary="List users (admin)",
    )
    def list_users(self, db_session: Session, page: PageParams) -> Page[UserOut]:
        return paginate(
            db_session, select(User).order_by(User.username), page, user_out_of(db_session)
        )

    @post(
        "/{username:str}/competencies",
        guards=[admin_only],
        sync_to_thread=True,
        summary="Record a competency (sterilizer operation, HLD, instrument processing; admin)",
    )
    def create_user_competency(
        self, username: PathKey, data: CompetencyIn, db_session: Session, me: CurrentUser,
        clock: Clock,
    ) -> CompetencyOut:  # fmt: skip
        found = competencies.grant_competency(
            db_session,
            username,
            skill=data.skill,
            granted_on=data.granted_on,
            expires_on=data.expires_on,
            evidence=data.evidence,
            actor=me.username,
            now=clock.now(),
        )
        return competency_out(found, service.get_user(db_session, username).username, clock.today())

    @get(
        "/{username:str}/competencies",
        guards=[requires_role(Role.AUDITOR)],
        sync_to_thread=True,
        dependencies={"page": Provide(provide_page_params, sync_to_thread=False)},
        summary="A person's competencies, newest first (admin, auditor)",
    )
    def list_user_competencies(
        self, username: PathKey, db_session: Session, page: PageParams, clock: Clock
    ) -> Page[CompetencyOut]:
        name = service.get_user(db_session, username).username
        today = clock.today()
        return paginate(
            db_session,
            competencies.competencies_of(db_session, username),
            page,
            lambda c: competency_out(c, name, today),
        )

    @patch(
        "/{username:str}",
        guards=[admin_only],
        sync_to_thread=True,
        summary="Change a user's role, name, password or active flag (admin)",
    )
    def update_user(
        self, username: PathKey, data: UserUpdate, db_session: Session, me: CurrentUser
    ) -> UserOut:
        user = service.update_user(
            db_session,
            actor=me.username,
            username=username,
            role=data.role,
            active=data.active,
            full_name=data.full_name,
            password=data.password,
            email=data.email,
            sites=data.sites,
            all_sites=data.all_sites,
        )
        return user_out_of(db_session)(user)
