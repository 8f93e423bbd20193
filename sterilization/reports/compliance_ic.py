"""The compliance findings of the second edition (SPEC section 7): spore-test gaps by each
sterilizer's `bi_frequency`, invalid spore tests, early releases of implant loads and
immediate-use (IUSS) cycles. Called by `compliance.compliance_report`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime
from kernel.periods import Period
from sterilization.models import (
    BiProduct,
    BiResult,
    Cycle,
    CycleParameters,
    InvalidBiTest,
    Pack,
    Sterilizer,
)
from sterilization.schemas import (
    BiGap,
    EarlyReleaseFinding,
    InvalidBiTestFinding,
    IussCycleFinding,
)

EPOCH = dt.date(1970, 1, 1)


EVERY_LOAD, DAILY, WEEKLY = 0, 1, 2


def bi_gaps(loads: pd.DataFrame, sterilizers: list[Sterilizer]) -> dict[int, list[BiGap]]:
    """Loads in a week (`weekly`), a day (`daily`) or the load itself (`every_load`) with
    no BI in any of them. `loads` has `sterilizer_id`, `number`, `bi_lot` and the local
    `day` (days since 1970), `iso_year`, `iso_week` (`compliance_reads.cycles_frame`). Grouped
    on columns; each sterilizer's gaps in the order of its loads' numbers."""
    found: dict[int, list[BiGap]] = defaultdict(list)
    if loads.empty:
        return found
    frequency = {s.id: s.bi_frequency for s in sterilizers}
    how_of = {"every_load": EVERY_LOAD, "daily": DAILY}
    sid = loads["sterilizer_id"].to_numpy()
    number = loads["number"].to_numpy()
    order = np.lexsort((number, sid))
    sid, number = sid[order], number[order]
    day = loads["day"].to_numpy()[order]
    week = loads["iso_year"].to_numpy()[order] * 100 + loads["iso_week"].to_numpy()[order]
    ids, inverse = np.unique(sid, return_inverse=True)
    kinds = np.array([how_of.get(frequency.get(int(i), "weekly"), WEEKLY) for i in ids])
    how = kinds[inverse]
    key = np.where(how == EVERY_LOAD, number, np.where(how == DAILY, day, week))
    frame = pd.DataFrame(
        {
            "sid": sid,
            "key": key,
            "bi": loads["bi_lot"].notna().to_numpy()[order],
            "at": np.arange(len(sid)),
        }
    )
    groups = frame.groupby(["sid", "key"], sort=False).agg(
        loads=("at", "size"), bi=("bi", "any"), first=("at", "min")
    )
    gaps = groups[~groups["bi"]].sort_values("first")
    for (sterilizer_id, value), count in zip(gaps.index, gaps["loads"].to_numpy(), strict=True):
        kind = kinds[np.searchsorted(ids, sterilizer_id)]
        if kind == EVERY_LOAD:
            label = f"cycle {int(value)}"
        elif kind == DAILY:
            label = (EPOCH + dt.timedelta(days=int(value))).isoformat()
        else:
            label = f"{int(value) // 100}-W{int(value) % 100:02d}"
        found[int(sterilizer_id)].append(BiGap(period=label, loads=int(count)))
    return found


def invalid_bi_tests(
    session: Session, period: Period, zone: ClinicTime
) -> dict[int, list[InvalidBiTestFinding]]:
    rows = session.execute(
        select(Cycle.sterilizer_id, Cycle.number, InvalidBiTest, BiProduct.code, BiResult.result)
        .join(Cycle, Cycle.id == InvalidBiTest.cycle_id)
        .join(BiProduct, BiProduct.id == InvalidBiTest.bi_product_id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(*period.where(InvalidBiTest.read_at))
        .order_by(InvalidBiTest.read_at, InvalidBiTest.id)
    ).all()
    found: dict[int, list[InvalidBiTestFinding]] = defaultdict(list)
    for sid, number, test, product, repeated in rows:
        found[sid].append(
            InvalidBiTestFinding(
                cycle_number=number,
                lot=test.lot,
                bi_product=product,
                read_at=zone.local(test.read_at),
                recorded_by=test.recorded_by,
                repeated=repeated,
            )
        )
    return found


def early_releases(
    session: Session, period: Period, zone: ClinicTime
) -> dict[int, list[EarlyReleaseFinding]]:
    rows = session.execute(
        select(Cycle, CycleParameters.integrator, BiResult.result)
        .outerjoin(CycleParameters, CycleParameters.cycle_id == Cycle.id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(Cycle.early_released_at.is_not(None), *period.where(Cycle.early_released_at))
        .order_by(Cycle.early_released_at)
    ).all()
    packs = _pack_codes(session, [c.id for c, _, _ in rows], event="early_release")
    found: dict[int, list[EarlyReleaseFinding]] = defaultdict(list)
    for cycle, integrator, result in rows:
        found[cycle.sterilizer_id].append(
            EarlyReleaseFinding(
                cycle_number=cycle.number,
                released_at=zone.local(cycle.early_released_at),
                released_by=cycle.early_released_by or "",
                reason=cycle.early_release_reason or "",
                integrator=integrator,
                packs=packs.get(cycle.id, []),
                bi_result=result,
            )
        )
    return found


MAX_KNOWN = 2000  # more ids than this: the query finds the rows itself


def iuss_cycles(
    session: Session, period: Period, zone: ClinicTime, ids: list[int] | None = None
) -> dict[int, list[IussCycleFinding]]:
    """`ids`: the period's IUSS cycles, known already (the report's cycle columns): read
    only those (none: no query), not every cycle of the period again."""
    if ids is not None and not ids:
        return {}
    statement = select(Cycle).where(Cycle.iuss_reason.is_not(None), *period.where(Cycle.started_at))
    if ids is not None and len(ids) <= MAX_KNOWN:
        statement = statement.where(Cycle.id.in_(ids))
    rows = list(session.scalars(statement.order_by(Cycle.started_at, Cycle.id)))
    codes: dict[int, list[str]] = defaultdict(list)
    if rows:
        for cid, code in session.execute(
            select(Pack.cycle_id, Pack.code)
            .where(Pack.cycle_id.in_([c.id for c in rows]))
            .order_by(Pack.id)
        ):
            codes[cid].append(code)
    found: dict[int, list[IussCycleFinding]] = defaultdict(list)
    for c in rows:
        found[c.sterilizer_id].append(
            IussCycleFinding(
                cycle_number=c.number,
                started_at=zone.local(c.started_at),
                status=c.status,
                reason=c.iuss_reason or "",
                encounter_ref=c.iuss_encounter_ref or "",
                packs=codes.get(c.id, []),
            )
        )
    return found


def _pack_codes(session: Session, cycle_ids: list[int], *, event: str) -> dict[int, list[str]]:
    """The codes of the packs of these cycles that had `event` (early_release: implants)."""
    from sterilization.models import PackEvent

    if not cycle_ids:
        return {}
    rows = session.execute(
        select(Pack.cycle_id, Pack.code)
        .join(PackEvent, PackEvent.pack_id == Pack.id)
        .where(Pack.cycle_id.in_(cycle_ids), PackEvent.event == event)
        .order_by(Pack.id)
    ).all()
    found: dict[int, list[str]] = defaultdict(list)
    for cid, code in rows:
        if code not in found[cid]:
            found[cid].append(code)
    return found


def findings(
    session: Session,
    period: Period,
    zone: ClinicTime,
    loads: pd.DataFrame,
    sterilizers: list[Sterilizer],
    cycles: pd.DataFrame | None = None,
) -> dict[str, dict[int, Any]]:
    """Every second-edition finding, by key and sterilizer id (`cycles`: the period's,
    with the `iuss` column)."""
    iuss = None if cycles is None else sorted({int(i) for i in cycles["id"][cycles["iuss"]]})
    return {
        "bi_gaps": bi_gaps(loads, sterilizers),
        "invalid_bi_tests": invalid_bi_tests(session, period, zone),
        "early_releases": early_releases(session, period, zone),
        "iuss_cycles": iuss_cycles(session, period, zone, iuss),
    }
