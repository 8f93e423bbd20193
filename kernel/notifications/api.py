"""HTTP API of notifications: the caller's in-app notifications and preferences, and the
webhooks with their delivery log (admin). Thin handlers over the services."""

from __future__ import annotations

from typing import Literal

from litestar import Controller, get, post, put
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import RowId
from kernel.notifications import inbox as inbox_service
from kernel.notifications import preferences, webhooks
from kernel.notifications.models import (
    DeliveryAttempt,
    Notification,
    NotificationDelivery,
)
from kernel.notifications.rules import STATE_KEY, NotificationRule
from kernel.notifications.schemas import (
    DeliveryAttemptOut,
    Kind,
    NotificationOut,
    NotificationPage,
    WebhookCreate,
    WebhookDeliveryOut,
    WebhookOut,
)
from kernel.pagination import Page, PageParams, provide_page_params

ModeValue = Literal["off", "immediate", "digest"]


def app_rules(state: State) -> list[NotificationRule]:
    return list(state.get(STATE_KEY, ()))


def notification_out(delivery: NotificationDelivery, notification: Notification) -> NotificationOut:
    return NotificationOut(
        id=notification.id,  # type: ignore[arg-type]
        kind=notification.kind,
        site=notification.site,
        subject=notification.subject,
        detail=notification.detail,
        url=notification.url,
        created_at=notification.created_at,
        read=delivery.read_at is not None,
        read_at=delivery.read_at,
    )


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [any_role]

    @get(
        "/",
        sync_to_thread=True,
        dependencies={"page": Provide(provide_page_params, sync_to_thread=False)},
        summary="Your notifications, newest first (`unread=true`: only unread)",
    )
    def list_notifications(
        self, db_session: Session, me: CurrentUser, page: PageParams, unread: bool | None = None
    ) -> NotificationPage:
        rows, total = inbox_service.inbox(
            db_session, me.id, unread=unread, limit=page.limit, offset=page.offset
        )
        return NotificationPage(
            items=[notification_out(d, n) for d, n in rows],
            total=total,
            unread=inbox_service.unread_count(db_session, me.id),
            limit=page.limit,
            offset=page.offset,
        )

    @post(
        "/{notification_id:int}/read",
        sync_to_thread=True,
        status_code=200,
        summary="Mark one of your notifications read",
    )
    def mark_notification_read(
        self,
        notification_id: RowId,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> NotificationOut:
        delivery, notification = inbox_service.mark_read(
            db_session,
            user_id=me.id,
            actor=me.username,
            notification_id=notification_id,
            now=clock.now(),
        )
        return notification_out(delivery, notification)


class NotificationPreferencesController(Controller):
    path = "/api/v1/users/me/notification-preferences"
    tags = ["notifications"]
    guards = [any_role]

    @get("/", sync_to_thread=True, summary="Your mode per notification kind")
    def get_notification_preferences(
        self, db_session: Session, me: CurrentUser, state: State
    ) -> dict[str, ModeValue]:
        return preferences.preferences_of(db_session, me.id, me.role, app_rules(state))  # type: ignore[return-value]

    @put(
        "/",
        sync_to_thread=True,
        summary="Choose off, immediate or digest per kind (kinds left out keep theirs)",
    )
    def update_notification_preferences(
        self, data: dict[Kind, ModeValue], db_session: Session, me: CurrentUser, state: State
    ) -> dict[str, ModeValue]:
        return preferences.set_preferences(  # type: ignore[return-value]
            db_session,
            actor=me.username,
            user_id=me.id,
            role=me.role,
            rules=app_rules(state),
            choices=data,
        )


def webhook_out(view: webhooks.WebhookView) -> WebhookOut:
    return WebhookOut(
        id=view.id,
        url=view.url,
        kinds=view.kinds,
        active=view.active,
        created_by=view.created_by,
        created_at=view.created_at,
    )


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["notifications"]
    guards = [admin_only]

    @post("/", sync_to_thread=True, summary="Add a webhook (admin); the secret is never shown")
    def create_webhook(
        self, data: WebhookCreate, db_session: Session, me: CurrentUser, state: State
    ) -> WebhookOut:
        hook = webhooks.create_webhook(
            db_session,
            actor=me.username,
            url=data.url,
            secret=data.secret,
            kinds=data.kinds,
            known_kinds=[rule.kind for rule in app_rules(state)],
            allow_private=state.settings.webhook_allow_private,
        )
        return webhook_out(webhooks.view(hook))

    @get(
        "/",
        sync_to_thread=True,
        dependencies={"page": Provide(provide_page_params, sync_to_thread=False)},
        summary="The webhooks (admin)",
    )
    def list_webhooks(self, db_session: Session, page: PageParams) -> Page[WebhookOut]:
        hooks = webhooks.list_webhooks(db_session)
        chosen = hooks[page.offset : page.offset + page.limit]
        return Page(
            items=[webhook_out(webhooks.view(h)) for h in chosen],
            total=len(hooks),
            limit=page.limit,
            offset=page.offset,
        )

    @get(
        "/{webhook_id:int}/deliveries",
        sync_to_thread=True,
        dependencies={"page": Provide(provide_page_params, sync_to_thread=False)},
        summary="A webhook's delivery log, newest first (admin)",
    )
    def list_webhook_deliveries(
        self, webhook_id: RowId, db_session: Session, page: PageParams
    ) -> Page[WebhookDeliveryOut]:
        webhooks.get_webhook(db_session, webhook_id)
        return delivery_log(db_session, webhook_id, page)


def delivery_log(session: Session, webhook_id: int, page: PageParams) -> Page[WebhookDeliveryOut]:
    statement = (
        select(NotificationDelivery, Notification)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .where(NotificationDelivery.webhook_id == webhook_id)
        .order_by(NotificationDelivery.id.desc())
    )
    total = len(session.execute(statement.with_only_columns(NotificationDelivery.id)).all())
    rows = session.execute(statement.limit(page.limit).offset(page.offset)).all()
    ids = [d.id for d, _ in rows]
    attempts: dict[int, list[DeliveryAttemptOut]] = {i: [] for i in ids}  # type: ignore[misc]
    for attempt in session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(ids))
        .order_by(DeliveryAttempt.id)
    ):
        attempts[attempt.delivery_id].append(
            DeliveryAttemptOut(
                at=attempt.at,
                ok=attempt.ok,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
        )
    items = [
        WebhookDeliveryOut(
            id=d.id,  # type: ignore[arg-type]
            notification_id=n.id,  # type: ignore[arg-type]
            kind=n.kind,
            subject=n.subject,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            last_error=d.last_error,
            sent_at=d.sent_at,
            log=attempts[d.id],  # type: ignore[index]
        )
        for d, n in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


route_handlers = [NotificationController, NotificationPreferencesController, WebhookController]
