"""Tables of the notification mechanism: facts, their deliveries, preferences, webhooks
and the sender's lease. The kernel knows no rule: a domain's rule reports a fact (`kind`,
site, subject, dedup key) and these tables make sure it reaches each recipient once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kernel.db import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    """One fact a rule found (a BI due for reading, an open recall). `dedup_key` is unique:
    the same fact found again on the next run is not a second notification."""

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    site: str | None = Field(default=None, max_length=40)
    subject: str = Field(max_length=300)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    url: str = Field(default="/", max_length=500)  # the page that resolves it (a path)
    dedup_key: str = Field(max_length=200, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class NotificationDelivery(SQLModel, table=True):
    """One notification for one recipient on one channel: the outbox row. In-app rows are
    delivered when made (`read_at` marks them read); e-mail and webhook rows wait for the
    sender, which retries a failure with backoff (`next_attempt_at`) and keeps the reason."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (UniqueConstraint("notification_id", "channel", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notifications.id", index=True)
    channel: str = Field(max_length=10)  # in_app | email | digest | webhook
    recipient: str = Field(max_length=40)  # "user:<id>" or "webhook:<id>"
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    webhook_id: int | None = Field(default=None, foreign_key="webhooks.id", index=True)
    status: str = Field(default="pending", max_length=10)  # pending | sent | failed
    attempts: int = Field(default=0)
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    read_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationPreference(SQLModel, table=True):
    """A user's choice for one kind (off, immediate, digest); none stored: the role's default."""

    __tablename__ = "notification_preferences"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    kind: str = Field(max_length=40, primary_key=True)
    mode: str = Field(max_length=10)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Webhook(SQLModel, table=True):
    """A receiver of signed JSON posts for some kinds. The secret signs; it is never shown."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    secret: str = Field(max_length=200)
    kinds: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list
    active: bool = Field(default=True)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """One try to deliver an e-mail or webhook: the delivery log (what answered, why not)."""

    __tablename__ = "notification_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="notification_deliveries.id", index=True)
    at: dt.datetime = Field(sa_type=UTCDateTime)
    ok: bool = Field()
    status_code: int | None = Field(default=None)
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = Field(default=0)


class SenderLease(SQLModel, table=True):
    """Who sends right now: one row per lease name, held until `expires_at`. Only the
    holder runs the rules and delivers, however many workers and containers there are."""

    __tablename__ = "sender_leases"

    name: str = Field(max_length=40, primary_key=True)
    holder: str = Field(max_length=120)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)


class OutboundMail(SQLModel, table=True):
    """An e-mail to an outside address (a purchase order to its supplier), with its
    attachment, waiting in the outbox: sent by the same sender as the notifications, with
    the same retries and backoff."""

    __tablename__ = "outbound_mails"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    html: str = Field(sa_column=Column(Text, nullable=False))
    attachment_name: str | None = Field(default=None, max_length=200)
    attachment_type: str | None = Field(default=None, max_length=100)
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    reference: str = Field(default="", max_length=64, index=True)  # e.g. PO-000012
    status: str = Field(default="pending", max_length=10)  # pending | sent | failed
    attempts: int = Field(default=0)
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
