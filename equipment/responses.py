"""Records as the API shows them: table rows and service views to response structs."""

from __future__ import annotations

import json

from equipment.cadence import Cadence
from equipment.hld_use import DeviceState, EncounterDevice
from equipment.maintenance import MaintenanceDue
from equipment.models import (
    Equipment,
    EquipmentRun,
    EquipmentTest,
    HldRun,
    HldUse,
    MaintenanceRecord,
)
from equipment.schemas import (
    EncounterDeviceOut,
    EquipmentOut,
    EquipmentRunOut,
    EquipmentTestOut,
    HldDeviceOut,
    HldRunOut,
    HldUseOut,
    MaintenanceDueOut,
    MaintenanceOut,
)
from kernel.sites.codes import code_of


def equipment_out(e: Equipment, cadence: Cadence) -> EquipmentOut:
    return EquipmentOut(
        code=e.code,
        site=code_of(e),
        kind=e.kind,
        name=e.name,
        manufacturer=e.manufacturer,
        model=e.model,
        serial_number=e.serial_number,
        test_frequency=e.test_frequency,
        status=e.status,
        status_reason=e.status_reason,
        last_test_at=cadence.last_test_at,
        test_due=cadence.due,
        test_due_by=cadence.due_by,
        created_at=e.created_at,
    )


def run_out(run: EquipmentRun, code: str) -> EquipmentRunOut:
    return EquipmentRunOut(
        id=run.id,  # type: ignore[arg-type]
        equipment=code,
        program=run.program,
        started_at=run.started_at,
        result=run.result,
        notes=run.notes,
        operator=run.operator,
        recorded_at=run.recorded_at,
    )


def test_out(test: EquipmentTest, equipment: Equipment) -> EquipmentTestOut:
    return EquipmentTestOut(
        id=test.id,  # type: ignore[arg-type]
        equipment=equipment.code,
        kind=test.kind,
        result=test.result,
        notes=test.notes,
        performed_at=test.performed_at,
        performed_by=test.performed_by,
        recorded_at=test.recorded_at,
        equipment_status=equipment.status,
        equipment_status_reason=equipment.status_reason,
    )


def maintenance_out(r: MaintenanceRecord) -> MaintenanceOut:
    return MaintenanceOut(
        id=r.id,  # type: ignore[arg-type]
        device=r.device_code,
        site=code_of(r),
        device_kind=r.device_kind,
        device_name=r.device_name,
        kind=r.kind,
        performed_by=r.performed_by,
        performed_on=r.performed_on,
        notes=r.notes,
        next_due_on=r.next_due_on,
        recorded_by=r.recorded_by,
        recorded_at=r.recorded_at,
    )


def maintenance_due_out(d: MaintenanceDue) -> MaintenanceDueOut:
    return MaintenanceDueOut(**{f: getattr(d, f) for f in MaintenanceDueOut.__struct_fields__})


def hld_run_out(run: HldRun, code: str) -> HldRunOut:
    return HldRunOut(
        id=run.id,  # type: ignore[arg-type]
        device=code,
        result=run.result,
        reasons=json.loads(run.reasons),
        warnings=json.loads(run.warnings),
        disinfectant=run.disinfectant,
        solution_lot=run.solution_lot,
        solution_opened_on=run.solution_opened_on,
        solution_expires_on=run.solution_expires_on,
        mec_result=run.mec_result,
        soak_minutes=run.soak_minutes,
        temperature_c=run.temperature_c,
        min_soak_minutes=run.min_soak_minutes,
        min_temperature_c=run.min_temperature_c,
        encounter_ref=run.encounter_ref,
        operator=run.operator,
        performed_at=run.performed_at,
        recorded_at=run.recorded_at,
    )


def hld_use_out(use: HldUse, code: str) -> HldUseOut:
    return HldUseOut(
        id=use.id,  # type: ignore[arg-type]
        device=code,
        encounter_ref=use.encounter_ref,
        used_at=use.used_at,
        used_by=use.used_by,
        run_id=use.run_id,
    )


def hld_device_out(state: DeviceState) -> HldDeviceOut:
    d = state.device
    return HldDeviceOut(
        code=d.code,
        site=code_of(d),
        name=d.name,
        kind=d.kind,
        manufacturer=d.manufacturer,
        serial_number=d.serial_number,
        ok_to_use=state.ok_to_use,
        reasons=state.reasons,
        last_run=hld_run_out(state.last_run, d.code) if state.last_run else None,
        last_use=hld_use_out(state.last_use, d.code) if state.last_use else None,
        created_at=d.created_at,
    )


def encounter_device_out(found: EncounterDevice) -> EncounterDeviceOut:
    return EncounterDeviceOut(
        device=found.device.code,
        name=found.device.name,
        kind=found.device.kind,
        used_at=found.use.used_at,
        used_by=found.use.used_by,
        run=hld_run_out(found.run, found.device.code) if found.run else None,
    )
