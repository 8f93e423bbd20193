"""The outbox: e-mails, digests and webhook posts waiting to go out.

Each row is tried when it is due; the network call happens outside any transaction
(SQLite's writers are never held up by a slow receiver), then the outcome is written:
sent (and audited: who, which kind, which channel), or a failed attempt with its reason
and the next try after an exponential backoff (1, 2, 4 ... minutes, at most 6 hours).
After `MAX_ATTEMPTS` the row is `failed`, kept with its log for the admin."""

from __future__ import annotations

import datetime as dt
import html
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.auth.models import User
from kernel.clock import ClinicTime
from kernel.db import Database
from kernel.notifications.engine import NOTIFIER
from kernel.notifications.mail import Attachment, MailError, build_message, send_message
from kernel.notifications.models import (
    DeliveryAttempt,
    Notification,
    NotificationDelivery,
    OutboundMail,
    Webhook,
)
from kernel.notifications.webhooks import WebhookError, post
from kernel.problems import Conflict
from kernel.settings import Settings

log = logging.getLogger("steristock.notifications")
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=6)
MAX_ATTEMPTS = 12
BATCH = 200


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed try: 1, 2, 4, 8 ... minutes, capped."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


def absolute_url(settings: Settings, path: str) -> str:
    return settings.public_url + path if path.startswith("/") else path


def payload(notification: Notification, settings: Settings) -> dict[str, Any]:
    """The webhook body (and what an e-mail says)."""
    return {
        "id": notification.id,
        "kind": notification.kind,
        "site": notification.site,
        "subject": notification.subject,
        "detail": notification.detail,
        "url": absolute_url(settings, notification.url),
        "at": notification.created_at.isoformat().replace("+00:00", "Z"),
    }


def deliver_due(
    database: Database, settings: Settings, *, now: dt.datetime, zone: ClinicTime
) -> Outcome:
    """Try every e-mail, digest and webhook row that is due."""
    outcome = Outcome()
    with database.session(write=False) as session:
        rows = session.execute(
            select(NotificationDelivery, Notification)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .where(
                NotificationDelivery.status == "pending",
                NotificationDelivery.next_attempt_at <= now,
            )
            .order_by(NotificationDelivery.id)
            .limit(BATCH)
        ).all()
        users = {u.id: u for u in session.scalars(select(User))}
        hooks = {h.id: h for h in session.scalars(select(Webhook))}
    digests: dict[int, list[tuple[NotificationDelivery, Notification]]] = defaultdict(list)
    for delivery, notification in rows:
        if delivery.channel == "digest":
            digests[delivery.user_id].append((delivery, notification))  # type: ignore[index]
        elif delivery.channel == "email":
            user = users.get(delivery.user_id)
            _send_mail(database, settings, [(delivery, notification)], user, now, zone, outcome)
        elif delivery.channel == "webhook":
            hook = hooks.get(delivery.webhook_id)
            _send_webhook(database, settings, delivery, notification, hook, now, outcome)
    for user_id, items in digests.items():
        _send_mail(database, settings, items, users.get(user_id), now, zone, outcome)
    _send_outbound(database, settings, now, outcome)
    return outcome


# E-mail to outside addresses (a purchase order to its supplier) -------------------------


def queue_mail(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    reference: str,
    attachment: Attachment | None = None,
    now: dt.datetime,
) -> OutboundMail:
    """Put an e-mail in the outbox; the sender delivers it (next run, retried with
    backoff). Refused when no SMTP server is configured: it would never go out."""
    if not settings.smtp_url:
        raise Conflict("E-mail is not configured (STERISTOCK_SMTP_URL); nothing can be sent.")
    mail = OutboundMail(
        to_address=to,
        subject=subject[:300],
        text=text,
        html=html,
        reference=reference,
        attachment_name=attachment.filename if attachment else None,
        attachment_type=attachment.mime_type if attachment else None,
        attachment=attachment.content if attachment else None,
        next_attempt_at=now,
        created_by=actor,
        created_at=now,
    )
    session.add(mail)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="mail.queue",
        entity="mail",
        entity_id=mail.id,  # type: ignore[arg-type]
        after={"to": to, "subject": mail.subject, "reference": reference,
               "attachment": mail.attachment_name},
    )  # fmt: skip
    return mail


def _send_outbound(
    database: Database, settings: Settings, now: dt.datetime, outcome: Outcome
) -> None:
    with database.session(write=False) as session:
        mails = list(
            session.scalars(
                select(OutboundMail)
                .where(OutboundMail.status == "pending", OutboundMail.next_attempt_at <= now)
                .order_by(OutboundMail.id)
                .limit(BATCH)
            )
        )
    for mail in mails:
        error: str | None = None
        attachments = ()
        if mail.attachment is not None:
            attachments = (
                Attachment(mail.attachment_name or "attachment", mail.attachment,
                           mail.attachment_type or "application/octet-stream"),
            )  # fmt: skip
        try:
            send_message(
                settings,
                build_message(settings, to=mail.to_address, subject=mail.subject, text=mail.text,
                              html=mail.html, attachments=attachments),
            )  # fmt: skip
        except MailError as exc:
            error = str(exc)
        with database.session() as session:
            row = session.get(OutboundMail, mail.id)
            if row is None or row.status != "pending":
                continue
            row.attempts += 1
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                outcome.sent += 1
                audit.record(
                    session, actor=NOTIFIER, action="mail.send", entity="mail",
                    entity_id=row.id,  # type: ignore[arg-type]
                    after={"to": row.to_address, "reference": row.reference, "channel": "email"},
                )  # fmt: skip
            else:
                row.last_error = error[:500]
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                outcome.failed += 1
                log.warning("mail %s to %s failed: %s", row.id, row.to_address, error)


