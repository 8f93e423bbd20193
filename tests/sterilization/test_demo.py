"""The demo record: two sterilizers, thirty days of cycles, packs in every state."""

from __future__ import annotations

from sqlalchemy import func, select

from sterilization.demo import load_demo_data
from sterilization.models import (
    PACK_STATUSES,
    BiResult,
    Cycle,
    InvalidBiTest,
    Pack,
    Recall,
    Sterilizer,
)


def test_demo_loads_two_sterilizers_thirty_days_packs_in_every_state_and_a_resolved_recall(
    database, statements
):
    with database.session() as session:
        load_demo_data(session, actor="cli")
    count = statements.count
    with database.session(write=False) as session:
        kinds = set(session.scalars(select(Sterilizer.kind)))
        assert kinds == {"steam_prevac", "steam_gravity"}
        statuses = set(session.scalars(select(Pack.status).distinct()))
        assert statuses == set(PACK_STATUSES)
        bowie_dick = session.scalar(
            select(func.count()).select_from(Cycle).where(Cycle.cycle_type == "bowie_dick")
        )
        assert bowie_dick >= 18  # every working day
        assert session.scalar(select(func.count()).select_from(BiResult)) >= 6  # weekly, x2
        recall = session.scalars(select(Recall)).one()
        assert recall.status == "confirmed"
        assert recall.pack_count > 0
        assert set(session.scalars(select(Sterilizer.status))) == {"in_service"}
        # Second edition: an invalid spore test on record, an early-released implant load,
        # sterilizers with make, model and serial number.
        assert session.scalar(select(func.count()).select_from(InvalidBiTest)) == 1
        released = session.scalars(select(Cycle).where(Cycle.early_released_at.is_not(None)))
        assert len(released.all()) == 1
        iuss = session.scalars(select(Cycle).where(Cycle.iuss_reason.is_not(None))).all()
        assert len(iuss) == 1 and iuss[0].status == "passed"
        requalified = session.scalars(select(Cycle).where(Cycle.cycle_type == "bi_test")).all()
        assert len(requalified) == 3
        assert None not in set(session.scalars(select(Sterilizer.serial_number)))
        cycles = session.scalar(select(func.count()).select_from(Cycle))
    # `steristock demo` stays quick: a few dozen statements per cycle (its packs, readings,
    # BI, uses), never one per pack of a recall or a release.
    assert count < 50 * cycles, (count, cycles)
