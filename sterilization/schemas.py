"""Request and response bodies of the sterilization API (never the table models)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from kernel.fields import MULTILINE, NOT_BLANK, Text
from kernel.sites.schemas import SiteCode
from sterilization.record_schemas import AttachmentOut, Discrepancy, MachineRecordOut

Code = Annotated[
    str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
PackCode = Text(20, min_length=1)
ShortText = Text(200, min_length=1, pattern=NOT_BLANK)
Reason = Text(500, min_length=3, pattern=NOT_BLANK)
Temperature = Annotated[float, msgspec.Meta(ge=0, le=400)]
TemperatureF = Annotated[float, msgspec.Meta(ge=32, le=750)]
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
    site: SiteCode | None = None  # default: the user's only site, else MAIN


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
    requalify: bool = False


class RequalificationOut(msgspec.Struct):
    since: dt.datetime
    reason: str
    bi_tests_passed: int
    bi_tests_needed: int
    bowie_dick_passed: int
    bowie_dick_needed: int


class SterilizerOut(msgspec.Struct):
    code: str
    name: str
    kind: str
    site: str
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
    requalification: RequalificationOut | None = None


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


# BI products -------------------------------------------------------------------------


class BiProductCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: ShortText
    min_incubation_minutes: Annotated[int, msgspec.Meta(ge=1, le=10_080)]
    manufacturer: Maker | None = None


class BiProductOut(msgspec.Struct):
    code: str
    name: str
    manufacturer: str | None
    min_incubation_minutes: int
    created_at: dt.datetime


# Packs -------------------------------------------------------------------------------


class PackContent(msgspec.Struct, forbid_unknown_fields=True):
    name: ShortText
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 1


class CountedIn(msgspec.Struct, forbid_unknown_fields=True):
    """One line of a count sheet as the MA counted it."""

    instrument: Code
    quantity: Annotated[int, msgspec.Meta(ge=0, le=1000)]


class AcceptShort(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class PackCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Free text (`description`, `contents`), or counted against a sheet: `set` (a tray)
    or `template`, with `counted` and, for a short count, `accept_short`."""

    description: ShortText | None = None
    contents: Annotated[list[PackContent], msgspec.Meta(max_length=200)] = []
    quantity: Annotated[int, msgspec.Meta(ge=1, le=200)] = 1
    implant: bool = False
    set: PackCode | None = None
    template: Code | None = None
    counted: Annotated[list[CountedIn], msgspec.Meta(max_length=200)] | None = None
    accept_short: AcceptShort | None = None
    site: SiteCode | None = None  # default: the user's only site, else MAIN


class PackCycleOut(msgspec.Struct):
    id: int
    number: int
    sterilizer: str
    sterilizer_name: str
    status: str


class PackTemplateOut(msgspec.Struct):
    code: str
    version: int
    name: str
    packaging: str


class ShortOut(msgspec.Struct):
    instrument: str
    name: str
    missing: int


class PackOut(msgspec.Struct):
    code: str
    site: str
    description: str
    contents: list[PackContent]
    implant: bool
    template: PackTemplateOut | None
    set: str | None
    short: list[ShortOut]
    short_reason: str | None
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


class PackTransfer(msgspec.Struct, forbid_unknown_fields=True):
    to_site: SiteCode  # one of the user's sites


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


class IussIn(msgspec.Struct, forbid_unknown_fields=True):
    """Immediate-use steam sterilization: why, and the patient encounter it is for."""

    reason: Reason
    encounter_ref: Text(100, min_length=1, pattern=NOT_BLANK)


class CycleStart(msgspec.Struct, forbid_unknown_fields=True):
    """`started_at` (ISO 8601 with offset; default now) logs a cycle after the fact."""

    sterilizer: Code
    cycle_type: Text(40, min_length=1)
    packs: Annotated[list[PackCode], msgspec.Meta(max_length=500)] = []
    bi_lot: Text(80, min_length=1, pattern=NOT_BLANK) | None = None
    implants: bool | None = None
    started_at: dt.datetime | None = None
    bi_product: Code | None = None
    iuss: IussIn | None = None
    # The sterilizer's own cycle counter, read off its display: matches its record later.
    machine_cycle_number: Annotated[int, msgspec.Meta(ge=0, le=999_999_999)] | None = None


class CycleComplete(msgspec.Struct, forbid_unknown_fields=True):
    """Readings in °C / kPa, or `temperature_f` / `pressure_psi` as the printout shows
    them; `ended_at` (default now); `integrator`: the Class 5 integrator / PCD result, or
    null when the load had none."""

    mechanical_ok: bool
    chemical_ok: bool
    temperature_c: Temperature | None = None
    temperature_f: TemperatureF | None = None
    pressure_kpa: Annotated[float, msgspec.Meta(ge=0, le=1000)] | None = None
    pressure_psi: Annotated[float, msgspec.Meta(ge=0, le=145)] | None = None
    exposure_minutes: Minutes | None = None
    dry_minutes: Minutes | None = None
    integrator: Literal["pass", "fail"] | None = None
    ended_at: dt.datetime | None = None
    notes: Text(2000, pattern=MULTILINE) | None = None


