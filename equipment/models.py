"""Tables of the equipment record: equipment (ultrasonic cleaners, washer-disinfectors,
AERs, incubators) with their runs and efficacy tests, and the maintenance log of every
device the clinic keeps (equipment, HLD devices, sterilizers).

People appear as usernames (operator, recorded_by), stored as text like the
sterilization record: the record must read correctly years later. Devices in the
maintenance log are stored by code and kind for the same reason, and because a
sterilizer is another domain's row (`kernel.devices` resolves the code).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from kernel.audit import evidence
from kernel.db import UTCDateTime, utcnow
from kernel.sites.query_scope import owned_through, site_owned

EQUIPMENT_KINDS = ("ultrasonic", "washer_disinfector", "aer", "incubator", "other")
EQUIPMENT_STATUSES = ("in_service", "out_of_service")
TEST_FREQUENCIES = ("daily", "weekly", "monthly")
RESULTS = ("pass", "fail")
MAINTENANCE_KINDS = ("preventive", "repair", "inspection", "validation")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class Equipment(SQLModel, table=True):
    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint(_in("kind", EQUIPMENT_KINDS), name="ck_equipment_kind"),
        CheckConstraint(_in("status", EQUIPMENT_STATUSES), name="ck_equipment_status"),
        CheckConstraint(
            f"test_frequency IS NULL OR {_in('test_frequency', TEST_FREQUENCIES)}",
            name="ck_equipment_test_frequency",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    site_id: int = Field(foreign_key="sites.id", index=True)  # kernel.sites: whose it is
    kind: str = Field(max_length=20)
    name: str = Field(max_length=200)
    manufacturer: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    serial_number: str | None = Field(default=None, max_length=100, unique=True)
    test_frequency: str | None = Field(default=None, max_length=10)
    status: str = Field(default="in_service", max_length=20)
    status_reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EquipmentRun(SQLModel, table=True):
    """One run of a cleaner or disinfector (a load), as the operator logged it."""

    __tablename__ = "equipment_runs"
    __table_args__ = (
        CheckConstraint(_in("result", RESULTS), name="ck_equipment_runs_result"),
        Index("ix_equipment_runs_equipment_started", "equipment_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    equipment_id: int = Field(foreign_key="equipment.id")
    program: str | None = Field(default=None, max_length=100)
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
    result: str = Field(max_length=10)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    operator: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class EquipmentTest(SQLModel, table=True):
    """An efficacy test (foil test, soil test, ...): a failure takes the equipment out of
    service until a test passes."""

    __tablename__ = "equipment_tests"
    __table_args__ = (
        CheckConstraint(_in("result", RESULTS), name="ck_equipment_tests_result"),
        Index("ix_equipment_tests_equipment_at", "equipment_id", "performed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    equipment_id: int = Field(foreign_key="equipment.id")
    kind: str = Field(max_length=40)
    result: str = Field(max_length=10)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    performed_at: dt.datetime = Field(sa_type=UTCDateTime)
    performed_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class MaintenanceRecord(SQLModel, table=True):
    """Service done on a device; never edited (a correction is a further record)."""

    __tablename__ = "maintenance_records"
    __table_args__ = (
        CheckConstraint(_in("kind", MAINTENANCE_KINDS), name="ck_maintenance_records_kind"),
        Index("ix_maintenance_records_device", "device_code", "performed_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    device_code: str = Field(max_length=40)
    site_id: int = Field(foreign_key="sites.id", index=True)  # the device's site
    device_kind: str = Field(max_length=20)
    device_name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    performed_by: str = Field(max_length=200)
    performed_on: dt.date = Field()
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_due_on: dt.date | None = Field(default=None)
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class HldDevice(SQLModel, table=True):
    """A semi-critical device disinfected, not sterilized (ultrasound and TEE probes,
    nasopharyngoscopes), with a QR page `/d/{code}`."""

    __tablename__ = "hld_devices"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    site_id: int = Field(foreign_key="sites.id", index=True)  # kernel.sites: whose it is
    name: str = Field(max_length=200)
    kind: str = Field(max_length=40)
    manufacturer: str | None = Field(default=None, max_length=200)
    serial_number: str | None = Field(default=None, max_length=100, unique=True)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HldRun(SQLModel, table=True):
    """One high-level disinfection of a device: what AAMI ST58 asks the record to say
    (solution and lot, MEC test, time, temperature, operator, the patient encounter)."""

    __tablename__ = "hld_runs"
    __table_args__ = (
        CheckConstraint(_in("result", RESULTS), name="ck_hld_runs_result"),
        CheckConstraint(_in("mec_result", RESULTS), name="ck_hld_runs_mec_result"),
        Index("ix_hld_runs_device_at", "device_id", "performed_at"),
        Index("ix_hld_runs_performed_at", "performed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="hld_devices.id")
    disinfectant: str = Field(max_length=100)
    solution_lot: str = Field(max_length=80)
    solution_opened_on: dt.date = Field()
    solution_expires_on: dt.date = Field()
    mec_result: str = Field(max_length=10)
    soak_minutes: float = Field()
    temperature_c: float = Field()
    min_soak_minutes: float = Field()
    min_temperature_c: float = Field()
    encounter_ref: str | None = Field(default=None, max_length=100, index=True)
    result: str = Field(max_length=10)
    reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    warnings: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    operator: str = Field(max_length=64)
    performed_at: dt.datetime = Field(sa_type=UTCDateTime)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class HldUse(SQLModel, table=True):
    """A device used on a patient encounter, with the passed run it relied on."""

    __tablename__ = "hld_uses"
    __table_args__ = (Index("ix_hld_uses_device_at", "device_id", "used_at"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="hld_devices.id")
    run_id: int | None = Field(default=None, foreign_key="hld_runs.id")
    encounter_ref: str = Field(max_length=100, index=True)
    used_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_by: str = Field(max_length=64)


# --- sites (docs/sites.md): whose rows these are ---------------------------------------
site_owned(Equipment)
site_owned(HldDevice)
site_owned(MaintenanceRecord)  # the device's site when it was serviced
owned_through(EquipmentRun, EquipmentRun.equipment_id, Equipment)
owned_through(EquipmentTest, EquipmentTest.equipment_id, Equipment)
owned_through(HldRun, HldRun.device_id, HldDevice)
owned_through(HldUse, HldUse.device_id, HldDevice)
# Evidence an auditor relies on (kernel/audit/evidence.py): sealed, never updated or deleted.
evidence.register(EquipmentRun.__table__)  # type: ignore[attr-defined]
evidence.register(EquipmentTest.__table__)  # type: ignore[attr-defined]
evidence.register(MaintenanceRecord.__table__)  # type: ignore[attr-defined]
evidence.register(HldRun.__table__)  # type: ignore[attr-defined]
evidence.register(HldUse.__table__)  # type: ignore[attr-defined]
