"""`/api/v1/cycles`: the cycle log. Start a load, complete it with its readings, record
its spore test (BI), append amendments; read the log and one cycle."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import FromParam, QueryText, RowId
from kernel.pagination import Page, PageParams, provide_page_params
from kernel.periods import parse_period
from sterilization import cycle_queries, cycles, early_release, indicators
from sterilization.api.never_deleted import deletion_refused
from sterilization.guards import ma_or_admin
from sterilization.responses import (
    amendment_out,
    cycle_detail_out,
    cycle_row_out,
    cycle_started_out,
)
from sterilization.schemas import (
    AmendmentIn,
    AmendmentOut,
    BiResultIn,
    CycleComplete,
    CycleDetail,
    CycleRow,
    CycleStart,
    CycleStarted,
    CycleStatus,
    EarlyReleaseIn,
)
from sterilization.shelf_life import ShelfLife


class CycleController(Controller):
    path = "/api/v1/cycles"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[ma_or_admin], sync_to_thread=True, summary="Start a cycle (load)")
    def start_cycle(
        self, data: CycleStart, db_session: Session, me: CurrentUser, clock: Clock
    ) -> CycleStarted:
        cycle, warnings = cycles.start_cycle(
            db_session,
            sterilizer_code=data.sterilizer,
            cycle_type=data.cycle_type,
            pack_codes=list(data.packs),
            bi_lot=data.bi_lot,
            implants=data.implants,
            started_at=data.started_at,
            bi_product=data.bi_product,
            iuss=msgspec.structs.asdict(data.iuss) if data.iuss else None,
            actor=me.username,
            zone=clock.zone,
            now=clock.now(),
            machine_cycle_number=data.machine_cycle_number,
        )
        return cycle_started_out(
            cycle, sterilizer=data.sterilizer, warnings=warnings, pack_codes=list(data.packs)
        )

    @get("/", guards=[any_role], sync_to_thread=True, summary="The cycle log")
    def list_cycles(
        self,
        db_session: Session,
        page: PageParams,
        clock: Clock,
        sterilizer: QueryText(40) = None,
        status: CycleStatus | None = None,
        from_: FromParam = None,
        to: QueryText(40) = None,
    ) -> Page[CycleRow]:
        """`from`/`to`: a date (whole clinic days, `to` included) or a date-time with offset."""
        lines, total = cycle_queries.list_cycles(
            db_session, period=parse_period(from_, to, clock.zone), sterilizer=sterilizer,
            status=status, limit=page.limit, offset=page.offset,
        )  # fmt: skip
        return Page(
            items=[cycle_row_out(line) for line in lines],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )

    @get(
        "/{cycle_id:int}",
        guards=[any_role],
        sync_to_thread=True,
        summary="A cycle with packs, readings, BI, operator and amendments",
    )
    def get_cycle(self, cycle_id: RowId, db_session: Session) -> CycleDetail:
        return cycle_detail_out(cycle_queries.cycle_record(db_session, cycle_id))

    @post(
        "/{cycle_id:int}/complete",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Record the readings; decides passed / awaiting_bi / failed",
    )
    def complete_cycle(
        self,
        cycle_id: RowId,
        data: CycleComplete,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        shelf_life: ShelfLife,
    ) -> CycleDetail:
        cycles.complete_cycle(
            db_session,
            cycle_id,
            data=msgspec.structs.asdict(data),
            actor=me.username,
            zone=clock.zone,
            shelf_life=shelf_life,
            now=clock.now(),
        )
        return cycle_detail_out(cycle_queries.cycle_record(db_session, cycle_id))

    @post(
        "/{cycle_id:int}/bi-result",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Record a spore-test (BI) result (an invalid one, control not grown: 201)",
        responses={
            201: ResponseSpec(
                CycleDetail, description="An invalid test (the control did not grow), recorded"
            )
        },
    )
    def record_bi_result(
        self,
        cycle_id: RowId,
        data: BiResultIn,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        shelf_life: ShelfLife,
    ) -> Response[CycleDetail]:
        indicators.record_bi_result(
            db_session,
            cycle_id,
            result=data.result,
            control_grew=data.control_grew,
            lot=data.lot,
            read_at=data.read_at,
            incubation_started_at=data.incubation_started_at,
            actor=me.username,
            zone=clock.zone,
            shelf_life=shelf_life,
            now=clock.now(),
        )
        detail = cycle_detail_out(cycle_queries.cycle_record(db_session, cycle_id))
        return Response(detail, status_code=200 if data.control_grew else 201)

    @post(
        "/{cycle_id:int}/early-release",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Release an implant load before its BI result (needs a passed integrator)",
    )
    def record_early_release(
        self,
        cycle_id: RowId,
        data: EarlyReleaseIn,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        shelf_life: ShelfLife,
    ) -> CycleDetail:
        early_release.early_release(
            db_session,
            cycle_id,
            reason=data.reason,
            actor=me.username,
            zone=clock.zone,
            shelf_life=shelf_life,
            now=clock.now(),
        )
        return cycle_detail_out(cycle_queries.cycle_record(db_session, cycle_id))

    @post(
        "/{cycle_id:int}/amendments",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Append a correction to a completed cycle",
    )
    def amend_cycle(
        self, cycle_id: RowId, data: AmendmentIn, db_session: Session, me: CurrentUser,
        clock: Clock,
    ) -> AmendmentOut:  # fmt: skip
        amendment = cycles.add_amendment(
            db_session,
            cycle_id,
            field=data.field,
            value=data.value,
            reason=data.reason,
            actor=me.username,
            now=clock.now(),
        )
        return amendment_out(amendment)

    @delete(
        "/{cycle_id:int}",
        guards=[any_role],
        include_in_schema=False,
        status_code=405,
        sync_to_thread=False,
    )
    def delete_cycle(self, cycle_id: RowId) -> None:
        raise deletion_refused("Cycle records")
