"""`/api/v1/equipment`: ultrasonic cleaners, washer-disinfectors, AERs and incubators,
their runs and efficacy tests, and missed tests against their cadence."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from equipment import cadence, registry, testing
from equipment.guards import ma_or_admin
from equipment.responses import equipment_out, run_out, test_out
from equipment.schemas import (
    EquipmentCreate,
    EquipmentKind,
    EquipmentOut,
    EquipmentRunIn,
    EquipmentRunOut,
    EquipmentStatusChange,
    EquipmentTestIn,
    EquipmentTestOut,
    MissedTestOut,
    MissedTestsOut,
)
from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import FromParam, PathKey, QueryText
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from kernel.periods import parse_period
from kernel.sites import SiteScope
from kernel.sites.codes import zone_of


class EquipmentController(Controller):
    path = "/api/v1/equipment"
    tags = ["equipment"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Add equipment (admin)")
    def create_equipment(
        self,
        data: EquipmentCreate,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        sites: SiteScope,
    ) -> EquipmentOut:
        e = registry.create_equipment(
            db_session,
            code=data.code,
            kind=data.kind,
            name=data.name,
            manufacturer=data.manufacturer,
            model=data.model,
            serial_number=data.serial_number,
            test_frequency=data.test_frequency,
            actor=me.username,
            now=clock.now(),
            site_id=sites.site_for_write(data.site).id,
        )
        return equipment_out(e, cadence.cadence_at_site(db_session, e, clock.zone, clock.now()))

    @get("/", guards=[any_role], sync_to_thread=True, summary="Equipment")
    def list_equipment(
        self, db_session: Session, page: PageParams, clock: Clock, kind: EquipmentKind | None = None
    ) -> Page[EquipmentOut]:
        now = clock.now()
        return paginate(
            db_session,
            registry.equipment_by_code(kind),
            page,
            lambda e: equipment_out(e, cadence.cadence_at_site(db_session, e, clock.zone, now)),
        )

    @get("/{code:str}", guards=[any_role], sync_to_thread=True, summary="One piece of equipment")
    def get_equipment(self, code: PathKey, db_session: Session, clock: Clock) -> EquipmentOut:
        e = registry.get_equipment(db_session, code)
        return equipment_out(e, cadence.cadence_at_site(db_session, e, clock.zone, clock.now()))

    @patch(
        "/{code:str}",
        guards=[admin_only],
        sync_to_thread=True,
        summary="Put equipment in or out of service, with a reason (admin)",
    )
    def change_equipment_status(
        self,
        code: PathKey,
        data: EquipmentStatusChange,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> EquipmentOut:
        e = registry.change_status(
            db_session, code, status=data.status, reason=data.reason, actor=me.username
        )
        return equipment_out(e, cadence.cadence_at_site(db_session, e, clock.zone, clock.now()))

    @post(
        "/{code:str}/runs",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Log a run (refused while out of service)",
    )
    def record_equipment_run(
        self, code: PathKey, data: EquipmentRunIn, db_session: Session, me: CurrentUser,
        clock: Clock,
    ) -> EquipmentRunOut:  # fmt: skip
        run = testing.record_run(
            db_session,
            code,
            result=data.result,
            program=data.program,
            started_at=data.started_at,
            notes=data.notes,
            actor=me.username,
            now=clock.now(),
        )
        return run_out(run, code)

    @get("/{code:str}/runs", guards=[any_role], sync_to_thread=True, summary="Runs, newest first")
    def list_equipment_runs(
        self, code: PathKey, db_session: Session, page: PageParams
    ) -> Page[EquipmentRunOut]:
        e = registry.get_equipment(db_session, code)
        return paginate(db_session, testing.runs_of(e), page, lambda r: run_out(r, e.code))

    @post(
        "/{code:str}/tests",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Log an efficacy test (a failure takes the equipment out of service)",
    )
    def record_equipment_test(
        self, code: PathKey, data: EquipmentTestIn, db_session: Session, me: CurrentUser,
        clock: Clock,
    ) -> EquipmentTestOut:  # fmt: skip
        test, e = testing.record_test(
            db_session,
            code,
            kind=data.kind,
            result=data.result,
            notes=data.notes,
            performed_at=data.performed_at,
            actor=me.username,
            now=clock.now(),
            zone=clock.zone,
        )
        return test_out(test, e)

    @get(
        "/{code:str}/tests",
        guards=[any_role],
        sync_to_thread=True,
        summary="Efficacy tests, newest first",
    )
    def list_equipment_tests(
        self, code: PathKey, db_session: Session, page: PageParams
    ) -> Page[EquipmentTestOut]:
        e = registry.get_equipment(db_session, code)
        return paginate(db_session, testing.tests_of(e), page, lambda t: test_out(t, e))

    @get(
        "/{code:str}/missed-tests",
        guards=[any_role],
        sync_to_thread=True,
        summary="Periods of the test cadence that ended without a test (default: 30 days)",
    )
    def list_missed_equipment_tests(
        self,
        code: PathKey,
        db_session: Session,
        clock: Clock,
        from_: FromParam = None,
        to: QueryText(40) = None,
    ) -> MissedTestsOut:
        e = registry.get_equipment(db_session, code)
        zone = zone_of(e, clock.zone)  # the days of the equipment's site
        today = zone.local_date(clock.now())
        period = parse_period(from_, to, zone, default_days=30, today=today)
        first = period.first_day(zone) or zone.local_date(e.created_at)
        last = period.last_day(zone) or today
        found = cadence.cadence(db_session, e, zone, today=today, first=first, last=last)
        return MissedTestsOut(
            equipment=e.code,
            test_frequency=e.test_frequency,
            from_=first,
            to=last,
            missed=[MissedTestOut(u.label, u.first, u.last) for u in found.missed],
        )
