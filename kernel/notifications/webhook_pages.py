"""The administrator's webhook pages: the hooks with a form to add one, and one hook's
delivery log (each delivery, every attempt with its answer or error)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import RowId
from kernel.notifications import webhooks
from kernel.notifications.api import delivery_log
from kernel.notifications.rules import STATE_KEY
from kernel.notifications.schemas import WebhookCreate
from kernel.pagination import PageParams
from kernel.web.forms import (
    FormData,
    FormRefusal,
    field_errors,
    form_list,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import render_page

PATH = "/admin/webhooks"
LOG_SHOWN = 200


def _kinds(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    return [(r.kind, r.label) for r in request.app.state.get(STATE_KEY, ())]


def render_hooks(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    return render_page(
        request,
        "notifications/webhooks.html",
        status_code=status_code,
        hooks=[webhooks.view(h) for h in webhooks.list_webhooks(session)],
        kinds=_kinds(request),
        form=form or {"kinds": []},
        errors=errors or {},
        error=error,
        nonce=new_nonce(),
    )


@get(PATH, guards=[admin_only], sync_to_thread=True)
def webhooks_page(request: Request[Any, Any, Any], db_session: Session) -> Template:
    return render_hooks(request, db_session)


@post(PATH, guards=[admin_only], sync_to_thread=True)
def add_webhook(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    form: dict[str, Any] = {"url": form_text(data, "url"), "kinds": form_list(data, "kinds")}
    secret = str(data.get("secret", ""))
    errors = field_errors(
        {"url": form["url"], "secret": secret, "kinds": form["kinds"]}, WebhookCreate
    )

    def rerender(refusal: FormRefusal) -> Template:
        return render_hooks(
            request, db_session, form=form, errors=refusal.errors, error=refusal.message,
            status_code=refusal.status_code,
        )  # fmt: skip

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST {PATH}", errors=errors,
        secret_fields=("secret",), fallback_field="url",
        action=lambda: webhooks.create_webhook(
            db_session, actor=me.username, url=form["url"], secret=secret, kinds=form["kinds"],
            known_kinds=[k for k, _ in _kinds(request)],
            allow_private=request.app.state.settings.webhook_allow_private,
        ).id,
        rerender=rerender,
        done=lambda hook_id: (f"{PATH}/{hook_id}", "Webhook added."),
    )  # fmt: skip


@get(PATH + "/{webhook_id:int}", guards=[admin_only], sync_to_thread=True)
def webhook_page(
    request: Request[Any, Any, Any], webhook_id: RowId, db_session: Session, clock: Clock
) -> Template:
    hook = webhooks.view(webhooks.get_webhook(db_session, webhook_id))
    log = delivery_log(db_session, webhook_id, PageParams(limit=LOG_SHOWN, offset=0))
    return render_page(request, "notifications/webhook.html", hook=hook, log=log, zone=clock.zone)


page_handlers = [webhooks_page, add_webhook, webhook_page]
