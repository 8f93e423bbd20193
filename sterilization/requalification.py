"""Requalification: after a positive spore test, a failed Bowie-Dick test or a repair, a
sterilizer returns to service only after three consecutive empty-chamber BI tests
(`bi_test` cycles) read negative and, for a pre-vacuum sterilizer, three consecutive
Bowie-Dick tests passed, all since the fact that started it (CDC / AAMI ST79).

`start_requalification` is a plain service function: any rule that finds a sterilizer
needs requalifying (a positive BI here; equipment maintenance after a repair, through a
kernel hook) calls it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import Conflict
from sterilization.models import BiResult, Cycle, Sterilizer

BI_TESTS_NEEDED = 3
BOWIE_DICK_NEEDED = 3


@dataclass(frozen=True)
class Requalification:
    since: dt.datetime
    reason: str
    bi_tests_passed: int
    bi_tests_needed: int
    bowie_dick_passed: int
    bowie_dick_needed: int

    @property
    def met(self) -> bool:
        return (
            self.bi_tests_passed >= self.bi_tests_needed
            and self.bowie_dick_passed >= self.bowie_dick_needed
        )

    def missing(self) -> list[str]:
        missing = []
        if self.bi_tests_passed < self.bi_tests_needed:
            more = self.bi_tests_needed - self.bi_tests_passed
            missing.append(
                f"{more} more consecutive bi_test cycle(s) with a negative BI "
                f"({self.bi_tests_passed} of {self.bi_tests_needed})"
            )
        if self.bowie_dick_passed < self.bowie_dick_needed:
            more = self.bowie_dick_needed - self.bowie_dick_passed
            missing.append(
                f"{more} more consecutive passed Bowie-Dick test(s) "
                f"({self.bowie_dick_passed} of {self.bowie_dick_needed})"
            )
        return missing


def start_requalification(
    session: Session,
    sterilizer: Sterilizer,
    *,
    since: dt.datetime,
    reason: str,
    actor: str = "system",
) -> None:
    """Take the sterilizer out of service until it requalifies, counting from `since`
    (the time of the fact: a positive BI's read time, a failed Bowie-Dick's end, a
    repair). A new fact while requalifying starts the count again."""
    from sterilization.sterilizers import set_status

    reason = reason.strip()[:500]
    session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id)
        .values(requalification_since=since, requalification_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.refresh(sterilizer)
    set_status(
        session,
        sterilizer,
        status="out_of_service",
        reason=f"Requalifying: {reason}"[:500],
        actor=actor,
        action="sterilizer.out_of_service",
    )
    audit.record(
        session,
        actor=actor,
        action="sterilizer.requalification",
        entity="sterilizer",
        entity_id=sterilizer.code,
        after={"since": since, "reason": reason},
    )


def _trailing(outcomes: list[bool]) -> int:
    """How many passed in a row at the end (newest last)."""
    count = 0
    for ok in reversed(outcomes):
        if not ok:
            break
        count += 1
    return count


def progress(session: Session, sterilizer: Sterilizer) -> Requalification | None:
    """The sterilizer's requalification with the consecutive tests passed since it
    began (the newest count; a failed test starts the row again)."""
    since = sterilizer.requalification_since
    if since is None:
        return None
    rows = session.execute(
        select(Cycle.cycle_type, Cycle.status, BiResult.result)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(
            Cycle.sterilizer_id == sterilizer.id,
            Cycle.cycle_type.in_(["bi_test", "bowie_dick"]),
            Cycle.started_at >= since,
            Cycle.status != "running",
        )
        .order_by(Cycle.number)
    ).all()
    bi_tests: list[bool] = []
    bowie_dick: list[bool] = []
    for cycle_type, status, result in rows:
        if cycle_type == "bi_test":
            if result is None and status != "failed":
                continue  # its BI is not read yet: neither counts nor breaks the row
            bi_tests.append(status != "failed" and result == "negative")
        else:
            bowie_dick.append(status == "passed")
    prevac = sterilizer.kind == "steam_prevac"
    return Requalification(
        since=since,
        reason=sterilizer.requalification_reason or "",
        bi_tests_passed=min(_trailing(bi_tests), BI_TESTS_NEEDED),
        bi_tests_needed=BI_TESTS_NEEDED,
        bowie_dick_passed=min(_trailing(bowie_dick), BOWIE_DICK_NEEDED) if prevac else 0,
        bowie_dick_needed=BOWIE_DICK_NEEDED if prevac else 0,
    )


def check_return_to_service(session: Session, sterilizer: Sterilizer) -> None:
    """409 listing what is missing while the requalification is not met; once met, the
    requalification ends (the caller puts the sterilizer back in service)."""
    state = progress(session, sterilizer)
    if state is None:
        return
    if not state.met:
        missing = state.missing()
        raise Conflict(
            f"{sterilizer.name} is requalifying ({state.reason}); before it returns to "
            f"service it needs: {'; '.join(missing)}.",
            field="status",
            extra={"missing": missing},
        )
    session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id)
        .values(requalification_since=None, requalification_reason=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(sterilizer)
