"""Request and response bodies of the equipment API (never the table models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from kernel.fields import MULTILINE, NOT_BLANK, Text
from kernel.sites.schemas import SiteCode

Code = Annotated[
    str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
ShortText = Text(200, min_length=1, pattern=NOT_BLANK)
Notes = Text(2000, pattern=MULTILINE)
Reason = Text(500, min_length=3, pattern=NOT_BLANK)
EquipmentKind = Literal["ultrasonic", "washer_disinfector", "aer", "incubator", "other"]
TestFrequency = Literal["daily", "weekly", "monthly"]
Result = Literal["pass", "fail"]
ServiceStatus = Literal["in_service", "out_of_service"]
MaintenanceKind = Literal["preventive", "repair", "inspection", "validation"]


# Equipment ---------------------------------------------------------------------------


class EquipmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    kind: EquipmentKind
    name: ShortText
    manufacturer: ShortText | None = None
    model: ShortText | None = None
    serial_number: Text(100, min_length=1, pattern=NOT_BLANK) | None = None
    test_frequency: TestFrequency | None = None
    site: SiteCode | None = None  # default: the user's only site, else MAIN


class EquipmentStatusChange(msgspec.Struct, forbid_unknown_fields=True):
    status: ServiceStatus
    reason: Reason


class EquipmentOut(msgspec.Struct):
    code: str
    site: str
    kind: str
    name: str
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    test_frequency: str | None
    status: str
    status_reason: str | None
    last_test_at: dt.datetime | None
    test_due: bool
    test_due_by: dt.date | None
    created_at: dt.datetime


class EquipmentRunIn(msgspec.Struct, forbid_unknown_fields=True):
    result: Result
    program: Text(100, min_length=1, pattern=NOT_BLANK) | None = None
    started_at: dt.datetime | None = None
    notes: Notes | None = None


class EquipmentRunOut(msgspec.Struct):
    id: int
    equipment: str
    program: str | None
    started_at: dt.datetime
    result: str
    notes: str | None
    operator: str
    recorded_at: dt.datetime


class EquipmentTestIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Text(40, min_length=1, pattern=NOT_BLANK)
    result: Result
    notes: Notes | None = None
    performed_at: dt.datetime | None = None


class EquipmentTestOut(msgspec.Struct):
    id: int
    equipment: str
    kind: str
    result: str
    notes: str | None
    performed_at: dt.datetime
    performed_by: str
    recorded_at: dt.datetime
    equipment_status: str
    equipment_status_reason: str | None


class MissedTestOut(msgspec.Struct):
    period: str
    first_day: dt.date
    last_day: dt.date


class MissedTestsOut(msgspec.Struct, rename={"from_": "from"}):
    equipment: str
    test_frequency: str | None
    from_: dt.date
    to: dt.date
    missed: list[MissedTestOut]


# Maintenance -------------------------------------------------------------------------


class MaintenanceIn(msgspec.Struct, forbid_unknown_fields=True):
    device: Code
    kind: MaintenanceKind
    performed_by: ShortText
    performed_on: dt.date
    notes: Notes | None = None
    next_due_on: dt.date | None = None


class MaintenanceOut(msgspec.Struct):
    id: int
    device: str
    site: str  # the device's
    device_kind: str
    device_name: str
    kind: str
    performed_by: str
    performed_on: dt.date
    notes: str | None
    next_due_on: dt.date | None
    recorded_by: str
    recorded_at: dt.datetime


class MaintenanceDueOut(msgspec.Struct):
    device: str
    device_kind: str
    device_name: str
    last_kind: str
    last_performed_on: dt.date
    next_due_on: dt.date
    overdue: bool
    days_overdue: int


class MaintenanceDueList(msgspec.Struct):
    items: list[MaintenanceDueOut]
    total: int


# High-level disinfection ---------------------------------------------------------------

EncounterRef = Text(100, min_length=1)
Minutes = Annotated[float, msgspec.Meta(ge=0, le=1440)]
PositiveMinutes = Annotated[float, msgspec.Meta(gt=0, le=1440)]
SolutionTemperature = Annotated[float, msgspec.Meta(ge=0, le=100)]


class HldDeviceCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: ShortText
    kind: Text(40, min_length=1, pattern=NOT_BLANK)
    manufacturer: ShortText | None = None
    serial_number: Text(100, min_length=1, pattern=NOT_BLANK) | None = None
    site: SiteCode | None = None  # default: the user's only site, else MAIN


class HldRunIn(msgspec.Struct, forbid_unknown_fields=True):
    disinfectant: Text(100, min_length=1, pattern=NOT_BLANK)
    solution_lot: Text(80, min_length=1, pattern=NOT_BLANK)
    solution_opened_on: dt.date
    solution_expires_on: dt.date
    mec_result: Result
    soak_minutes: Minutes
    temperature_c: SolutionTemperature
    min_soak_minutes: PositiveMinutes
    min_temperature_c: SolutionTemperature
    encounter_ref: EncounterRef | None = None
    performed_at: dt.datetime | None = None


class HldRunOut(msgspec.Struct):
    id: int
    device: str
    result: str
    reasons: list[str]
    warnings: list[str]
    disinfectant: str
    solution_lot: str
    solution_opened_on: dt.date
    solution_expires_on: dt.date
    mec_result: str
    soak_minutes: float
    temperature_c: float
    min_soak_minutes: float
    min_temperature_c: float
    encounter_ref: str | None
    operator: str
    performed_at: dt.datetime
    recorded_at: dt.datetime


class HldUseIn(msgspec.Struct, forbid_unknown_fields=True):
    encounter_ref: EncounterRef


class HldUseOut(msgspec.Struct):
    id: int
    device: str
    encounter_ref: str
    used_at: dt.datetime
    used_by: str
    run_id: int | None


class HldDeviceOut(msgspec.Struct):
    code: str
    site: str
    name: str
    kind: str
    manufacturer: str | None
    serial_number: str | None
    ok_to_use: bool
    reasons: list[str]
    last_run: HldRunOut | None
    last_use: HldUseOut | None
    created_at: dt.datetime


class EncounterDeviceOut(msgspec.Struct):
    device: str
    name: str
    kind: str
    used_at: dt.datetime
    used_by: str
    run: HldRunOut | None


# Compliance sections -------------------------------------------------------------------


class FailedTestOut(msgspec.Struct):
    at: dt.datetime
    kind: str
    notes: str | None
    performed_by: str
    back_in_service_at: dt.datetime | None  # the next passing test, if any


class EquipmentFindings(msgspec.Struct):
    code: str
    name: str
    kind: str
    status: str
    test_frequency: str | None
    tests: int
    runs: int
    missed_tests: list[MissedTestOut]
    failed_tests: list[FailedTestOut]


class MaintenanceLateOut(msgspec.Struct):
    device: str
    device_kind: str
    device_name: str
    due_on: dt.date
    done_on: dt.date | None  # None: still not done
    days_late: int


class EquipmentSection(msgspec.Struct):
    equipment: list[EquipmentFindings]
    maintenance_overdue: list[MaintenanceLateOut]


class FailedHldRunOut(msgspec.Struct):
    id: int
    at: dt.datetime
    operator: str
    disinfectant: str
    solution_lot: str
    reasons: list[str]


class UseWithoutPassedRunOut(msgspec.Struct):
    at: dt.datetime
    encounter_ref: str
    used_by: str
    why: str


class HldDeviceFindings(msgspec.Struct):
    code: str
    name: str
    kind: str
    runs: int
    uses: int
    failed_runs: list[FailedHldRunOut]
    uses_without_passed_run: list[UseWithoutPassedRunOut]


class HldSection(msgspec.Struct):
    devices: list[HldDeviceFindings]
