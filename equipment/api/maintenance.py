"""`/api/v1/maintenance`: the maintenance log of every device (equipment, HLD devices,
sterilizers), and what is due next."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.orm import Session

from equipment import maintenance
from equipment.guards import ma_or_admin
from equipment.responses import maintenance_due_out, maintenance_out
from equipment.schemas import MaintenanceDueList, MaintenanceIn, MaintenanceOut
from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import QueryText, RowId
from kernel.pagination import Page, PageParams, paginate, provide_page_params

WithinDays = Annotated[int | None, Parameter(ge=0, le=3650)]


class MaintenanceController(Controller):
    path = "/api/v1/maintenance"
    tags = ["equipment"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post(
        "/",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Record maintenance of a device (a sterilizer repair starts requalification)",
    )
    def record_maintenance(
        self, data: MaintenanceIn, db_session: Session, me: CurrentUser, clock: Clock
    ) -> MaintenanceOut:
        record = maintenance.record_maintenance(
            db_session,
            device=data.device,
            kind=data.kind,
            performed_by=data.performed_by,
            performed_on=data.performed_on,
            notes=data.notes,
            next_due_on=data.next_due_on,
            actor=me.username,
            now=clock.now(),
            today=clock.today(),
        )
        return maintenance_out(record)

    @get("/", guards=[any_role], sync_to_thread=True, summary="The maintenance log")
    def list_maintenance(
        self, db_session: Session, page: PageParams, device: QueryText(40) = None
    ) -> Page[MaintenanceOut]:
        return paginate(db_session, maintenance.records(device), page, maintenance_out)

    @get(
        "/due",
        guards=[any_role],
        sync_to_thread=True,
        summary="Each device's next scheduled maintenance, overdue first",
    )
    def list_maintenance_due(
        self, db_session: Session, clock: Clock, within_days: WithinDays = None
    ) -> MaintenanceDueList:
        due = maintenance.maintenance_due(db_session, today=clock.today(), within_days=within_days)
        return MaintenanceDueList(items=[maintenance_due_out(d) for d in due], total=len(due))

    @get("/{record_id:int}", guards=[any_role], sync_to_thread=True, summary="One record")
    def get_maintenance(self, record_id: RowId, db_session: Session) -> MaintenanceOut:
        return maintenance_out(maintenance.get_record(db_session, record_id))
