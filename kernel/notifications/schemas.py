"""Request and response bodies of the notification API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from kernel.fields import PRINTABLE, Text

Kind = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]
HookKind = Text(40, min_length=1, pattern=r"^[a-z_]+$")


class NotificationOut(msgspec.Struct):
    id: int
    kind: str
    site: str | None
    subject: str
    detail: str
    url: str
    created_at: dt.datetime
    read: bool
    read_at: dt.datetime | None


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    total: int
    unread: int
    limit: int
    offset: int


class WebhookCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=PRINTABLE)]
    secret: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=PRINTABLE)]
    kinds: Annotated[list[HookKind], msgspec.Meta(max_length=50)] = []


class WebhookOut(msgspec.Struct):
    id: int
    url: str
    kinds: list[str]
    active: bool
    created_by: str
    created_at: dt.datetime


class DeliveryAttemptOut(msgspec.Struct):
    at: dt.datetime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookDeliveryOut(msgspec.Struct):
    id: int
    notification_id: int
    kind: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    sent_at: dt.datetime | None
    log: list[DeliveryAttemptOut]
