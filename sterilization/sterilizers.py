"""Sterilizers and their service status. A sterilizer leaves service when an
administrator says so, when an air-removal test fails, or on a positive spore test."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import Conflict, NotFound
from sterilization.models import Sterilizer

if TYPE_CHECKING:
    from sterilization.models import Cycle


def get_sterilizer(session: Session, code: str) -> Sterilizer:
    sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.code == code))
    if sterilizer is None:
        raise NotFound(f"No sterilizer with code {code!r}.")
    return sterilizer


def create_sterilizer(
    session: Session, *, code: str, name: str, kind: str, actor: str
) -> Sterilizer:
    if session.scalar(select(Sterilizer.id).where(Sterilizer.code == code)) is not None:
        raise Conflict(f"A sterilizer with code {code!r} already exists.", field="code")
    sterilizer = Sterilizer(code=code, name=name.strip(), kind=kind, status="in_service")
    session.add(sterilizer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # created by someone else a moment ago
        raise Conflict(f"A sterilizer with code {code!r} already exists.", field="code") from exc
    audit.record(
        session,
        actor=actor,
        action="sterilizer.create",
        entity="sterilizer",
        entity_id=code,
        after=audit.snapshot(sterilizer),
    )
    return sterilizer


def set_status(
    session: Session,
    sterilizer: Sterilizer,
    *,
    status: str,
    reason: str,
    actor: str,
    action: str = "sterilizer.status",
) -> None:
    """Change the service status, always with a reason, audited."""
    before = {"status": sterilizer.status, "status_reason": sterilizer.status_reason}
    session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id)
        .values(status=status, status_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.refresh(sterilizer)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="sterilizer",
        entity_id=sterilizer.code,
        before=before,
        after={"status": status, "status_reason": reason},
    )


def change_status(
    session: Session, code: str, *, status: str, reason: str, actor: str
) -> Sterilizer:
    sterilizer = get_sterilizer(session, code)
    set_status(session, sterilizer, status=status, reason=reason.strip(), actor=actor)
    return sterilizer


def apply_test_result(
    session: Session,
    sterilizer: Sterilizer,
    *,
    rule_purpose: str,
    cycle: Cycle,
    passed: bool,
    reasons: list[str],
    actor: str,
    now: dt.datetime,
) -> None:
    """A passed Bowie-Dick test clears today's first load; a failed air-removal test
    (Bowie-Dick or vacuum leak test) takes the sterilizer out of service."""
    if passed:
        if rule_purpose == "bowie_dick":
            session.execute(
                update(Sterilizer)
                .where(Sterilizer.id == sterilizer.id)
                .values(last_bowie_dick_at=now)
                .execution_options(synchronize_session=False)
            )
            session.refresh(sterilizer)
        return
    test = "Bowie-Dick test" if rule_purpose == "bowie_dick" else "leak test"
    set_status(
        session,
        sterilizer,
        status="out_of_service",
        reason=f"{test} failed on cycle {cycle.number}: {'; '.join(reasons)}"[:500],
        actor=actor,
        action="sterilizer.out_of_service",
    )


def sterilizers_by_code() -> Select[tuple[Sterilizer]]:
    """Every sterilizer by code, the API's list (paged with `kernel.pagination.paginate`)."""
    return select(Sterilizer).order_by(Sterilizer.code)


def list_sterilizers(session: Session) -> list[Sterilizer]:
    """Every sterilizer, by name (a clinic has a handful)."""
    return list(session.scalars(select(Sterilizer).order_by(Sterilizer.name, Sterilizer.code)))
