"""`/api/v1/hld-devices`: semi-critical devices under high-level disinfection, their
runs (passed or failed with the reasons), their use on encounters; and
`/api/v1/encounters/{ref}/devices`, tracing back from an encounter."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from equipment import hld, hld_use
from equipment.guards import ma_or_admin
from equipment.responses import encounter_device_out, hld_device_out, hld_run_out, hld_use_out
from equipment.schemas import (
    EncounterDeviceOut,
    HldDeviceCreate,
    HldDeviceOut,
    HldRunIn,
    HldRunOut,
    HldUseIn,
    HldUseOut,
)
from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import PathKey, RowId
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from kernel.sites import SiteScope


class HldDeviceController(Controller):
    path = "/api/v1/hld-devices"
    tags = ["hld"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Add an HLD device (admin)")
    def create_hld_device(
        self,
        data: HldDeviceCreate,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        sites: SiteScope,
    ) -> HldDeviceOut:
        device = hld.create_device(
            db_session,
            code=data.code,
            name=data.name,
            kind=data.kind,
            manufacturer=data.manufacturer,
            serial_number=data.serial_number,
            actor=me.username,
            now=clock.now(),
            site_id=sites.site_for_write(data.site).id,
        )
        return hld_device_out(hld_use.device_state(db_session, device, zone=clock.zone))

    @get("/", guards=[any_role], sync_to_thread=True, summary="HLD devices, OK to use or not")
    def list_hld_devices(
        self, db_session: Session, page: PageParams, clock: Clock
    ) -> Page[HldDeviceOut]:
        return paginate(
            db_session,
            hld.devices_by_code(),
            page,
            lambda d: hld_device_out(hld_use.device_state(db_session, d, zone=clock.zone)),
        )

    @get(
        "/{code:str}",
        guards=[any_role],
        sync_to_thread=True,
        summary="One HLD device: OK to use only after a passed run and no use since",
    )
    def get_hld_device(self, code: PathKey, db_session: Session, clock: Clock) -> HldDeviceOut:
        return hld_device_out(hld_use.state_of(db_session, code, zone=clock.zone))

    @post(
        "/{code:str}/runs",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Record a disinfection run (201 also when it failed, with the reasons)",
    )
    def record_hld_run(
        self, code: PathKey, data: HldRunIn, db_session: Session, me: CurrentUser, clock: Clock
    ) -> HldRunOut:
        run = hld.record_run(
            db_session,
            code,
            disinfectant=data.disinfectant,
            solution_lot=data.solution_lot,
            solution_opened_on=data.solution_opened_on,
            solution_expires_on=data.solution_expires_on,
            mec_result=data.mec_result,
            soak_minutes=data.soak_minutes,
            temperature_c=data.temperature_c,
            min_soak_minutes=data.min_soak_minutes,
            min_temperature_c=data.min_temperature_c,
            encounter_ref=data.encounter_ref,
            performed_at=data.performed_at,
            actor=me.username,
            zone=clock.zone,
            now=clock.now(),
        )
        return hld_run_out(run, code)

    @get("/{code:str}/runs", guards=[any_role], sync_to_thread=True, summary="Runs, newest first")
    def list_hld_runs(
        self, code: PathKey, db_session: Session, page: PageParams
    ) -> Page[HldRunOut]:
        device = hld.get_device(db_session, code)
        return paginate(db_session, hld.runs_of(device), page, lambda r: hld_run_out(r, code))

    @get("/{code:str}/runs/{run_id:int}", guards=[any_role], sync_to_thread=True, summary="One run")
    def get_hld_run(self, code: PathKey, run_id: RowId, db_session: Session) -> HldRunOut:
        device = hld.get_device(db_session, code)
        return hld_run_out(hld.get_run(db_session, device, run_id), device.code)

    @post(
        "/{code:str}/use",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Record use on an encounter (409 with the reasons unless OK to use)",
    )
    def use_hld_device(
        self, code: PathKey, data: HldUseIn, db_session: Session, me: CurrentUser, clock: Clock
    ) -> HldUseOut:
        use = hld_use.use_device(
            db_session,
            code,
            encounter_ref=data.encounter_ref,
            actor=me.username,
            zone=clock.zone,
            now=clock.now(),
        )
        return hld_use_out(use, code)

    @get("/{code:str}/uses", guards=[any_role], sync_to_thread=True, summary="Uses, newest first")
    def list_hld_uses(
        self, code: PathKey, db_session: Session, page: PageParams
    ) -> Page[HldUseOut]:
        device = hld.get_device(db_session, code)
        return paginate(db_session, hld_use.uses_of(device), page, lambda u: hld_use_out(u, code))


class EncounterDeviceController(Controller):
    path = "/api/v1/encounters"
    tags = ["hld"]

    @get(
        "/{ref:str}/devices",
        guards=[any_role],
        sync_to_thread=True,
        summary="Trace an encounter: the HLD devices used, each with the run it relied on",
    )
    def list_encounter_devices(self, ref: PathKey, db_session: Session) -> list[EncounterDeviceOut]:
        return [encounter_device_out(f) for f in hld_use.devices_for_encounter(db_session, ref)]
