"""Reading the cycle log: one cycle with everything recorded about it, the log's pages
for the API, and the overviews of the tablet pages and the dashboard (today's cycles,
results still awaited, cycles left running)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from kernel.clock import ClinicTime
from kernel.periods import Period
from kernel.problems import NotFound
from sterilization.bi_products import readable_at
from sterilization.models import (
    BiProduct,
    BiResult,
    Cycle,
    CycleAmendment,
    CycleAttachment,
    CycleParameters,
    ImportedRecord,
    InvalidBiTest,
    Pack,
    Recall,
    Sterilizer,
)


def get_cycle(session: Session, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"No cycle with id {cycle_id}.")
    return cycle


@dataclass
class CycleRecord:
    """A cycle as recorded: readings, BI, the amendments beside the original, its packs,
    and the recall its positive BI opened, if any."""

    cycle: Cycle
    sterilizer: Sterilizer
    parameters: CycleParameters | None
    bi: BiResult | None
    amendments: list[CycleAmendment]
    packs: list[Pack]
    recall_id: int | None
    bi_product: BiProduct | None = None
    invalid_tests: list[InvalidBiTest] = field(default_factory=list)
    product_codes: dict[int, str] = field(default_factory=dict)
    # The sterilizer's own records imported for this cycle, and files attached to it.
    machine_records: list[ImportedRecord] = field(default_factory=list)
    attachments: list[CycleAttachment] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return json.loads(self.cycle.warnings)

    @property
    def earliest_bi_read_at(self) -> dt.datetime | None:
        """When the cycle's BI may first be read (incubated from the cycle's end); None
        without a BI, before the end, or once a valid result is in."""
        c = self.cycle
        if self.bi is not None or c.bi_lot is None or c.ended_at is None:
            return None
        product = self.bi_product
        return readable_at(c.ended_at, product.min_incubation_minutes if product else None)

    def bi_results(self) -> list[tuple[str, Any]]:
        """Every result, oldest first: ("invalid", InvalidBiTest) or (result, BiResult)."""
        rows: list[tuple[str, Any]] = [("invalid", t) for t in self.invalid_tests]
        if self.bi is not None:
            rows.append((self.bi.result, self.bi))
        return sorted(rows, key=lambda r: (r[1].read_at, r[1].recorded_at))


def cycle_record(session: Session, cycle_id: int) -> CycleRecord:
    cycle = get_cycle(session, cycle_id)
    sterilizer = session.get(Sterilizer, cycle.sterilizer_id)
    assert sterilizer is not None
    return CycleRecord(
        cycle=cycle,
        sterilizer=sterilizer,
        parameters=session.get(CycleParameters, cycle.id),
        bi=session.scalar(select(BiResult).where(BiResult.cycle_id == cycle.id)),
        amendments=list(
            session.scalars(
                select(CycleAmendment)
                .where(CycleAmendment.cycle_id == cycle.id)
                .order_by(CycleAmendment.at, CycleAmendment.id)
            )
        ),
        packs=list(
            session.scalars(select(Pack).where(Pack.cycle_id == cycle.id).order_by(Pack.id))
        ),
        recall_id=session.scalar(
            select(Recall.id).where(Recall.triggered_by_cycle_id == cycle.id).order_by(Recall.id)
        ),
        bi_product=session.get(BiProduct, cycle.bi_product_id) if cycle.bi_product_id else None,
        invalid_tests=list(
            session.scalars(
                select(InvalidBiTest)
                .where(InvalidBiTest.cycle_id == cycle.id)
                .order_by(InvalidBiTest.read_at, InvalidBiTest.id)
            )
        ),
        product_codes=dict(session.execute(select(BiProduct.id, BiProduct.code)).tuples().all()),
        machine_records=list(
            session.scalars(
                select(ImportedRecord)
                .options(defer(ImportedRecord.content))  # type: ignore[arg-type]
                .where(ImportedRecord.cycle_id == cycle.id)
                .order_by(ImportedRecord.started_at, ImportedRecord.id)
            )
        ),
        attachments=list(
            session.scalars(
                select(CycleAttachment)
                .options(defer(CycleAttachment.content))  # type: ignore[arg-type]
                .where(CycleAttachment.cycle_id == cycle.id)
                .order_by(CycleAttachment.at, CycleAttachment.id)
            )
        ),
    )


# Lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleLine:
    """One cycle in a list: the cycle, its sterilizer, how many packs, its BI result."""

    cycle: Cycle
    sterilizer_code: str
    sterilizer_name: str
    pack_count: int
    bi_result: str | None


def _cycle_lines(
    session: Session,
    *where: Any,
    order_by: tuple[Any, ...] = (Sterilizer.name, Cycle.started_at, Cycle.id),
    limit: int = 500,
    offset: int = 0,
) -> list[CycleLine]:
    pack_count = (
        select(func.count()).select_from(Pack).where(Pack.cycle_id == Cycle.id)
    ).scalar_subquery()
    rows = session.execute(
        select(Cycle, Sterilizer.code, Sterilizer.name, pack_count, BiResult.result)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(*where)
        .order_by(*order_by)
        .limit(limit)
        .offset(offset)
    ).all()
    return [CycleLine(c, code, name, count or 0, bi) for c, code, name, count, bi in rows]


def list_cycles(
    session: Session,
    *,
    period: Period,
    sterilizer: str | None = None,
    status: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[CycleLine], int]:
    """The cycle log, newest first: one page and the total (`GET /api/v1/cycles`)."""
    where: list[Any] = period.where(Cycle.started_at)
    if sterilizer:
        where.append(Sterilizer.code == sterilizer)
    if status:
        where.append(Cycle.status == status)
    total = session.scalar(
        select(func.count())
        .select_from(Cycle)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .where(*where)
    )
    lines = _cycle_lines(
        session,
        *where,
        order_by=(Cycle.started_at.desc(), Cycle.id.desc()),
        limit=limit,
        offset=offset,
    )
    return lines, total or 0


def cycles_started_on(session: Session, day: dt.date, *, zone: ClinicTime) -> list[CycleLine]:
    """The cycles started on a clinic day, by sterilizer."""
    start, end = zone.day_bounds(day)
    return _cycle_lines(session, Cycle.started_at >= start, Cycle.started_at < end)


def cycles_awaiting_bi(session: Session) -> list[CycleLine]:
    """Completed loads that carried a biological indicator whose result is not in yet
    (implant loads held in quarantine, and routine loads with the weekly BI)."""
    return _cycle_lines(
        session,
        Cycle.status.in_(["awaiting_bi", "passed"]),
        Cycle.bi_lot.is_not(None),
        BiResult.id.is_(None),
    )


def cycles_running_before(session: Session, day: dt.date, *, zone: ClinicTime) -> list[CycleLine]:
    """Cycles still marked running that were started before `day`: forgotten to complete."""
    return _cycle_lines(
        session, Cycle.status == "running", Cycle.started_at < zone.start_of_day(day)
    )
