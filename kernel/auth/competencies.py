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
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
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


Held = list[tuple[dt.date, dt.date | None]]  # (granted_on, expires_on) of one skill


def _held(
    session: Session, usernames: Collection[str], skills: Collection[str]
) -> dict[tuple[str, str], Held]:
    """Every competency of these people in these skills, by (username, skill): one query,
    however many days the caller then asks about."""
    held: dict[tuple[str, str], Held] = {}
    for username, skill, granted_on, expires_on in session.execute(
        select(User.username, UserCompetency.skill, UserCompetency.granted_on,
               UserCompetency.expires_on)
        .join(User, User.id == UserCompetency.user_id)
        .where(User.username.in_(sorted(usernames)), UserCompetency.skill.in_(sorted(skills)))
    ):  # fmt: skip
        held.setdefault((username, skill), []).append((granted_on, expires_on))
    return held


def _missing_from(held: Held, on_day: dt.date) -> str | None:
    """Why someone holding `held` had no current competency on `on_day` (None: they had
    one granted by then and not expired before it)."""
    granted = [expires_on for granted_on, expires_on in held if granted_on <= on_day]
    if any(expires_on is None or expires_on >= on_day for expires_on in granted):
        return None
    if granted:  # every one granted by then had lapsed: name the latest lapse
        return f"competency expired on {max(granted)}"  # type: ignore[type-var]
    return "no competency recorded"


def missing_competency(session: Session, username: str, skill: str, on_day: dt.date) -> str | None:
    """Why `username` had no current competency in `skill` on `on_day` (None: they had)."""
    username = normalize_username(username)
    held = _held(session, [username], [skill])
    return _missing_from(held.get((username, skill), []), on_day)


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


OperatorActivity = Callable[..., list[Operation]]
# `operators(session, start, end)`: who worked in [start, end), as (username, skill, first
# at, last at): a summary read in one grouped query.
OperatorSpans = Callable[
    [Session, dt.datetime | None, dt.datetime | None],
    list[tuple[str, str, dt.datetime, dt.datetime]],
]
_activities: dict[str, OperatorActivity] = {}
_spans: dict[str, OperatorSpans] = {}


def register_operator_activity(
    name: str, activity: OperatorActivity, *, operators: OperatorSpans | None = None
) -> None:
    """`activity(session, start, end)` lists the work done in [start, end) (UTC). With
    `operators` (each person's first and last work in the period), only the work of people
    whose competencies do not cover every day between those is listed: then `activity` is
    called with `operators=[usernames]` and lists only theirs."""
    _activities[name] = activity
    if operators is None:
        _spans.pop(name, None)
    else:
        _spans[name] = operators


def _covered(held: Held, first: dt.date, last: dt.date) -> bool:
    """True when on every day from `first` to `last` one of `held` was current (granted by
    then and not expired before it): nobody's work on those days needs a closer look."""
    day = first
    for granted_on, expires_on in sorted(held, key=lambda h: h[0]):
        if granted_on > day:
            return False
        if expires_on is None:
            return True
        if expires_on >= day:
            if expires_on >= last:
                return True
            day = expires_on + dt.timedelta(days=1)
    return day > last


def _doubtful(
    session: Session,
    spans: list[tuple[str, str, dt.datetime, dt.datetime]],
    day_of: Callable[[dt.datetime], dt.date],
) -> list[str]:
    """The people (as the records spell them) whose work must be judged day by day."""
    if not spans:
        return []
    held = _held(session, {normalize_username(u) for u, *_ in spans}, {s for _, s, *_ in spans})
    margin = dt.timedelta(days=1)  # a local day is not always monotonic in the instant
    return sorted(
        {
            username
            for username, skill, first, last in spans
            if not _covered(
                held.get((normalize_username(username), skill), []),
                day_of(first) - margin,
                day_of(last) + margin,
            )
        }
    )


def _operations(
    session: Session,
    start: dt.datetime | None,
    end: dt.datetime | None,
    day_of: Callable[[dt.datetime], dt.date],
) -> list[Operation]:
    operations: list[Operation] = []
    for name, activity in list(_activities.items()):
        spans = _spans.get(name)
        if spans is None:
            operations += activity(session, start, end)
            continue
        # A clinic group's year is 100,000 cycles by a few trained people: list only the
        # work of those whose competencies leave a day of their work uncovered.
        doubtful = _doubtful(session, spans(session, start, end), day_of)
        if doubtful:
            operations += activity(session, start, end, operators=doubtful)
    return operations


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
    operations = _operations(session, start, end, day_of)
    if not operations:
        return []
    # Everyone's competencies in one query (not two per person and day: a year of a
    # clinic group's cycles is thousands of days and people), then each day in Python.
    held = _held(
        session,
        {normalize_username(op.username) for op in operations},
        {op.skill for op in operations},
    )
    found: list[UntrainedOperation] = []
    cache: dict[tuple[str, str, dt.date], str | None] = {}
    for op in operations:
        who = (normalize_username(op.username), op.skill)
        key = (*who, day_of(op.at))
        if key not in cache:
            cache[key] = _missing_from(held.get(who, []), key[2])
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
