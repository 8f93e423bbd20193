"""Running the notification engine the way the server does, against a test's app: its
database, settings, rules and (pinned) clock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kernel.notifications.models import Notification, NotificationDelivery
from kernel.notifications.rules import STATE_KEY
from kernel.notifications.runner import RunResult, run_once


def run_notifications(app: Any, *, wait: float = 0) -> RunResult:
    """One run (`steristock notify run`) with the app's state."""
    state = app.state
    return run_once(state.db, state.settings, list(state[STATE_KEY]), clock=state.clock, wait=wait)


def notifications(app: Any, kind: str | None = None) -> list[Notification]:
    with app.state.db.session(write=False) as session:
        statement = select(Notification).order_by(Notification.id)
        if kind:
            statement = statement.where(Notification.kind == kind)
        return list(session.scalars(statement))


def deliveries(app: Any, kind: str | None = None) -> list[tuple[NotificationDelivery, str]]:
    """(delivery, kind) rows, oldest first."""
    with app.state.db.session(write=False) as session:
        statement = (
            select(NotificationDelivery, Notification.kind)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .order_by(NotificationDelivery.id)
        )
        if kind:
            statement = statement.where(Notification.kind == kind)
        return [(d, k) for d, k in session.execute(statement).all()]


def kinds_for(client: Any, headers: dict[str, str], **params: Any) -> list[str]:
    """The kinds in a user's in-app notifications, newest first."""
    response = client.get("/api/v1/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [n["kind"] for n in response.json()["items"]]
