"""Request and response bodies of the sterilization API (never the table models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from kernel.fields import MULTILINE, NOT_BLANK, Text

Code = Annotated[
    str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
PackCode = Text(20, min_length=1)
ShortText = Text(200, min_length=1, pattern=NOT_BLANK)
Reason = Text(500, min_length=3, pattern=NOT_BLANK)
Temperature = Annotated[float, msgspec.Meta(ge=0, le=400)]
Minutes = Annotated[float, msgspec.Meta(ge=0, le=1440)]
SterilizerKind = Literal["steam_prevac", "steam_gravity", "chemical_vapor", "dry_heat"]
SterilizerStatus = Literal["in_service", "out_of_service"]
BiFrequency = Literal["weekly", "daily", "every_load"]
Maker = Text(200, min_length=1, pattern=NOT_BLANK)
SerialNumber = Text(80, min_length=1, pattern=NOT_BLANK)
PackStatus = Literal[
    "assembled", "loaded", "sterile", "quarantined", "failed", "used", "recalled", "compromised"
]
CycleStatus = Literal["running", "passed", "failed", "awaiting_bi"]
RecallStatus = Literal["open", "confirmed", "released"]


# Sterilizers -------------------------------------------------------------------------


class SterilizerCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: ShortText
    kind: SterilizerKind
    manufacturer: Maker | None = None
    model: Maker | None = None
    serial_number: SerialNumber | None = None
    bi_frequency: BiFrequency = "weekly"


class SterilizerStatusChange(msgspec.Struct, forbid_unknown_fields=True):
    """The sterilizers page's status form: both fields required."""

    status: SterilizerStatus
    reason: Reason


class SterilizerUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """`PATCH`: only the fields given change. `manufacturer`, `model` and `serial_number`
    may be set to null to clear them; a `status` needs a `reason`."""

    name: ShortText | None = None
    manufacturer: Maker | msgspec.UnsetType | None = msgspec.UNSET
    model: Maker | msgspec.UnsetType | None = msgspec.UNSET
    serial_number: SerialNumber | msgspec.UnsetType | None = msgspec.UNSET
    bi_frequency: BiFrequency | None = None
    status: SterilizerStatus | None = None
    reason: Reason | None = None


class SterilizerOut(msgspec.Struct):
    code: str
    name: str
    kind: str
    manufacturer: str | None
    model: str | None
    serial_number: str | None
    bi_frequency: str
    status: str
    status_reason: str | None
    last_bi_at: dt.datetime | None
    last_bowie_dick_at: dt.datetime | None
    last_cycle_number: int
    created_at: dt.datetime


# Cycle types -------------------------------------------------------------------------


class CycleTypeCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=2, max_length=40, pattern=r"^[a-z0-9_]+$")]
    name: ShortText
    min_temperature_c: Annotated[float, msgspec.Meta(gt=0, le=400)]
    min_exposure_minutes: Annotated[float, msgspec.Meta(gt=0, le=1440)]
    sterilizer_kinds: list[SterilizerKind] = []


class CycleTypeOut(msgspec.Struct):
    code: str
    name: str
    purpose: str
    min_temperature_c: float | None
    min_exposure_minutes: float | None
    sterilizer_kinds: list[str]
    builtin: bool


# Packs -------------------------------------------------------------------------------


class PackContent(msgspec.Struct, forbid_unknown_fields=True):
    name: ShortText
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1


class PackCreate(msgspec.Struct, forbid_unknown_fields=True):
    description: ShortText
    contents: Annotated[list[PackContent], msgspec.Meta(max_length=200)] = []
    quantity: Annotated[int, msgspec.Meta(ge=1, le=200)] = 1
    implant: bool = False


class PackCycleOut(msgspec.Struct):
    id: int
    number: int
    sterilizer: str
    sterilizer_name: str
    status: str


class PackOut(msgspec.Struct):
    code: str
    description: str
    contents: list[PackContent]
    implant: bool
    status: str
    usable: bool
    reasons: list[str]
    cycle: PackCycleOut | None
    assembled_by: str
    assembled_at: dt.datetime
    sterilized_at: dt.datetime | None
    expires_on: dt.date | None
    used_at: dt.datetime | None
    used_by: str | None
    encounter_ref: str | None


class PackList(msgspec.Struct):
    items: list[PackOut]


class PackUse(msgspec.Struct, forbid_unknown_fields=True):
    encounter_ref: Text(100, min_length=1)


