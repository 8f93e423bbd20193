"""Biological indicator (spore test) results.

A result only counts when the control vial grew (proving the spores were alive); a
negative result releases implant packs held in quarantine; a positive one takes the
sterilizer out of service and recalls what it processed since its last negative BI.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.clock import ClinicTime
from kernel.problems import Conflict, InvalidInput
from kernel.sites.codes import zone_of
from sterilization import bi_products, recalls, requalification
from sterilization.cycle_queries import get_cycle
from sterilization.cycle_types import cycle_type_rule
from sterilization.models import BiProduct, BiResult, Cycle, InvalidBiTest, Pack, Recall, Sterilizer
from sterilization.packs import move_packs
from sterilization.shelf_life import ShelfLife, apply_template_shelf_lives


def _read_times(
    cycle: Cycle,
    product: BiProduct,
    *,
    read_at: dt.datetime | None,
    incubation_started_at: dt.datetime | None,
    zone: ClinicTime,
    now: dt.datetime,
) -> tuple[dt.datetime, dt.datetime]:
    """(incubation start, read time), refused when a time is implausible (422) or the
    vial is read before its product's minimum incubation (409 with the earliest time)."""
    for name, value in (("read_at", read_at), ("incubation_started_at", incubation_started_at)):
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise InvalidInput.for_field(name, f"{name} needs a UTC offset.", message="offset")
    read = now if read_at is None else read_at.astimezone(dt.UTC)
    started = (
        (cycle.ended_at or now)
        if incubation_started_at is None
        else incubation_started_at.astimezone(dt.UTC)
    )
    if read > now:
        raise InvalidInput.for_field(
            "read_at", f"read_at {zone.local_text(read)} is in the future.", message="future"
        )
    if cycle.ended_at is not None and started < cycle.ended_at - dt.timedelta(hours=12):
        raise InvalidInput.for_field(
            "incubation_started_at",
            "Incubation starts when the BI comes out of the load, not before the cycle "
            f"(ended {zone.local_text(cycle.ended_at)}).",
            message="before the cycle",
        )
    if started > now:
        raise InvalidInput.for_field(
            "incubation_started_at",
            f"incubation_started_at {zone.local_text(started)} is in the future.",
            message="future",
        )
    earliest = bi_products.readable_at(started, product.min_incubation_minutes)
    if read < earliest:
        raise Conflict(
            f"Too early to read this BI: {product.name} ({product.code}) incubates at least "
            f"{product.min_incubation_minutes} minutes, so read it at "
            f"{zone.local_text(earliest)} or later (earliest read time "
            f"{earliest.isoformat()}).",
            field="read_at",
            extra={
                "earliest_read_at": earliest.isoformat(),
                "errors": [
                    {"field": "read_at", "message": "before the minimum incubation",
                     "source": "body"}
                ],
            },
        )  # fmt: skip
    return started, read


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
    read_at: dt.datetime | None = None,
    incubation_started_at: dt.datetime | None = None,
) -> tuple[BiResult | InvalidBiTest, Recall | None]:
    """Record a read-out. A control that did not grow is an invalid test: kept as a
    record, releasing nothing and changing no status; the cycle takes another result."""
    # Lock the cycle so two tablets cannot both record a result.
    cycle = session.scalar(select(Cycle).where(Cycle.id == cycle_id).with_for_update())
    if cycle is None:
        cycle = get_cycle(session, cycle_id)  # raises NotFound
    sterilizer = session.get(Sterilizer, cycle.sterilizer_id)
    assert sterilizer is not None
    rule = cycle_type_rule(session, cycle.cycle_type)
    if rule.is_test and rule.purpose != "bi_test":
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
    product = (
        session.get(BiProduct, cycle.bi_product_id)
        if cycle.bi_product_id
        else bi_products.product_for_cycle(session, None)
    )
    assert product is not None
    started, read = _read_times(
        cycle, product, read_at=read_at, incubation_started_at=incubation_started_at,
        zone=zone, now=now,
    )  # fmt: skip
    if not control_grew:
        invalid = InvalidBiTest(
            cycle_id=cycle.id,
            bi_product_id=product.id,
            lot=lot,
            claimed_result=result,
            incubation_started_at=started,
            read_at=read,
            recorded_by=actor,
            recorded_at=now,
        )
        session.add(invalid)
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="cycle.bi_invalid",
            entity="cycle",
            entity_id=cycle.id,
            after=audit.snapshot(invalid),
        )
        return invalid, None
    bi = BiResult(
        cycle_id=cycle.id,
        result=result,
        control_grew=control_grew,
        lot=lot,
        bi_product_id=product.id,
        incubation_started_at=started,
        read_at=read,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(bi)
    session.flush()
    session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id)
        .where(or_(Sterilizer.last_bi_at.is_(None), Sterilizer.last_bi_at < read))
        .values(last_bi_at=read)
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
            at=read,
            details={"cycle": cycle.number, "sterilizer": sterilizer.code, "bi": "negative"},
            values={
                "expires_on": shelf_life.expiry_for(cycle.ended_at or read, zone_of(cycle, zone))
            },
        )
        apply_template_shelf_lives(session, released, zone)
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
        if rule.purpose != "bi_test":  # an empty chamber: nothing to recall
            recall = recalls.open_recall_for_positive_bi(session, cycle, actor=actor, now=read)
        requalification.start_requalification(
            session, sterilizer, since=read, actor=actor,
            reason=f"positive spore test (BI) on cycle {cycle.number}",
        )  # fmt: skip
    session.refresh(cycle)
    return bi, recall