class BiResultIn(msgspec.Struct, forbid_unknown_fields=True):
    """`read_at` defaults to now, `incubation_started_at` to the cycle's end; a control
    that did not grow records an invalid test (201)."""

    result: Literal["negative", "positive"]
    control_grew: bool
    lot: Text(80, min_length=1, pattern=NOT_BLANK) | None = None
    read_at: dt.datetime | None = None
    incubation_started_at: dt.datetime | None = None


class EarlyReleaseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class AmendmentIn(msgspec.Struct, forbid_unknown_fields=True):
    field: Text(40, min_length=1)
    value: Text(2000, pattern=MULTILINE) | float | bool | None
    reason: Reason


class CycleStarted(msgspec.Struct):
    id: int
    site: str  # the sterilizer's
    sterilizer: str
    number: int
    cycle_type: str
    status: str
    warnings: list[str]
    started_at: dt.datetime
    operator: str
    packs: list[str]
    machine_cycle_number: int | None = None


class CycleParametersOut(msgspec.Struct):
    temperature_c: float | None
    pressure_kpa: float | None
    exposure_minutes: float | None
    dry_minutes: float | None
    mechanical_ok: bool
    # None: no indicator reading was entered (a cycle created from the machine's record).
    chemical_ok: bool | None
    integrator: str | None
    entered: dict[str, float]
    notes: str | None
    failure_reasons: list[str]
    recorded_by: str
    recorded_at: dt.datetime


class BiOut(msgspec.Struct):
    result: str  # "negative", "positive" or "invalid" (the control did not grow)
    control_grew: bool
    lot: str
    read_at: dt.datetime
    recorded_by: str
    bi_product: str | None = None
    incubation_started_at: dt.datetime | None = None
    recorded_at: dt.datetime | None = None


class IussOut(msgspec.Struct):
    reason: str
    encounter_ref: str


class EarlyReleaseOut(msgspec.Struct):
    released_at: dt.datetime
    released_by: str
    reason: str


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
    site: str
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
    machine_cycle_number: int | None = None


class CycleDetail(msgspec.Struct):
    id: int
    site: str
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
    bi_product: str | None
    earliest_bi_read_at: dt.datetime | None
    warnings: list[str]
    parameters: CycleParametersOut | None
    bi: BiOut | None
    bi_results: list[BiOut]
    early_release: EarlyReleaseOut | None
    iuss: IussOut | None
    amendments: list[AmendmentOut]
    amended_values: dict[str, object]
    recall_id: int | None
    packs: list[CyclePackOut]
    # The machine's side (SPEC section 8): its own counter, the records imported for this
    # cycle, where they disagree with what was typed (`[]` otherwise), and attachments.
    machine_cycle_number: int | None = None
    machine_records: list[MachineRecordOut] = []
    discrepancies: list[Discrepancy] = []
    attachments: list[AttachmentOut] = []
    # The hold's maximum temperature and pressure, from the record (the minimum is in
    # `parameters`).
    temperature_max_c: float | None = None
    pressure_max_kpa: float | None = None


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


class RecallSetPackOut(msgspec.Struct):
    code: str
    status: str
    encounter_ref: str | None


class RecallSetOut(msgspec.Struct):
    """A tray whose packs the recall covers (instrument sets): the tray, its set, and
    those packs with the encounters they met."""

    code: str
    template: str
    name: str
    packs: list[RecallSetPackOut]


class RecallDetail(RecallRow):
    packs: list[RecallPackOut] = []
    sets: list[RecallSetOut] = []


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


class InvalidBiTestFinding(msgspec.Struct):
    cycle_number: int
    lot: str
    bi_product: str | None
    read_at: dt.datetime
    recorded_by: str
    repeated: str | None  # the valid result read after it, if any


class EarlyReleaseFinding(msgspec.Struct):
    cycle_number: int
    released_at: dt.datetime
    released_by: str
    reason: str
    integrator: str | None
    packs: list[str]
    bi_result: str | None  # None: still pending


class IussCycleFinding(msgspec.Struct):
    cycle_number: int
    started_at: dt.datetime
    status: str
    reason: str
    encounter_ref: str
    packs: list[str]


class BiGap(msgspec.Struct):
    period: str  # "2026-W45" (weekly), "2026-11-05" (daily) or "cycle 42" (every_load)
    loads: int


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
    bi_frequency: str = "weekly"
    bi_gaps: list[BiGap] = []
    invalid_bi_tests: list[InvalidBiTestFinding] = []
    early_releases: list[EarlyReleaseFinding] = []
    iuss_cycles: list[IussCycleFinding] = []
    site: str = ""  # the sterilizer's site
    time_zone: str = ""  # the site's zone: its days and weeks are counted in it


class ComplianceReport(msgspec.Struct, rename={"from_": "from"}):
    from_: dt.date
    to: dt.date
    generated_at: dt.datetime
    time_zone: str  # the first site's (each sterilizer names its own)
    audit_head: str
    retention_years: int
    sterilizers: list[SterilizerFindings]
    sites: list[str] = []  # the sites the report covers