class PackCompromise(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class PackEventOut(msgspec.Struct):
    at: dt.datetime
    event: str
    actor: str
    details: dict[str, object]


# Cycles ------------------------------------------------------------------------------


class CycleStart(msgspec.Struct, forbid_unknown_fields=True):
    sterilizer: Code
    cycle_type: Text(40, min_length=1)
    packs: Annotated[list[PackCode], msgspec.Meta(max_length=500)] = []
    bi_lot: Text(80, min_length=1, pattern=NOT_BLANK) | None = None
    implants: bool | None = None


class CycleComplete(msgspec.Struct, forbid_unknown_fields=True):
    mechanical_ok: bool
    chemical_ok: bool
    temperature_c: Temperature | None = None
    pressure_kpa: Annotated[float, msgspec.Meta(ge=0, le=1000)] | None = None
    exposure_minutes: Minutes | None = None
    dry_minutes: Minutes | None = None
    notes: Text(2000, pattern=MULTILINE) | None = None


class BiResultIn(msgspec.Struct, forbid_unknown_fields=True):
    result: Literal["negative", "positive"]
    control_grew: bool
    lot: Text(80, min_length=1, pattern=NOT_BLANK) | None = None


class AmendmentIn(msgspec.Struct, forbid_unknown_fields=True):
    field: Text(40, min_length=1)
    value: Text(2000, pattern=MULTILINE) | float | bool | None
    reason: Reason


class CycleStarted(msgspec.Struct):
    id: int
    sterilizer: str
    number: int
    cycle_type: str
    status: str
    warnings: list[str]
    started_at: dt.datetime
    operator: str
    packs: list[str]


class CycleParametersOut(msgspec.Struct):
    temperature_c: float | None
    pressure_kpa: float | None
    exposure_minutes: float | None
    dry_minutes: float | None
    mechanical_ok: bool
    chemical_ok: bool
    notes: str | None
    failure_reasons: list[str]
    recorded_by: str
    recorded_at: dt.datetime


class BiOut(msgspec.Struct):
    result: str
    control_grew: bool
    lot: str
    read_at: dt.datetime
    recorded_by: str


class AmendmentOut(msgspec.Struct):
    id: int
    field: str
    original: object
    value: object
    reason: str
    actor: str
    at: dt.datetime


class CyclePackOut(msgspec.Struct):
    code: str
    description: str
    implant: bool
    status: str


class CycleRow(msgspec.Struct):
    id: int
    sterilizer: str
    number: int
    cycle_type: str
    status: str
    operator: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    implants: bool
    bi_lot: str | None
    bi_result: str | None
    pack_count: int


class CycleDetail(msgspec.Struct):
    id: int
    sterilizer: str
    sterilizer_name: str
    number: int
    cycle_type: str
    status: str
    operator: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    completed_by: str | None
    implants: bool
    bi_lot: str | None
    warnings: list[str]
    parameters: CycleParametersOut | None
    bi: BiOut | None
    amendments: list[AmendmentOut]
    amended_values: dict[str, object]
    recall_id: int | None
    packs: list[CyclePackOut]


# Recalls -----------------------------------------------------------------------------


class RecallResolve(msgspec.Struct, forbid_unknown_fields=True):
    resolution: Literal["confirmed", "released"]
    reason: Reason


class RecallRow(msgspec.Struct):
    id: int
    sterilizer: str
    triggered_by_cycle: int
    triggered_by_cycle_number: int
    since_cycle_number: int | None
    opened_at: dt.datetime
    opened_by: str
    status: str
    reason: str
    pack_count: int
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution_reason: str | None


class RecallPackOut(msgspec.Struct):
    code: str
    description: str
    status: str
    previous_status: str
    cycle_number: int | None
    used_at: dt.datetime | None
    encounter_ref: str | None


class RecallDetail(RecallRow):
    packs: list[RecallPackOut] = []


# The compliance report ---------------------------------------------------------------
# Built by `sterilization.reports.compliance`; times in the clinic's zone.


class WeekWithoutBi(msgspec.Struct):
    week: str  # ISO week, e.g. 2026-W45
    week_start: dt.date
    loads: int


class DayWithoutBowieDick(msgspec.Struct):
    date: dt.date
    loads: int
    first_load_number: int
    first_load_at: dt.datetime
    bowie_dick: str  # "none", "failed" or "after the first load"


class FollowingCycle(msgspec.Struct):
    number: int
    cycle_type: str
    status: str
    started_at: dt.datetime


class FailedCycle(msgspec.Struct):
    number: int
    cycle_type: str
    started_at: dt.datetime
    reasons: list[str]
    pack_count: int
    next_cycle: FollowingCycle | None
    next_passed_same_type: FollowingCycle | None


class RecallSummary(msgspec.Struct):
    id: int
    status: str
    opened_at: dt.datetime
    pack_count: int
    used_pack_count: int
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution_reason: str | None


class PositiveBi(msgspec.Struct):
    cycle_number: int
    lot: str
    read_at: dt.datetime
    recall: RecallSummary | None


class ImplantUsedEarly(msgspec.Struct):
    code: str
    cycle_number: int
    used_at: dt.datetime
    encounter_ref: str | None
    bi_result: str | None
    bi_read_at: dt.datetime | None


class ExpiredUse(msgspec.Struct):
    code: str
    expires_on: dt.date
    used_at: dt.datetime
    encounter_ref: str | None


class ExpiryCheck(msgspec.Struct):
    checked: int  # used packs with an expiry date, all compared
    packs: list[ExpiredUse]


class OutOfServicePeriod(msgspec.Struct):
    start: dt.datetime
    end: dt.datetime | None  # None: still out of service
    reason: str | None


class OutOfService(msgspec.Struct):
    hours: float
    periods: list[OutOfServicePeriod]


class SterilizerFindings(msgspec.Struct):
    code: str
    name: str
    kind: str
    loads: int
    bi_tests: int
    weeks_without_bi: list[WeekWithoutBi]
    days_without_bowie_dick: list[DayWithoutBowieDick]
    failed_cycles: list[FailedCycle]
    positive_bis: list[PositiveBi]
    implants_used_before_negative_bi: list[ImplantUsedEarly]
    used_after_expiry: ExpiryCheck
    out_of_service: OutOfService


class ComplianceReport(msgspec.Struct, rename={"from_": "from"}):
    from_: dt.date
    to: dt.date
    generated_at: dt.datetime
    time_zone: str
    audit_head: str
    retention_years: int
    sterilizers: list[SterilizerFindings]
