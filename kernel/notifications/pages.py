"""The notification pages: the list behind the bell (opening one marks it read and goes
to the page that resolves it) and the user's preferences."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import RowId
from kernel.notifications import inbox as inbox_service
from kernel.notifications import preferences
from kernel.notifications.rules import MODES, STATE_KEY, NotificationRule
from kernel.web.forms import FormData, FormRefusal, form_text, new_nonce, submit_form
from kernel.web.templating import render_page

SHOWN = 100
MODE_LABELS = {"off": "Off", "immediate": "Immediately", "digest": "Daily digest (07:00)"}


def _rules(request: Request[Any, Any, Any]) -> list[NotificationRule]:
    return list(request.app.state.get(STATE_KEY, ()))


@get("/notifications", guards=[any_role], sync_to_thread=True)
def notifications_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    rows, total = inbox_service.inbox(db_session, me.id, unread=None, limit=SHOWN, offset=0)
    return render_page(
        request,
        "notifications/list.html",
        rows=rows,
        total=total,
        zone=clock.zone,
        labels={r.kind: r.label for r in _rules(request)},
    )


@post("/notifications/{notification_id:int}/open", guards=[any_role], sync_to_thread=True)
def open_notification(
    notification_id: RowId, db_session: Session, me: CurrentUser, clock: Clock
) -> Redirect:
    """Mark it read and go where it is resolved."""
    _, notification = inbox_service.mark_read(
        db_session,
        user_id=me.id,
        actor=me.username,
        notification_id=notification_id,
        now=clock.now(),
    )
    target = notification.url if notification.url.startswith("/") else "/notifications"
    return Redirect(target, status_code=303)


def render_preferences(
    request: Request[Any, Any, Any],
    session: Session,
    me: CurrentUser,
    *,
    chosen: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    rules = _rules(request)
    current = preferences.preferences_of(session, me.id, me.role, rules)
    return render_page(
        request,
        "notifications/preferences.html",
        status_code=status_code,
        rules=rules,
        current={**current, **(chosen or {})},
        defaults={r.kind: r.default_mode(me.role) for r in rules},
        options=[(m, MODE_LABELS[m]) for m in MODES],
        errors=errors or {},
        error=error,
        nonce=new_nonce(),
    )


@get("/notifications/preferences", guards=[any_role], sync_to_thread=True)
def preferences_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser
) -> Template:
    return render_preferences(request, db_session, me)


@post("/notifications/preferences", guards=[any_role], sync_to_thread=True)
def save_preferences(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    rules = _rules(request)
    chosen = {r.kind: form_text(data, r.kind) for r in rules if form_text(data, r.kind)}

    def rerender(refusal: FormRefusal) -> Template:
        return render_preferences(
            request, db_session, me, chosen=chosen, errors=refusal.errors,
            error=refusal.message, status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /notifications/preferences",
        action=lambda: preferences.set_preferences(
            db_session, actor=me.username, user_id=me.id, role=me.role, rules=rules,
            choices=chosen,
        ),
        rerender=rerender,
        done=lambda _: ("/notifications/preferences", "Notification preferences saved."),
    )  # fmt: skip


page_handlers = [notifications_page, open_notification, preferences_page, save_preferences]
