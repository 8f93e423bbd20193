"""Recalls after a positive spore test.

Everything the sterilizer processed after its last negative BI is suspect: unused packs
are pulled (`recalled`), used ones are listed with their encounter so patients can be
traced. The work is a few set-based statements, so a recall over thousands of packs takes
well under a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from kernel import audit
from kernel.clock import ClinicTime
from kernel.problems import Conflict, NotFound
from kernel.sites.query_scope import across_sites
from sterilization.models import BiResult, Cycle, Pack, Recall, RecallPack, Sterilizer
from sterilization.packs import move_packs
from sterilization.shelf_life import ShelfLife, apply_template_shelf_lives
from sterilization.sterilizers import set_status

# Statuses of packs a recall lists. Unused ones among them are pulled; `used` packs are
# listed for tracing; packs already pulled by an earlier recall are listed, not moved.
LISTED_STATUSES = ("loaded", "sterile", "quarantined", "used", "recalled")
PULLED_STATUSES = ("loaded", "sterile", "quarantined")


def last_negative_bi_number(session: Session, sterilizer_id: int, before_number: int) -> int | None:
    return session.scalar(
        select(func.max(Cycle.number))
        .join(BiResult, BiResult.cycle_id == Cycle.id)
        .where(
            Cycle.sterilizer_id == sterilizer_id,
            Cycle.number < before_number,
            BiResult.result == "negative",
        )
    )


@across_sites
def open_recall_for_positive_bi(
    session: Session, cycle: Cycle, *, actor: str, now: dt.datetime
) -> Recall:
    """Take the sterilizer out of service and recall every pack it processed in cycles
    after the last negative BI (that cycle itself excluded), up to now."""
    sterilizer = session.get(Sterilizer, cycle.sterilizer_id)
    assert sterilizer is not None
    reason = f"positive spore test (BI) on cycle {cycle.number}"
    set_status(
        session,
        sterilizer,
        status="out_of_service",
        reason=reason,
        actor=actor,
        action="sterilizer.out_of_service",
    )
    since_number = last_negative_bi_number(session, sterilizer.id, cycle.number)
    since_cycle_id = (
        session.scalar(
            select(Cycle.id).where(
                Cycle.sterilizer_id == sterilizer.id, Cycle.number == since_number
            )
        )
        if since_number is not None
        else None
    )
    recall = Recall(
        sterilizer_id=sterilizer.id,
        triggered_by_cycle_id=cycle.id,
        since_cycle_id=since_cycle_id,
        status="open",
        reason=reason,
        opened_at=now,
        opened_by=actor,
    )
    session.add(recall)
    session.flush()

    affected_cycles = select(Cycle.id).where(
        Cycle.sterilizer_id == sterilizer.id, Cycle.number > (since_number or 0)
    )
    session.execute(
        insert(RecallPack).from_select(
            ["recall_id", "pack_id", "previous_status"],
            select(literal(recall.id), Pack.id, Pack.status).where(
                Pack.cycle_id.in_(affected_cycles), Pack.status.in_(LISTED_STATUSES)
            ),
        )
    )
    pulled = move_packs(
        session,
        Pack.id.in_(
            select(RecallPack.pack_id).where(
                RecallPack.recall_id == recall.id,
                RecallPack.previous_status.in_(PULLED_STATUSES),
            )
        ),
        to="recalled",
        only_from=PULLED_STATUSES,
        event="recalled",
        actor=actor,
        at=now,
        details={"recall": recall.id, "reason": reason},
        values={"recall_id": recall.id},
    )
    count = session.scalar(
        select(func.count()).select_from(RecallPack).where(RecallPack.recall_id == recall.id)
    )
    recall.pack_count = count or 0
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="recall.open",
        entity="recall",
        entity_id=recall.id,
        after={
            **audit.snapshot(recall),
            "sterilizer": sterilizer.code,
            "since_cycle_number": since_number,
            "pulled_packs": len(pulled),
        },
    )
    return recall


def resolve_recall(
    session: Session,
    recall_id: int,
    *,
    resolution: str,
    reason: str,
    actor: str,
    zone: ClinicTime,
    shelf_life: ShelfLife,
    now: dt.datetime,
) -> Recall:
    """Close a recall: `confirmed` keeps its packs out of use for good (reprocess or
    discard them); `released` (the investigation found the BI result false) puts the
    packs it pulled back (see :func:`_release_packs`).
    The sterilizer's status is not changed here: an administrator returns it to service."""
    recall = get_recall(session, recall_id)
    done = session.execute(
        update(Recall)
        .where(Recall.id == recall.id, Recall.status == "open")
        .values(status=resolution, resolved_at=now, resolved_by=actor, resolution_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        session.refresh(recall)
        raise Conflict(
            f"Recall {recall.id} is already resolved ({recall.status}).",
            extra={"status": recall.status},
        )
    restored: list[int] = []
    if resolution == "released":
        restored = _release_packs(
            session, recall, reason=reason, actor=actor, zone=zone, shelf_life=shelf_life,
            now=now,
        )  # fmt: skip
    session.refresh(recall)
    audit.record(
        session,
        actor=actor,
        action=f"recall.{resolution}",
        entity="recall",
        entity_id=recall.id,
        before={"status": "open"},
        after={"status": resolution, "reason": reason, "restored_packs": len(restored)},
    )
    return recall


@across_sites
def _release_packs(
    session: Session,
    recall: Recall,
    *,
    reason: str,
    actor: str,
    zone: ClinicTime,
    shelf_life: ShelfLife,
    now: dt.datetime,
) -> list[int]:
    """Return the packs this recall pulled to where they were, unless another open recall
    still holds them: `sterile` ones to `sterile`; implant packs that were `quarantined`
    back to quarantine while their own cycle still awaits its BI, else `sterile` (with
    their shelf life counted from their cycle). Packs whose load was still running when
    the recall opened stay `recalled`: their cycle was never checked as part of it."""
    other_open = (
        select(RecallPack.pack_id)
        .join(Recall, Recall.id == RecallPack.recall_id)
        .where(Recall.status == "open", Recall.id != recall.id)
    )
    _hand_over_to_other_open_recalls(session, recall, other_open)
    held_here = (Pack.recall_id == recall.id) & Pack.id.not_in(other_open)

    def previously(status: str) -> ColumnElement[bool]:
        return Pack.id.in_(
            select(RecallPack.pack_id).where(
                RecallPack.recall_id == recall.id, RecallPack.previous_status == status
            )
        )

    awaiting_bi = Pack.cycle_id.in_(select(Cycle.id).where(Cycle.status == "awaiting_bi"))
    details = {"recall": recall.id, "reason": reason}
    common = {"actor": actor, "at": now, "details": details, "only_from": ["recalled"]}
    restored = move_packs(
        session,
        held_here & previously("sterile"),
        to="sterile",
        event="recall_released",
        values={"recall_id": None},
        **common,
    )
    restored += move_packs(
        session,
        held_here & previously("quarantined") & awaiting_bi,
        to="quarantined",
        event="recall_released",
        values={"recall_id": None},
        **common,
    )
    # Quarantined implants whose cycle's BI is settled: their shelf life starts from
    # their own sterilization date (a few packs, grouped by that date).
    implants = session.execute(
        select(Pack.id, Pack.sterilized_at).where(
            held_here, previously("quarantined"), ~awaiting_bi, Pack.status == "recalled"
        )
    ).all()
    by_expiry: dict[dt.date | None, list[int]] = {}
    for pack_id, sterilized_at in implants:
        by_expiry.setdefault(shelf_life.expiry_for(sterilized_at or now, zone), []).append(pack_id)
    for expires_on, ids in by_expiry.items():
        released = move_packs(
            session,
            Pack.id.in_(ids),
            to="sterile",
            event="recall_released",
            values={"recall_id": None, "expires_on": expires_on},
            **common,
        )
        apply_template_shelf_lives(session, released, zone)
        restored += released
    return restored


@across_sites
def _hand_over_to_other_open_recalls(
    session: Session, recall: Recall, other_open: Select[Any]
) -> None:
    """Packs this recall pulled that another open recall also covers stay recalled; that
    recall now holds them, and learns the status they had before either recall."""
    mine = RecallPack.__table__.alias("mine")
    session.execute(
        update(RecallPack)
        .where(
            RecallPack.recall_id != recall.id,
            RecallPack.recall_id.in_(select(Recall.id).where(Recall.status == "open")),
            RecallPack.previous_status == "recalled",
            RecallPack.pack_id.in_(select(Pack.id).where(Pack.recall_id == recall.id)),
        )
        .values(
            previous_status=select(mine.c.previous_status)
            .where(mine.c.recall_id == recall.id, mine.c.pack_id == RecallPack.pack_id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Pack)
        .where(Pack.recall_id == recall.id, Pack.id.in_(other_open))
        .values(
            recall_id=select(func.min(RecallPack.recall_id))
            .join(Recall, Recall.id == RecallPack.recall_id)
            .where(
                RecallPack.pack_id == Pack.id,
                Recall.status == "open",
                Recall.id != recall.id,
            )
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )


# Reading -----------------------------------------------------------------------------


def get_recall(session: Session, recall_id: int) -> Recall:
    recall = session.get(Recall, recall_id)
    if recall is None:
        raise NotFound(f"No recall with id {recall_id}.")
    return recall


@dataclass(frozen=True)
class RecallLine:
    """A recall with its sterilizer's code and the numbers of the cycles that bound it."""

    recall: Recall
    sterilizer_code: str
    triggered_by_cycle_number: int
    since_cycle_number: int | None


def _recall_lines(
    session: Session, *where: Any, limit: int | None = None, offset: int = 0
) -> list[RecallLine]:
    trigger, since = aliased(Cycle), aliased(Cycle)
    rows = session.execute(
        select(Recall, Sterilizer.code, trigger.number, since.number)
        .join(Sterilizer, Sterilizer.id == Recall.sterilizer_id)
        .join(trigger, trigger.id == Recall.triggered_by_cycle_id)
        .outerjoin(since, since.id == Recall.since_cycle_id)
        .where(*where)
        .order_by(Recall.opened_at.desc(), Recall.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [RecallLine(*row) for row in rows]


def list_recalls(
    session: Session, *, status: str | None = None, limit: int, offset: int
) -> tuple[list[RecallLine], int]:
    """Recalls, newest first: one page and the total."""
    where = [Recall.status == status] if status else []
    total = session.scalar(select(func.count()).select_from(Recall).where(*where)) or 0
    return _recall_lines(session, *where, limit=limit, offset=offset), total


def recall_line(session: Session, recall_id: int) -> RecallLine:
    lines = _recall_lines(session, Recall.id == recall_id)
    if not lines:
        raise NotFound(f"No recall with id {recall_id}.")
    return lines[0]


@across_sites
def recall_packs(session: Session, recall_id: int) -> list[tuple[Pack, str, int | None]]:
    rows = session.execute(
        select(Pack, RecallPack.previous_status, Cycle.number)
        .join(RecallPack, RecallPack.pack_id == Pack.id)
        .outerjoin(Cycle, Cycle.id == Pack.cycle_id)
        .where(RecallPack.recall_id == recall_id)
        .order_by(Pack.id)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def open_recalls(session: Session) -> list[tuple[Recall, str, int]]:
    """Open recalls, newest first, with the sterilizer's name and the cycle number of the
    positive BI that opened them."""
    rows = session.execute(
        select(Recall, Sterilizer.name, Cycle.number)
        .join(Sterilizer, Sterilizer.id == Recall.sterilizer_id)
        .join(Cycle, Cycle.id == Recall.triggered_by_cycle_id)
        .where(Recall.status == "open")
        .order_by(Recall.opened_at.desc(), Recall.id.desc())
    ).all()
    return [(recall, name, number) for recall, name, number in rows]
