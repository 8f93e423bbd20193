"""The administrator's user pages: the list with a create form, and one user's page
(change role, deactivate / reactivate, reset the password).

Handlers are thin: every rule (username and password rules, the last active admin,
revoking tokens on deactivation and password reset, the audit trail) lives in
`kernel.auth.service`, the same functions as the API. A refused form is shown again
(422/409) with the error next to its field and the entered values kept, except
passwords, which are never put back into a page. Passwords are also kept out of the
form-nonce fingerprint stored against double taps.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.auth import service
from kernel.auth.guards import admin_only
from kernel.auth.models import ApiToken, Role, User
from kernel.auth.schemas import UserCreate
from kernel.auth.service import CurrentUser
from kernel.sites.pages import user_sites_context
from kernel.web.forms import FormData, FormRefusal, field_errors, form_text, new_nonce, submit_form
from kernel.web.templating import render_page

ROLE_OPTIONS = [
    (Role.ADMIN.value, "Administrator"),
    (Role.MA.value, "Medical assistant"),
    (Role.PURCHASING.value, "Purchasing"),
    (Role.AUDITOR.value, "Auditor"),
]
SECRET_FIELDS = ("password", "password_confirm")
MAX_USERS_SHOWN = 500
MAX_PASSWORD_LENGTH = 256  # as the API's `UserCreate`


def last_logins(session: Session) -> dict[int, Any]:
    """When each user last logged in (their newest token or session)."""
    rows = session.execute(
        select(ApiToken.user_id, func.max(ApiToken.created_at)).group_by(ApiToken.user_id)
    ).all()
    return {user_id: at for user_id, at in rows}


def render_users(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    users = list(session.scalars(select(User).order_by(User.username).limit(MAX_USERS_SHOWN)))
    return render_page(
        request,
        "auth/users.html",
        status_code=status_code,
        users=users,
        logins=last_logins(session),
        role_options=ROLE_OPTIONS,
        form=form or {},
        errors=errors or {},
        error=error,
        nonce=new_nonce(),
    )


@get("/admin/users", guards=[admin_only], sync_to_thread=True)
def users_page(request: Request[Any, Any, Any], db_session: Session) -> Template:
    return render_users(request, db_session)


def password_errors(data: dict[str, Any]) -> dict[str, str]:
    """The new password against the password rule, and typed the same twice."""
    password = str(data.get("password", ""))
    if not password:
        return {"password": "Required."}
    if len(password) < service.MIN_PASSWORD_LENGTH:
        return {"password": f"At least {service.MIN_PASSWORD_LENGTH} characters."}
    if len(password) > MAX_PASSWORD_LENGTH:
        return {"password": f"At most {MAX_PASSWORD_LENGTH} characters."}
    if str(data.get("password_confirm", "")) != password:
        return {"password_confirm": "The two passwords differ."}
    return {}


@post("/admin/users", guards=[admin_only], sync_to_thread=True)
def create_user(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    form = {k: form_text(data, k) for k in ("username", "full_name", "role")}
    values = {k: v for k, v in form.items() if v}
    values["password"] = str(data.get("password", ""))
    errors = field_errors(values, UserCreate)
    errors.pop("password", None)
    errors.update(password_errors(data))
    if "username" not in errors and not service.USERNAME_RE.match(
        service.normalize_username(form["username"])
    ):
        errors["username"] = "2-64 characters: lower-case letters, digits, '.', '_' or '-'."
    username = service.normalize_username(form["username"])

    def rerender(refusal: FormRefusal) -> Template:
        return render_users(
            request, db_session, form=form, errors=refusal.errors, error=refusal.message,
            status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /admin/users",
        errors=errors, secret_fields=SECRET_FIELDS, fallback_field="username",
        action=lambda: service.create_user(
            db_session, actor=me.username, username=form["username"], role=Role(form["role"]),
            password=values["password"], full_name=form["full_name"],
        ).username,
        rerender=rerender,
        done=lambda _: ("/admin/users", f"Created user {username}."),
        again=f"Already created (the form was sent twice): {username}.",
    )  # fmt: skip


# One user --------------------------------------------------------------------------------


def render_user(
    request: Request[Any, Any, Any],
    session: Session,
    username: str,
    *,
    me: CurrentUser,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    user = service.get_user(session, username)
    return render_page(
        request,
        "auth/user.html",
        status_code=status_code,
        user=user,
        last_login=last_logins(session).get(user.id),
        role_options=ROLE_OPTIONS,
        is_me=user.username == me.username,
        form=form or {},
        errors=errors or {},
        nonces={name: new_nonce() for name in ("role", "active", "password")},
        **user_sites_context(session, user),
    )


@get("/admin/users/{username:str}", guards=[admin_only], sync_to_thread=True)
def user_page(
    request: Request[Any, Any, Any], username: str, db_session: Session, me: CurrentUser
) -> Template:
    return render_user(request, db_session, username, me=me)


def _update(
    request: Request[Any, Any, Any],
    session: Session,
    me: CurrentUser,
    username: str,
    data: dict[str, Any],
    *,
    what: str,
    error_field: str,
    form: dict[str, str],
    done: str,
    **changes: Any,
) -> Response[Any]:
    """Apply one change through `service.update_user` once per form nonce; a refusal is
    shown next to the field of the form that asked for it."""
    user = service.get_user(session, username)  # 404 for an unknown user
    path = f"/admin/users/{user.username}"
    leaves_admin = user.username == me.username and (
        changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("active") is False
    )

    def rerender(refusal: FormRefusal) -> Template:
        return render_user(
            request, session, username, me=me, form=form, errors=refusal.errors,
            status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, session, me=me, data=data, scope=f"page POST {path}/{what}",
        secret_fields=SECRET_FIELDS, only_field=error_field,
        action=lambda: (
            service.update_user(session, actor=me.username, username=user.username, **changes)
            .username
        ),
        rerender=rerender,
        # Demoting oneself (another admin remains) leaves these pages: go home instead.
        done=lambda _: ("/" if leaves_admin else path, done),
    )  # fmt: skip


@post("/admin/users/{username:str}/role", guards=[admin_only], sync_to_thread=True)
def change_role(
    request: Request[Any, Any, Any],
    username: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    form = {k: form_text(data, k) for k in ("role", "full_name")}
    errors = field_errors({k: v for k, v in form.items() if k == "role" and v}, UserCreate)
    errors = {k: v for k, v in errors.items() if k == "role"}
    if not form["role"]:
        errors["role"] = "Required."
    if len(form["full_name"]) > 200:
        errors["full_name"] = "At most 200 characters."
    if errors:
        service.get_user(db_session, username)  # 404 first
        return render_user(
            request, db_session, username, me=me, form=form, errors=errors, status_code=422
        )
    role = Role(form["role"])
    return _update(
        request, db_session, me, username, data, what="role", error_field="role", form=form,
        done=f"Saved: {service.normalize_username(username)} is now {dict(ROLE_OPTIONS)[role]}.",
        role=role, full_name=form["full_name"],
    )  # fmt: skip


@post("/admin/users/{username:str}/active", guards=[admin_only], sync_to_thread=True)
def change_active(
    request: Request[Any, Any, Any],
    username: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    wanted = form_text(data, "active")
    if wanted not in ("true", "false"):
        service.get_user(db_session, username)
        return render_user(
            request, db_session, username, me=me, errors={"active": "Choose an action."},
            status_code=422,
        )  # fmt: skip
    active = wanted == "true"
    name = service.normalize_username(username)
    done = (
        f"Reactivated {name}: they can log in again."
        if active
        else f"Deactivated {name}: their sessions and API tokens were revoked."
    )
    return _update(
        request, db_session, me, username, data, what="active", error_field="active", form={},
        done=done, active=active,
    )  # fmt: skip


@post("/admin/users/{username:str}/password", guards=[admin_only], sync_to_thread=True)
def reset_password(
    request: Request[Any, Any, Any],
    username: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    errors = password_errors(data)
    if errors:
        service.get_user(db_session, username)
        return render_user(request, db_session, username, me=me, errors=errors, status_code=422)
    name = service.normalize_username(username)
    return _update(
        request, db_session, me, username, data, what="password", error_field="password",
        form={},
        done=f"New password set for {name}; their sessions and API tokens were revoked.",
        password=str(data["password"]),
    )  # fmt: skip


page_handlers: list[Any] = [
    users_page,
    create_user,
    user_page,
    change_role,
    change_active,
    reset_password,
]