def _send_mail(
    database: Database,
    settings: Settings,
    items: list[tuple[NotificationDelivery, Notification]],
    user: User | None,
    now: dt.datetime,
    zone: ClinicTime,
    outcome: Outcome,
) -> None:
    started = time.monotonic()
    error: str | None = None
    address = getattr(user, "email", None) if user is not None and user.active else None
    if not address:
        error = "the user has no e-mail address or is inactive"
    else:
        try:
            send_message(settings, mail_for(settings, address, [n for _, n in items], zone, now))
        except MailError as exc:
            error = str(exc)
    _record(
        database,
        [d for d, _ in items],
        [n for _, n in items],
        now=now,
        error=error,
        status_code=None,
        duration_ms=int((time.monotonic() - started) * 1000),
        outcome=outcome,
    )


def _send_webhook(
    database: Database,
    settings: Settings,
    delivery: NotificationDelivery,
    notification: Notification,
    hook: Webhook | None,
    now: dt.datetime,
    outcome: Outcome,
) -> None:
    started = time.monotonic()
    error: str | None = None
    status: int | None = None
    if hook is None or not hook.active:
        error = "the webhook was removed or deactivated"
    else:
        try:
            status, _ = post(
                hook.url,
                hook.secret,
                payload(notification, settings),
                allow_private=settings.webhook_allow_private,
                delivery_id=delivery.id,  # type: ignore[arg-type]
                timeout=settings.webhook_timeout_seconds,
            )
        except WebhookError as exc:
            error, status = str(exc), exc.status_code
    _record(
        database,
        [delivery],
        [notification],
        now=now,
        error=error,
        status_code=status,
        duration_ms=int((time.monotonic() - started) * 1000),
        outcome=outcome,
    )


def _record(
    database: Database,
    deliveries: list[NotificationDelivery],
    notifications: list[Notification],
    *,
    now: dt.datetime,
    error: str | None,
    status_code: int | None,
    duration_ms: int,
    outcome: Outcome,
) -> None:
    """Write one try's outcome for its rows (one e-mail, one digest, one post)."""
    with database.session() as session:
        for delivery, notification in zip(deliveries, notifications, strict=True):
            row = session.get(NotificationDelivery, delivery.id)
            if row is None or row.status != "pending":
                continue
            row.attempts += 1
            session.add(
                DeliveryAttempt(
                    delivery_id=row.id,  # type: ignore[arg-type]
                    at=now,
                    ok=error is None,
                    status_code=status_code,
                    error=error[:500] if error else None,
                    duration_ms=duration_ms,
                )
            )
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                outcome.sent += 1
                _audit_sent(session, row, notification)
            else:
                row.last_error = error[:500]
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                outcome.failed += 1
                log.warning("delivery %s (%s) failed: %s", row.id, row.channel, error)


def _audit_sent(session: Session, row: NotificationDelivery, notification: Notification) -> None:
    audit.record(
        session,
        actor=NOTIFIER,
        action="notification.send",
        entity="notification",
        entity_id=notification.id,  # type: ignore[arg-type]
        after={
            "kind": notification.kind,
            "channel": row.channel,
            "recipient": row.recipient,
            "delivery": row.id,
        },
    )


# The e-mail ----------------------------------------------------------------------------


def mail_for(
    settings: Settings,
    to: str,
    notifications: list[Notification],
    zone: ClinicTime,
    now: dt.datetime,
) -> Any:
    """One notification, or a digest of several: plain text and HTML, each with its link."""
    if len(notifications) == 1:
        subject = f"[SteriStock] {notifications[0].subject}"
        intro = ""
    else:
        day = zone.local_date(now)
        subject = f"[SteriStock] Daily digest {day.isoformat()}: {len(notifications)} notifications"
        intro = f"{len(notifications)} notifications since the last digest."
    text_parts = [intro] if intro else []
    html_parts = [f"<p>{html.escape(intro)}</p>"] if intro else []
    for n in notifications:
        link = absolute_url(settings, n.url)
        when = zone.local_text(n.created_at)
        text_parts.append(
            "\n".join(x for x in (f"* {n.subject}", n.detail, f"  {when}", f"  {link}") if x)
        )
        html_parts.append(
            f'<h3><a href="{html.escape(link)}">{html.escape(n.subject)}</a></h3>'
            + (f"<p>{html.escape(n.detail)}</p>" if n.detail else "")
            + f"<p><small>{html.escape(when)}</small></p>"
        )
    footer = f"Choose what you receive: {settings.public_url}/notifications/preferences"
    text = "\n\n".join([*text_parts, footer]) + "\n"
    body = (
        '<!doctype html><html><body style="font-family: sans-serif">'
        + "".join(html_parts)
        + f'<hr><p><small><a href="{html.escape(settings.public_url)}/notifications/preferences">'
        "Choose what you receive</a></small></p></body></html>"
    )
    return build_message(settings, to=to, subject=subject, text=text, html=body)
