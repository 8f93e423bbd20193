"""Biological indicator (spore test) results.

A result only counts when the control vial grew (proving the spores were alive); a
negative result releases implant packs held in quarantine; a positive one takes the
sterilizer out of service and recalls what it processed since its last negative BI.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.clock import ClinicTime
from kernel.problems import Conflict, InvalidInput
from sterilization import recalls
from sterilization.cycle_queries import get_cycle
from sterilization.cycle_types import cycle_type_rule
from sterilization.models import BiResult, Cycle, Pack, Recall, Sterilizer
from sterilization.packs import move_packs
from sterilization.shelf_life import ShelfLife


def record_bi_result(
    session: Session,
    cycle_id: int,
    *,
    result: str,
    control_grew: bool,
    lot: str | None,
    actor: str,
    zone: ClinicTime,
    shelf_life: ShelfLife,
    now: dt.datetime,
) -> tuple[BiResult, Recall | None]:
    if not control_grew:
        raise InvalidInput(
            "The control vial did not grow, so this spore test is invalid: repeat it with a "
            "new BI from a good lot. Nothing was recorded.",
            extra={
                "errors": [
                    {"field": "control_grew", "message": "control must grow", "source": "body"}
                ]
            },
        )
    # Lock the cycle so two tablets cannot both record a result.
    cycle = session.scalar(select(Cycle).where(Cycle.id == cycle_id).with_for_update())
    if cycle is None:
        cycle = get_cycle(session, cycle_id)  # raises NotFound
    sterilizer = session.get(Sterilizer, cycle.sterilizer_id)
    assert sterilizer is not None
    if cycle_type_rule(session, cycle.cycle_type).is_test:
        raise InvalidInput(f"Cycle {cycle.number} is a {cycle.cycle_type} test; it has no BI.")
    if cycle.status == "running":
        raise Conflict(
            f"Cycle {cycle.number} on {sterilizer.name} is still running; complete it first."
        )
    existing = session.scalar(select(BiResult).where(BiResult.cycle_id == cycle.id))
    if existing is not None:
        raise Conflict(
            f"The BI of cycle {cycle.number} on {sterilizer.name} was already recorded "
            f"({existing.result}); correct it with an amendment if it was wrong.",
            extra={"result": existing.result},
        )
    lot = (lot or cycle.bi_lot or "").strip()
    if not lot:
        raise InvalidInput(
            "Record the BI lot number (it was not given when the cycle started).",
            extra={"errors": [{"field": "lot", "message": "required", "source": "body"}]},
        )
    bi = BiResult(
        cycle_id=cycle.id,
        result=result,
        control_grew=control_grew,
        lot=lot,
        read_at=now,
        recorded_by=actor,
    )
    session.add(bi)
    session.flush()
    session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id)
        .values(last_bi_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=actor,
        action=f"cycle.bi_{result}",
        entity="cycle",
        entity_id=cycle.id,
        after=audit.snapshot(bi),
    )
    recall = None
    if result == "negative":
        released = move_packs(
            session,
            Pack.cycle_id == cycle.id,
            to="sterile",
            only_from=["quarantined"],
            event="released",
            actor=actor,
            at=now,
            details={"cycle": cycle.number, "sterilizer": sterilizer.code, "bi": "negative"},
            values={"expires_on": shelf_life.expiry_for(cycle.ended_at or now, zone)},
        )
        if cycle.status == "awaiting_bi":
            session.execute(
                update(Cycle)
                .where(Cycle.id == cycle.id, Cycle.status == "awaiting_bi")
                .values(status="passed")
                .execution_options(synchronize_session=False)
            )
        if released:
            audit.record(
                session,
                actor=actor,
                action="pack.release",
                entity="cycle",
                entity_id=cycle.id,
                after={"released_packs": len(released)},
            )
    else:
        # The load was not proven sterile, whatever its readings said.
        session.execute(
            update(Cycle)
            .where(Cycle.id == cycle.id, Cycle.status.in_(["passed", "awaiting_bi"]))
            .values(status="failed")
            .execution_options(synchronize_session=False)
        )
        recall = recalls.open_recall_for_positive_bi(session, cycle, actor=actor, now=now)
    session.refresh(cycle)
    return bi, recall
