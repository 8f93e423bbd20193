"""CSV exports of each equipment log (efficacy tests, runs, maintenance, HLD runs and
uses), written with `kernel.csv_export` (formula-like cells defused, as every export).

Logs are small (a clinic's handful of devices), so each export is one query, written
at once. Times are in the clinic's zone with their offset; `from`/`to` filter by when
the work was done (maintenance: `performed_on`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from equipment.models import (
    Equipment,
    EquipmentRun,
    EquipmentTest,
    HldDevice,
    HldRun,
    HldUse,
    MaintenanceRecord,
)
from kernel.clock import ClinicTime
from kernel.csv_export import csv_text
from kernel.periods import Period

TESTS_COLUMNS = ["equipment", "equipment_name", "test", "result", "performed_at", "performed_by",
                 "notes"]  # fmt: skip
RUNS_COLUMNS = ["equipment", "equipment_name", "program", "started_at", "result", "operator",
                "notes"]  # fmt: skip
MAINTENANCE_COLUMNS = ["device", "device_kind", "device_name", "kind", "performed_on",
                       "performed_by", "next_due_on", "notes", "recorded_by",
                       "recorded_at"]  # fmt: skip
HLD_RUNS_COLUMNS = ["device", "device_name", "performed_at", "operator", "disinfectant",
                    "solution_lot", "solution_opened_on", "solution_expires_on", "mec_result",
                    "soak_minutes", "min_soak_minutes", "temperature_c", "min_temperature_c",
                    "encounter_ref", "result", "reasons", "warnings"]  # fmt: skip
HLD_USES_COLUMNS = ["device", "device_name", "used_at", "used_by", "encounter_ref", "run_id",
                    "run_performed_at", "run_result"]  # fmt: skip


def _when(at: dt.datetime | None, zone: ClinicTime) -> str:
    return zone.local(at).isoformat() if at else ""


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def tests_csv(session: Session, period: Period, zone: ClinicTime) -> str:
    rows = session.execute(
        select(EquipmentTest, Equipment)
        .join(Equipment, Equipment.id == EquipmentTest.equipment_id)
        .where(*period.where(EquipmentTest.performed_at))
        .order_by(EquipmentTest.performed_at, EquipmentTest.id)
    )
    return csv_text(
        (
            [
                e.code,
                e.name,
                t.kind,
                t.result,
                _when(t.performed_at, zone),
                t.performed_by,
                t.notes or "",
            ]
            for t, e in rows
        ),
        TESTS_COLUMNS,
    )


def runs_csv(session: Session, period: Period, zone: ClinicTime) -> str:
    rows = session.execute(
        select(EquipmentRun, Equipment)
        .join(Equipment, Equipment.id == EquipmentRun.equipment_id)
        .where(*period.where(EquipmentRun.started_at))
        .order_by(EquipmentRun.started_at, EquipmentRun.id)
    )
    return csv_text(
        (
            [
                e.code,
                e.name,
                r.program or "",
                _when(r.started_at, zone),
                r.result,
                r.operator,
                r.notes or "",
            ]
            for r, e in rows
        ),
        RUNS_COLUMNS,
    )


def maintenance_csv(session: Session, period: Period, zone: ClinicTime) -> str:
    statement = select(MaintenanceRecord).order_by(
        MaintenanceRecord.performed_on, MaintenanceRecord.id
    )
    first, last = period.first_day(zone), period.last_day(zone)
    if first is not None:
        statement = statement.where(MaintenanceRecord.performed_on >= first)
    if last is not None:
        statement = statement.where(MaintenanceRecord.performed_on <= last)
    return csv_text(
        (
            [
                m.device_code,
                m.device_kind,
                m.device_name,
                m.kind,
                _date(m.performed_on),
                m.performed_by,
                _date(m.next_due_on),
                m.notes or "",
                m.recorded_by,
                _when(m.recorded_at, zone),
            ]
            for m in session.scalars(statement)
        ),
        MAINTENANCE_COLUMNS,
    )


def hld_runs_csv(session: Session, period: Period, zone: ClinicTime) -> str:
    rows = session.execute(
        select(HldRun, HldDevice)
        .join(HldDevice, HldDevice.id == HldRun.device_id)
        .where(*period.where(HldRun.performed_at))
        .order_by(HldRun.performed_at, HldRun.id)
    )
    return csv_text(
        (
            [
                d.code,
                d.name,
                _when(r.performed_at, zone),
                r.operator,
                r.disinfectant,
                r.solution_lot,
                _date(r.solution_opened_on),
                _date(r.solution_expires_on),
                r.mec_result,
                r.soak_minutes,
                r.min_soak_minutes,
                r.temperature_c,
                r.min_temperature_c,
                r.encounter_ref or "",
                r.result,
                "; ".join(json.loads(r.reasons)),
                "; ".join(json.loads(r.warnings)),
            ]
            for r, d in rows
        ),
        HLD_RUNS_COLUMNS,
    )


def hld_uses_csv(session: Session, period: Period, zone: ClinicTime) -> str:
    rows = session.execute(
        select(HldUse, HldDevice, HldRun)
        .join(HldDevice, HldDevice.id == HldUse.device_id)
        .outerjoin(HldRun, HldRun.id == HldUse.run_id)
        .where(*period.where(HldUse.used_at))
        .order_by(HldUse.used_at, HldUse.id)
    )
    return csv_text(
        (
            [
                d.code,
                d.name,
                _when(u.used_at, zone),
                u.used_by,
                u.encounter_ref,
                u.run_id or "",
                _when(r.performed_at if r else None, zone),
                r.result if r else "",
            ]
            for u, d, r in rows
        ),
        HLD_USES_COLUMNS,
    )


@dataclass(frozen=True, slots=True)
class Export:
    """One log's CSV: its file name stem and how it is written."""

    stem: str
    columns: Sequence[str]
    write: Callable[[Session, Period, ClinicTime], str]


EXPORTS: dict[str, Export] = {
    "equipment-tests": Export("equipment-tests", TESTS_COLUMNS, tests_csv),
    "equipment-runs": Export("equipment-runs", RUNS_COLUMNS, runs_csv),
    "maintenance": Export("maintenance", MAINTENANCE_COLUMNS, maintenance_csv),
    "hld-runs": Export("hld-runs", HLD_RUNS_COLUMNS, hld_runs_csv),
    "hld-uses": Export("hld-uses", HLD_USES_COLUMNS, hld_uses_csv),
}


def export_filename(stem: str, period: Period, zone: ClinicTime, today: dt.date) -> str:
    first, last = period.first_day(zone), period.last_day(zone)
    return f"{stem}-{first or 'start'}-to-{last or today}.csv"
