"""Pages of sites: the site in every page's header with a switcher for users of several
sites, the administrator's sites page, and a user's sites on their admin page.

The switcher only narrows what pages show (a cookie, `steristock_site`, read by the query
scope); it never widens: a code that is not one of the user's sites is ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from kernel.auth import service as auth_service
from kernel.auth.guards import admin_only, any_role
from kernel.auth.models import User
from kernel.auth.service import CurrentUser
from kernel.sites import service
from kernel.sites.query_scope import (
    CHOICE_KEY,
    REQUEST_SESSION,
    SITE_COOKIE,
    USER_KEY,
    bind_user,
    session_scope,
    users_scope,
)
from kernel.sites.schemas import SiteCreate
from kernel.web.forms import (
    FormData,
    FormRefusal,
    field_errors,
    form_checked,
    form_list,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import render_page

SITES_PAGE = "/admin/sites"
ONE_YEAR = 365 * 24 * 3600


def site_header(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """`PAGE_CONTEXT_HOOKS`: the site(s) the page shows, and the switcher's choices."""
    session = request.scope.get("state", {}).get(REQUEST_SESSION)
    if session is None:
        return {}
    if not session.in_transaction():
        # The request's session has ended (an error page rendered after the handler): a
        # query on it would open a transaction nobody closes (on SQLite a write session's
        # holds the write lock), so the header reads through a short read session of its own.
        with request.app.state.db.session(write=False) as fresh:
            bind_user(fresh, session.info.get(USER_KEY), session.info.get(CHOICE_KEY))
            return _site_header(request, fresh)
    return _site_header(request, session)


def _site_header(request: Request[Any, Any, Any], session: Session) -> dict[str, Any]:
    try:
        scope = session_scope(session)
    except Exception:
        return {}
    if scope is None:
        return {}
    chosen = scope.only()
    own = users_scope(session)
    mine = own.visible if own is not None else scope.visible
    return {
        "site_header": {
            "label": chosen.code if chosen else "All my sites",
            "name": chosen.name if chosen else "",
            "choices": [s.code for s in mine] if len(mine) > 1 else [],
            "current": request.cookies.get(SITE_COOKIE, "") if chosen else "",
        }
    }


def _same_site_path(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@post("/site", guards=[any_role], sync_to_thread=True)
def switch_site(data: FormData, db_session: Session, me: CurrentUser) -> Response[Any]:
    """The header's switcher: show one of my sites (or all of them) on every page."""
    code = form_text(data, "site").upper()
    target = _same_site_path(form_text(data, "next") or "/")
    mine = {s.code for s in service.scope_for_user(db_session, me.id).visible}
    if code and code in mine:
        cookie = Cookie(
            key=SITE_COOKIE, value=code, path="/", max_age=ONE_YEAR, httponly=True, samesite="lax"
        )
    else:  # all my sites (or a code that is not mine: ignored)
        cookie = Cookie(key=SITE_COOKIE, value="", path="/", max_age=0)
    return Redirect(target, status_code=303, cookies=[cookie])


def render_sites(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return render_page(
        request,
        "sites/sites.html",
        status_code=status_code,
        sites=service.list_sites(session),
        form=form or {},
        errors=errors or {},
        nonce=new_nonce(),
    )


@get(SITES_PAGE, guards=[admin_only], sync_to_thread=True)
def sites_page(request: Request[Any, Any, Any], db_session: Session) -> Template:
    return render_sites(request, db_session)


@post(SITES_PAGE, guards=[admin_only], sync_to_thread=True)
def create_site_page(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    form = {k: form_text(data, k) for k in ("code", "name", "timezone")}
    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {SITES_PAGE}",
        errors=field_errors({k: v for k, v in form.items() if v}, SiteCreate),
        fallback_field="code",
        action=lambda: service.create_site(
            db_session, actor=me.username, code=form["code"], name=form["name"],
            timezone=form["timezone"],
        ).code,
        rerender=lambda refusal: render_sites(
            request, db_session, form=form, errors=refusal.errors,
            status_code=refusal.status_code,
        ),
        done=lambda code: (SITES_PAGE, f"Added site {code}."),
        again="Already added: that form was sent twice.",
    )  # fmt: skip


def user_sites_context(session: Session, user: User) -> dict[str, Any]:
    """What a user's admin page shows of their sites."""
    return {
        "site_options": [s.code for s in service.list_sites(session)],
        "user_sites": service.user_site_codes(session, user.id),  # type: ignore[arg-type]
        "sites_nonce": new_nonce(),
    }


@post("/admin/users/{username:str}/sites", guards=[admin_only], sync_to_thread=True)
def change_user_sites(
    request: Request[Any, Any, Any],
    username: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    from kernel.auth.pages import render_user

    user = auth_service.get_user(db_session, username)  # 404 for an unknown user
    path = f"/admin/users/{user.username}"

    def rerender(refusal: FormRefusal) -> Template:
        return render_user(
            request, db_session, username, me=me, errors=refusal.errors,
            status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {path}/sites",
        fallback_field="sites",
        action=lambda: auth_service.update_user(
            db_session, actor=me.username, username=user.username,
            sites=form_list(data, "sites"), all_sites=form_checked(data, "all_sites"),
        ).username,
        rerender=rerender,
        done=lambda name: (path, f"Saved the sites of {name}."),
    )  # fmt: skip


page_handlers: list[Any] = [switch_site, sites_page, create_site_page, change_user_sites]
