"""Early release of an implant load: implant packs are held until their BI reads
negative, unless the clinic releases them early on a passed Class 5 integrator (AAMI
ST79's emergency exception). The release is recorded on the cycle, as an `early_release`
event of each pack, and in the compliance report; a later positive BI recalls the packs
like any other."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.clock import ClinicTime
from kernel.problems import Conflict
from sterilization.cycle_queries import get_cycle
from sterilization.models import Cycle, CycleParameters, Pack, Sterilizer
from sterilization.packs import move_packs
from sterilization.shelf_life import ShelfLife


def early_release(
    session: Session,
    cycle_id: int,
    *,
    reason: str,
    actor: str,
    zone: ClinicTime,
    shelf_life: ShelfLife,
    now: dt.datetime,
) -> list[int]:
    """Release the quarantined packs of a cycle awaiting its BI; 409 unless its integrator
    passed. Returns the ids of the packs released."""
    cycle = session.scalar(select(Cycle).where(Cycle.id == cycle_id).with_for_update())
    if cycle is None:
        cycle = get_cycle(session, cycle_id)  # raises NotFound
    sterilizer = session.get(Sterilizer, cycle.sterilizer_id)
    assert sterilizer is not None
    label = f"Cycle {cycle.number} on {sterilizer.name}"
    if cycle.early_released_at is not None:
        raise Conflict(
            f"{label} was already released early ({zone.local_text(cycle.early_released_at)} "
            f"by {cycle.early_released_by})."
        )
    if cycle.status != "awaiting_bi":
        raise Conflict(
            f"{label} has no packs on hold for a BI (it is {cycle.status}): nothing to release.",
            extra={"current_status": cycle.status},
        )
    params = session.get(CycleParameters, cycle.id)
    integrator = params.integrator if params else None
    if integrator != "pass":
        raise Conflict(
            f"{label}: early release needs a passed Class 5 integrator / PCD in the load "
            f"(recorded: {integrator or 'none'}). Wait for the BI result.",
            field="integrator",
            extra={"integrator": integrator},
        )
    reason = reason.strip()
    released = move_packs(
        session,
        Pack.cycle_id == cycle.id,
        to="sterile",
        only_from=["quarantined"],
        event="early_release",
        actor=actor,
        at=now,
        details={
            "cycle": cycle.number,
            "sterilizer": sterilizer.code,
            "cycle_id": cycle.id,
            "reason": reason,
            "integrator": "pass",
            "bi": "pending",
        },
        values={"expires_on": shelf_life.expiry_for(cycle.ended_at or now, zone)},
    )
    session.execute(
        update(Cycle)
        .where(Cycle.id == cycle.id)
        .values(early_released_at=now, early_released_by=actor, early_release_reason=reason)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        actor=actor,
        action="cycle.early_release",
        entity="cycle",
        entity_id=cycle.id,
        after={"reason": reason, "released_packs": len(released), "integrator": "pass"},
    )
    session.refresh(cycle)
    return released
