"""The in-app side: a user's notifications (newest first), the unread count the bell
shows, and marking one read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.notifications.models import Notification, NotificationDelivery
from kernel.problems import NotFound


def inbox_query(
    user_id: int, *, unread: bool | None = None
) -> Select[tuple[NotificationDelivery, Notification]]:
    statement = (
        select(NotificationDelivery, Notification)
        .join(Notification, Notification.id == NotificationDelivery.notification_id)
        .where(NotificationDelivery.user_id == user_id, NotificationDelivery.channel == "in_app")
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if unread is True:
        statement = statement.where(NotificationDelivery.read_at.is_(None))
    elif unread is False:
        statement = statement.where(NotificationDelivery.read_at.is_not(None))
    return statement


def inbox(
    session: Session, user_id: int, *, unread: bool | None, limit: int, offset: int
) -> tuple[list[tuple[NotificationDelivery, Notification]], int]:
    statement = inbox_query(user_id, unread=unread)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.execute(statement.limit(limit).offset(offset)).all()
    return list(rows), total or 0


def unread_count(session: Session, user_id: int) -> int:
    """What the bell shows."""
    return (
        session.scalar(
            select(func.count())
            .select_from(NotificationDelivery)
            .where(
                NotificationDelivery.user_id == user_id,
                NotificationDelivery.channel == "in_app",
                NotificationDelivery.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(
    session: Session, *, user_id: int, actor: str, notification_id: int, now: dt.datetime
) -> tuple[NotificationDelivery, Notification]:
    """Mark the user's copy read (again: no change). Another user's is not found."""
    row = session.execute(
        inbox_query(user_id).where(NotificationDelivery.notification_id == notification_id)
    ).first()
    if row is None:
        raise NotFound(f"No notification {notification_id} for you.")
    delivery, notification = row
    if delivery.read_at is None:
        delivery.read_at = now
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="notification.read",
            entity="notification",
            entity_id=notification_id,
            after={"kind": notification.kind, "read_at": now.isoformat()},
        )
    return delivery, notification
