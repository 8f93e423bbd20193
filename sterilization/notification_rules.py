"""Sterilization's notification rules (SPEC section 10): plain functions that read the
cycle log and report facts; the kernel's engine notifies each fact once. Each fact's key
names what happened (the cycle, the sterilizer and day, the recall), so finding it again
on the next run is not a second message.

A BI can be read once its product's minimum incubation has passed since the load ended
(24 hours for a cycle without a product); requalification is pending from the positive BI,
failed Bowie-Dick or repair that started it until it is met.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.auth.models import Role
from kernel.notifications import Fact, NotificationRule, RuleContext
from sterilization.bi_products import readable_at
from sterilization.cycle_types import TEST_CYCLE_TYPES
from sterilization.models import BiProduct, BiResult, Cycle, Recall, Sterilizer

CYCLE_OVERDUE_AFTER = dt.timedelta(hours=2)
MA = frozenset({Role.MA})
OVERSIGHT = frozenset({Role.AUDITOR, Role.ADMIN})


def _loads() -> object:
    return Cycle.cycle_type.not_in(TEST_CYCLE_TYPES)


def bi_read_due(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A load's BI has incubated long enough and has no result yet: read it now."""
    rows = session.execute(
        select(Cycle, Sterilizer, BiProduct.min_incubation_minutes)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .outerjoin(BiProduct, BiProduct.id == Cycle.bi_product_id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(
            Cycle.bi_lot.is_not(None),
            Cycle.ended_at.is_not(None),
            Cycle.ended_at <= ctx.now,
            BiResult.id.is_(None),
        )
        .order_by(Cycle.id)
    ).all()
    for cycle, sterilizer, minutes in rows:
        due = readable_at(cycle.ended_at, minutes)  # type: ignore[arg-type]
        if due > ctx.now:
            continue
        yield Fact(
            key=f"cycle:{cycle.id}",
            subject=f"Read the BI of cycle {cycle.number} on {sterilizer.name}",
            detail=f"BI lot {cycle.bi_lot} could be read from {ctx.zone.local_text(due)}.",
            url=f"/cycles/{cycle.id}",
        )


def bi_missing(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A cadence gap (the sterilizer's `bi_frequency`): loads this ISO week (`weekly`) or
    today (`daily`) and none carried a BI; with `every_load`, each load without one."""
    week_start = ctx.zone.start_of_day(ctx.today - dt.timedelta(days=ctx.today.weekday()))
    day_start = ctx.zone.start_of_day(ctx.today)
    year, week = ctx.zone.iso_week(ctx.today)
    rows = session.execute(
        select(Sterilizer, Cycle)
        .join(Cycle, Cycle.sterilizer_id == Sterilizer.id)
        .where(_loads(), Cycle.started_at >= week_start, Cycle.started_at <= ctx.now)  # type: ignore[arg-type]
        .order_by(Sterilizer.id, Cycle.id)
    ).all()
    loads: dict[int, tuple[Sterilizer, list[Cycle]]] = {}
    for sterilizer, cycle in rows:
        loads.setdefault(sterilizer.id, (sterilizer, []))[1].append(cycle)  # type: ignore[arg-type]
    for sterilizer, cycles in loads.values():
        frequency = getattr(sterilizer, "bi_frequency", "weekly")
        if frequency == "every_load":
            for cycle in cycles:
                if not cycle.bi_lot:
                    yield Fact(
                        key=f"{sterilizer.code}:cycle:{cycle.id}",
                        subject=f"Cycle {cycle.number} on {sterilizer.name} ran without a BI",
                        detail=f"{sterilizer.name} needs a spore test (BI) in every load.",
                        url=f"/cycles/{cycle.id}",
                    )
            continue
        if frequency == "daily":
            cycles = [c for c in cycles if c.started_at >= day_start]
            period, key, when = "today", ctx.today.isoformat(), "today"
        else:
            period, key, when = "this week", f"{year}-W{week:02d}", "since Monday"
        if not cycles or any(c.bi_lot for c in cycles):
            continue
        yield Fact(
            key=f"{sterilizer.code}:{key}",
            subject=f"No spore test (BI) on {sterilizer.name} {period}",
            detail=f"{len(cycles)} load(s) {when} without a BI: include one in the next load.",
            url=f"/cycles/new?sterilizer={sterilizer.code}",
        )


def bowie_dick_missing(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A pre-vacuum sterilizer ran a load today before any passed Bowie-Dick test."""
    start, end = ctx.zone.day_bounds(ctx.today)
    first_load = func.min(Cycle.started_at)
    rows = session.execute(
        select(Sterilizer, first_load)
        .join(Cycle, Cycle.sterilizer_id == Sterilizer.id)
        .where(
            Sterilizer.kind == "steam_prevac",
            _loads(),  # type: ignore[arg-type]
            Cycle.started_at >= start,
            Cycle.started_at < end,
        )
        .group_by(Sterilizer.id)
        .order_by(Sterilizer.id)
    ).all()
    for sterilizer, first in rows:
        passed = sterilizer.last_bowie_dick_at
        if passed is not None and start <= passed <= first:
            continue
        yield Fact(
            key=f"{sterilizer.code}:{ctx.today.isoformat()}",
            subject=f"No passed Bowie-Dick test before today's load on {sterilizer.name}",
            detail=f"First load at {ctx.zone.local_text(first)}; run the Bowie-Dick test.",
            url=f"/cycles/new?sterilizer={sterilizer.code}",
        )


def cycle_overdue(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A cycle still running over 2 h after it started: finish or fail it."""
    rows = session.execute(
        select(Cycle, Sterilizer)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .where(Cycle.status == "running", Cycle.started_at <= ctx.now - CYCLE_OVERDUE_AFTER)
        .order_by(Cycle.id)
    ).all()
    for cycle, sterilizer in rows:
        yield Fact(
            key=f"cycle:{cycle.id}",
            subject=f"Cycle {cycle.number} on {sterilizer.name} has been running over 2 hours",
            detail=f"Started {ctx.zone.local_text(cycle.started_at)} by {cycle.operator}.",
            url=f"/cycles/{cycle.id}",
        )


def recall_open(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A recall is open: its packs must be found and reprocessed."""
    rows = session.execute(
        select(Recall, Sterilizer)
        .join(Sterilizer, Sterilizer.id == Recall.sterilizer_id)
        .where(Recall.status == "open")
        .order_by(Recall.id)
    ).all()
    for recall, sterilizer in rows:
        yield Fact(
            key=f"recall:{recall.id}",
            subject=f"Recall open on {sterilizer.name}: {recall.pack_count} pack(s)",
            detail=f"{recall.reason} (opened {ctx.zone.local_text(recall.opened_at)}).",
            url=f"/cycles/{recall.triggered_by_cycle_id}",
        )


def requalification_pending(session: Session, ctx: RuleContext) -> Iterator[Fact]:
    """A sterilizer must be requalified (after a positive BI, a failed air-removal test or a
    repair) before its next load: one notice per requalification, from when it began."""
    for sterilizer in session.scalars(
        select(Sterilizer)
        .where(Sterilizer.requalification_since.is_not(None))
        .order_by(Sterilizer.id)
    ):
        reason = sterilizer.requalification_reason or sterilizer.status_reason or ""
        since = sterilizer.requalification_since.isoformat()  # type: ignore[union-attr]
        episode = hashlib.sha256(f"{since}|{reason}".encode()).hexdigest()[:12]
        yield Fact(
            key=f"{sterilizer.code}:{episode}",
            subject=f"{sterilizer.name} is out of service: requalification pending",
            detail=reason,
            url="/admin/sterilizers",
        )


RULES: tuple[NotificationRule, ...] = (
    NotificationRule("bi_read_due", "BI ready to read", bi_read_due, MA,
                     "A biological indicator has incubated long enough."),
    NotificationRule("bi_missing", "Spore test (BI) missing", bi_missing, MA,
                     "Loads this week without a BI."),
    NotificationRule("bowie_dick_missing", "Bowie-Dick test missing", bowie_dick_missing, MA,
                     "A pre-vacuum load today without a passed Bowie-Dick test."),
    NotificationRule("cycle_overdue", "Cycle running too long", cycle_overdue, MA,
                     "A cycle still running 2 hours after it started."),
    NotificationRule("recall_open", "Recall open", recall_open, OVERSIGHT,
                     "A positive BI recalled packs."),
    NotificationRule("requalification_pending", "Requalification pending",
                     requalification_pending, OVERSIGHT,
                     "A sterilizer is out of service until it is requalified."),
)  # fmt: skip
