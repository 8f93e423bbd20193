"""Running the rules: each fact found becomes one notification (its dedup key is unique,
so a fact found again is skipped), fanned out to the users who want its kind (in the app,
by e-mail now or in the 07:00 digest) and to the webhooks that listen for it."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import audit
from kernel.auth.models import User
from kernel.clock import ClinicTime, zone_named
from kernel.notifications.models import Notification, NotificationDelivery, Webhook
from kernel.notifications.preferences import effective_modes
from kernel.notifications.rules import Fact, NotificationRule, RuleContext
from kernel.sites.models import UserSite
from kernel.sites.query_scope import set_session_scope
from kernel.sites.scope import SiteScope
from kernel.sites.service import list_sites, site_info

log = logging.getLogger("steristock.notifications")
DIGEST_HOUR = dt.time(7, 0)
NOTIFIER = "notifier"


@dataclass
class RunReport:
    """What one run found and made (the CLI prints it)."""

    facts: int = 0
    new: int = 0
    deliveries: int = 0
    failed_rules: tuple[str, ...] = ()


def next_digest_at(zone: ClinicTime, now: dt.datetime) -> dt.datetime:
    """The next 07:00 in the site's zone after `now` (UTC)."""
    today = zone.local_date(now)
    at = zone.instant(today, DIGEST_HOUR)
    if at <= now:
        at = zone.instant(today + dt.timedelta(days=1), DIGEST_HOUR)
    return at


def dedup_key(kind: str, fact: Fact) -> str:
    return f"{kind}:{fact.key}"[:200]


def run_rules_per_site(
    session: Session,
    rules: Sequence[NotificationRule],
    *,
    now: dt.datetime,
    email_enabled: bool,
) -> RunReport:
    """Run the rules once for each site, each in the site's zone and seeing only the
    site's records (the query scope of `kernel.sites`): its days, its 07:00 digest, its
    users. A fact is still notified once (its dedup key does not name the site)."""
    sites = [site_info(s) for s in list_sites(session)]
    total = RunReport()
    failed: list[str] = []
    try:
        for site in sites:
            set_session_scope(session, SiteScope(sites, [site.id]))
            ctx = RuleContext(
                now=now, zone=zone_named(site.timezone), site=site.code, site_id=site.id
            )
            report = run_rules(session, rules, ctx, email_enabled=email_enabled)
            total.facts += report.facts
            total.new += report.new
            total.deliveries += report.deliveries
            failed.extend(k for k in report.failed_rules if k not in failed)
    finally:
        set_session_scope(session, SiteScope(sites, None))
    total.failed_rules = tuple(failed)
    return total


def run_rules(
    session: Session,
    rules: Sequence[NotificationRule],
    ctx: RuleContext,
    *,
    email_enabled: bool,
) -> RunReport:
    """Check every rule and record what is new. A rule that fails is logged and skipped:
    one broken rule never keeps the others' notifications from going out."""
    report = RunReport()
    failed: list[str] = []
    for rule in rules:
        try:
            with session.begin_nested():
                facts = list(rule.check(session, ctx))
        except Exception:
            log.exception("notification rule %s failed", rule.kind)
            failed.append(rule.kind)
            continue
        report.facts += len(facts)
        for fact in facts:
            notification = record_fact(session, rule.kind, fact, ctx)
            if notification is None:
                continue
            report.new += 1
            report.deliveries += fan_out(
                session, notification, rule, ctx, email_enabled=email_enabled
            )
    report.failed_rules = tuple(failed)
    return report


def record_fact(session: Session, kind: str, fact: Fact, ctx: RuleContext) -> Notification | None:
    """The new notification for a fact, or None when it was notified before."""
    key = dedup_key(kind, fact)
    if session.scalar(select(Notification.id).where(Notification.dedup_key == key)) is not None:
        return None
    notification = Notification(
        kind=kind,
        site=fact.site if fact.site is not None else ctx.site,
        subject=fact.subject[:300],
        detail=fact.detail,
        url=fact.url[:500],
        dedup_key=key,
        created_at=ctx.now,
    )
    try:
        with session.begin_nested():
            session.add(notification)
            session.flush()
    except IntegrityError:
        return None  # another sender recorded it first
    return notification


def fan_out(
    session: Session,
    notification: Notification,
    rule: NotificationRule,
    ctx: RuleContext,
    *,
    email_enabled: bool,
) -> int:
    """One delivery row per recipient and channel. In-app rows are delivered at once; the
    e-mail, digest and webhook rows wait in the outbox for the sender."""
    kind = notification.kind
    rows: list[NotificationDelivery] = []
    recipients = select(User).where(User.active).order_by(User.id)
    if ctx.site_id is not None:
        works_there = exists().where(UserSite.user_id == User.id, UserSite.site_id == ctx.site_id)
        recipients = recipients.where(or_(User.all_sites, works_there))
    users = session.scalars(recipients).all()
    modes = effective_modes(session, users, rule)
    for user in users:
        mode = modes[user.id]  # type: ignore[index]
        if mode == "off":
            continue
        recipient = f"user:{user.id}"
        rows.append(
            NotificationDelivery(
                notification_id=notification.id,  # type: ignore[arg-type]
                channel="in_app",
                recipient=recipient,
                user_id=user.id,
                status="sent",
                sent_at=ctx.now,
                next_attempt_at=ctx.now,
                created_at=ctx.now,
            )
        )
        if email_enabled and getattr(user, "email", None):
            digest = mode == "digest"
            rows.append(
                NotificationDelivery(
                    notification_id=notification.id,  # type: ignore[arg-type]
                    channel="digest" if digest else "email",
                    recipient=recipient,
                    user_id=user.id,
                    next_attempt_at=next_digest_at(ctx.zone, ctx.now) if digest else ctx.now,
                    created_at=ctx.now,
                )
            )
    for hook in session.scalars(select(Webhook).where(Webhook.active).order_by(Webhook.id)):
        kinds = json.loads(hook.kinds or "[]")
        if kinds and kind not in kinds:
            continue
        rows.append(
            NotificationDelivery(
                notification_id=notification.id,  # type: ignore[arg-type]
                channel="webhook",
                recipient=f"webhook:{hook.id}",
                webhook_id=hook.id,
                next_attempt_at=ctx.now,
                created_at=ctx.now,
            )
        )
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor=NOTIFIER,
        action="notification.create",
        entity="notification",
        entity_id=notification.id,  # type: ignore[arg-type]
        after={
            "kind": kind,
            "site": notification.site,
            "subject": notification.subject,
            "recipients": sorted({r.recipient for r in rows}),
            "channels": sorted({r.channel for r in rows}),
        },
    )
    return len(rows)
