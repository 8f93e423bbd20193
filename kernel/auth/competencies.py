"""Staff competencies: who was trained (and when it lapses) for sterilizer operation,
high-level disinfection and instrument processing.

Work done by someone without a current competency is flagged, never blocked: a cycle or
an HLD run carries a warning (`competency_warnings`), and the compliance report lists it
(`untrained_operations`). The kernel knows no domain, so each domain registers what its
people did (`register_operator_activity`): sterilization its cycles, equipment its HLD
runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.auth.models import SKILLS, User, UserCompetency
from kernel.auth.service import get_user, normalize_username
from kernel.problems import InvalidInput

SKILL_NAMES = {
    "sterilizer_operation": "sterilizer operation",
    "hld": "high-level disinfection",
    "instrument_processing": "instrument processing",
}


def grant_competency(
    session: Session,
    username: str,
    *,
    skill: str,
    granted_on: dt.date,
    expires_on: dt.date | None = None,
    evidence: str | None = None,
    actor: str,
    now: dt.datetime,
) -> UserCompetency:
    """Record a competency; an expiry not after the grant is refused (nothing written)."""
    user = get_user(session, username)
    if skill not in SKILLS:
        raise InvalidInput.for_field("skill", f"Unknown skill {skill!r}.")
    if expires_on is not None and expires_on <= granted_on:
        raise InvalidInput.for_field(
            "expires_on", f"`expires_on` ({expires_on}) must be after `granted_on` ({granted_on})."
        )
    competency = UserCompetency(
        user_id=user.id,  # type: ignore[arg-type]
        skill=skill,
        granted_on=granted_on,
        expires_on=expires_on,
        evidence=evidence.strip() if evidence else None,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(competency)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.competency",
        entity="user",
        entity_id=user.username,
        after=audit.snapshot(competency),
    )
    return competency


def competencies_of(session: Session, username: str) -> Select[tuple[UserCompetency]]:
    """A person's competencies, newest grant first (paged by the API)."""
    user = get_user(session, username)
    return (
        select(UserCompetency)
        .where(UserCompetency.user_id == user.id)
        .order_by(UserCompetency.granted_on.desc(), UserCompetency.id.desc())  # type: ignore[attr-defined]
    )


def current_competency(
    session: Session, username: str, skill: str, on_day: dt.date
) -> UserCompetency | None:
    """The competency in `skill` that covers `on_day` for this person, if any (the one
    lasting longest when several do)."""
    rows = session.scalars(
        select(UserCompetency)
        .join(User, User.id == UserCompetency.user_id)
        .where(
            User.username == normalize_username(username),
            UserCompetency.skill == skill,
            UserCompetency.granted_on <= on_day,
            or_(UserCompetency.expires_on.is_(None), UserCompetency.expires_on >= on_day),  # type: ignore[union-attr]
        )
    )
    found = list(rows)
    if not found:
        return None
    return max(found, key=lambda c: (c.expires_on is None, c.expires_on or dt.date.min))


def _latest_lapsed(
    session: Session, username: str, skill: str, on_day: dt.date
) -> UserCompetency | None:
    return session.scalar(
        select(UserCompetency)
        .join(User, User.id == UserCompetency.user_id)
        .where(
            User.username == normalize_username(username),
            UserCompetency.skill == skill,
            UserCompetency.granted_on <= on_day,
        )
        .order_by(UserCompetency.expires_on.desc())  # type: ignore[union-attr]
        .limit(1)
    )


def missing_competency(session: Session, username: str, skill: str, on_day: dt.date) -> str | None:
    """Why `username` had no current competency in `skill` on `on_day` (None: they had)."""
    if current_competency(session, username, skill, on_day) is not None:
        return None
    lapsed = _latest_lapsed(session, username, skill, on_day)
    if lapsed is not None and lapsed.expires_on is not None:
        return f"competency expired on {lapsed.expires_on}"
    return "no competency recorded"


def competency_warnings(session: Session, username: str, skill: str, on_day: dt.date) -> list[str]:
    """The warning a cycle or HLD run carries when its operator is not trained for it."""
    why = missing_competency(session, username, skill, on_day)
    if why is None:
        return []
    return [
        f"{username} has no current competency in {SKILL_NAMES.get(skill, skill)} "
        f"({why}): the work is recorded, and listed in the compliance report."
    ]


# What people did, as each domain reports it ------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    """One piece of work a person did that needs a competency."""

    username: str
    skill: str
    at: dt.datetime
    what: str  # "cycle 42 on Autoclave A", "HLD run 7 of TEE-1"
    kind: str  # "cycle", "hld_run"
    ref: str  # the record's id or code


OperatorActivity = Callable[[Session, dt.datetime | None, dt.datetime | None], list[Operation]]
_activities: dict[str, OperatorActivity] = {}


def register_operator_activity(name: str, activity: OperatorActivity) -> None:
    """`activity(session, start, end)` lists the work done in [start, end) (UTC)."""
    _activities[name] = activity


@dataclass(frozen=True, slots=True)
class UntrainedOperation:
    operation: Operation
    reason: str


def untrained_operations(
    session: Session,
    start: dt.datetime | None,
    end: dt.datetime | None,
    *,
    day_of: Callable[[dt.datetime], dt.date],
) -> list[UntrainedOperation]:
    """Every registered piece of work in [start, end) done without a current competency
    on its (local) day, oldest first."""
    found: list[UntrainedOperation] = []
    cache: dict[tuple[str, str, dt.date], str | None] = {}
    for activity in list(_activities.values()):
        for op in activity(session, start, end):
            key = (op.username, op.skill, day_of(op.at))
            if key not in cache:
                cache[key] = missing_competency(session, *key)
            if cache[key] is not None:
                found.append(UntrainedOperation(op, cache[key]))  # type: ignore[arg-type]
    return sorted(found, key=lambda u: (u.operation.at, u.operation.kind, u.operation.ref))


# The compliance report's `untrained_operators` section --------------------------------


def untrained_section(session: Session, scope: Any) -> list[Any]:
    """`untrained_operators`: every registered piece of work in the period done without a
    current competency on its local day, oldest first."""
    from kernel.auth.schemas import UntrainedOperationOut

    found = untrained_operations(
        session, scope.period.start, scope.period.end, day_of=scope.zone.local_date
    )
    return [
        UntrainedOperationOut(
            username=u.operation.username,
            skill=u.operation.skill,
            reason=u.reason,
            kind=u.operation.kind,
            ref=u.operation.ref,
            what=u.operation.what,
            at=scope.zone.local(u.operation.at),
        )
        for u in found
    ]


def untrained_tables(value: list[Any], zone: Any) -> list[Any]:
    from kernel.compliance import FindingTable

    return [
        FindingTable(
            key="untrained-operators",
            title="Work by staff without a current competency",
            headers=["When", "Who", "Work", "Skill needed", "Why"],
            rows=[
                [
                    zone.local_text(u.at),
                    u.username,
                    u.what,
                    SKILL_NAMES.get(u.skill, u.skill),
                    u.reason,
                ]
                for u in value
            ],
        )
    ]


def register_untrained_section() -> None:
    from kernel.compliance import ComplianceSection, register_compliance_section

    register_compliance_section(
        ComplianceSection(
            name="untrained_operators",
            title="Training",
            build=untrained_section,
            tables=untrained_tables,
            order=300,
        )
    )
