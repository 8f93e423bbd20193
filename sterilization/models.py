"""Tables of the sterilization record: sterilizers, cycles and their readings, indicator
results, amendments, packs with their event history, and recalls.

People appear as usernames of the shell's `users` table (operator, assembled_by, actor):
the record must still read correctly years later, even after an account is renamed away or
deactivated, so the name is stored, not a key.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import CheckConstraint, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kernel.audit import evidence
from kernel.db import UTCDateTime, utcnow
from kernel.sites.query_scope import owned_through, site_owned
from sterilization.sets import models as _set_models  # noqa: F401  (tables packs refer to)

STERILIZER_KINDS = ("steam_prevac", "steam_gravity", "chemical_vapor", "dry_heat")
STERILIZER_STATUSES = ("in_service", "out_of_service")
# How often a spore (BI) test is due: once a week, once a day, or in every load.
BI_FREQUENCIES = ("weekly", "daily", "every_load")
CYCLE_STATUSES = ("running", "passed", "failed", "awaiting_bi")
PACK_STATUSES = (
    "assembled",
    "loaded",
    "sterile",
    "quarantined",
    "failed",
    "used",
    "recalled",
    "compromised",
)
BI_RESULTS = ("negative", "positive")
RECALL_STATUSES = ("open", "confirmed", "released")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({','.join(repr(v) for v in values)})"


class Sterilizer(SQLModel, table=True):
    __tablename__ = "sterilizers"
    __table_args__ = (
        CheckConstraint(_in("kind", STERILIZER_KINDS), name="ck_sterilizers_kind"),
        CheckConstraint(_in("status", STERILIZER_STATUSES), name="ck_sterilizers_status"),
        CheckConstraint(_in("bi_frequency", BI_FREQUENCIES), name="ck_sterilizers_bi_frequency"),
        # Unique when set: any number of sterilizers may have no serial number.
        Index("ix_sterilizers_serial_number", "serial_number", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    manufacturer: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    # The maker's serial: how a machine's own printout (record import) is matched.
    serial_number: str | None = Field(default=None, max_length=80)
    bi_frequency: str = Field(default="weekly", max_length=20)
    site_id: int = Field(foreign_key="sites.id", index=True)  # kernel.sites: whose record
    status: str = Field(default="in_service", max_length=20)
    status_reason: str | None = Field(default=None, max_length=500)
    last_bi_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_bowie_dick_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Requalification after a positive BI, a failed Bowie-Dick or a repair: since when
    # (None: not requalifying) and why; the progress is counted from the cycles.
    requalification_since: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    requalification_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Incremented atomically by each cycle start: the per-sterilizer load number.
    last_cycle_number: int = Field(default=0)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CycleType(SQLModel, table=True):
    """A cycle type the administrator configured (the standard ones live in code)."""

    __tablename__ = "cycle_types"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    min_temperature_c: float = Field()
    min_exposure_minutes: float = Field()
    # Comma-separated sterilizer kinds the type may run on; empty means any.
    sterilizer_kinds: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BiProduct(SQLModel, table=True):
    """A biological indicator product and how long it must incubate before it is read."""

    __tablename__ = "bi_products"
    __table_args__ = (
        CheckConstraint("min_incubation_minutes > 0", name="ck_bi_products_min_incubation_minutes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    manufacturer: str | None = Field(default=None, max_length=200)
    min_incubation_minutes: int = Field()
    created_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Cycle(SQLModel, table=True):
    """One load (or test run) of a sterilizer; never deleted, frozen once completed."""

    __tablename__ = "cycles"
    __table_args__ = (
        UniqueConstraint("sterilizer_id", "number", name="uq_cycles_sterilizer_number"),
        CheckConstraint(_in("status", CYCLE_STATUSES), name="ck_cycles_status"),
        Index("ix_cycles_sterilizer_started", "sterilizer_id", "started_at"),
        Index("ix_cycles_started_at", "started_at"),
        Index("ix_cycles_status", "status"),
        Index("ix_cycles_sterilizer_machine_number", "sterilizer_id", "machine_cycle_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sterilizer_id: int = Field(foreign_key="sterilizers.id")
    site_id: int = Field(foreign_key="sites.id", index=True)  # the sterilizer's site
    number: int = Field()
    cycle_type: str = Field(max_length=40)
    status: str = Field(default="running", max_length=20)
    operator: str = Field(max_length=64)
    implants: bool = Field(default=False)
    bi_lot: str | None = Field(default=None, max_length=80)
    bi_product_id: int | None = Field(default=None, foreign_key="bi_products.id")
    warnings: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
    ended_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_by: str | None = Field(default=None, max_length=64)
    # Implant packs released before the BI result, on a passed integrator.
    early_released_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    early_released_by: str | None = Field(default=None, max_length=64)
    early_release_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Immediate-use steam sterilization: why, and the encounter its packs are used on.
    iuss_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    iuss_encounter_ref: str | None = Field(default=None, max_length=100)
    # The sterilizer's own counter (its display, its record): how a record finds the cycle.
    machine_cycle_number: int | None = Field(default=None)


class CycleLoad(SQLModel, table=True):
    """What went into a cycle: its packs' codes and descriptions, in pack order, written with
    the cycle when it starts. Packs are loaded only then, so the list never changes; it is
    evidence like the cycle (append-only, sealed). The log reads it with one indexed look-up
    per cycle where it aggregated every cycle's packs (half the export's time, issue 22)."""

    __tablename__ = "cycle_loads"

    cycle_id: int = Field(foreign_key="cycles.id", primary_key=True)
    pack_count: int = Field()
    pack_codes: str = Field(sa_column=Column(Text, nullable=False))  # separated by spaces
    pack_descriptions: str = Field(sa_column=Column(Text, nullable=False))  # by "; "


class CycleParameters(SQLModel, table=True):
    """The physical readings and checks recorded when a cycle completes."""

    __tablename__ = "cycle_parameters"
    __table_args__ = (
        CheckConstraint(
            "integrator IS NULL OR integrator IN ('pass','fail')",
            name="ck_cycle_parameters_integrator",
        ),
    )

    cycle_id: int = Field(foreign_key="cycles.id", primary_key=True)
    temperature_c: float | None = Field(default=None)
    pressure_kpa: float | None = Field(default=None)
    exposure_minutes: float | None = Field(default=None)
    dry_minutes: float | None = Field(default=None)
    mechanical_ok: bool = Field()
    # None: nobody read an indicator (a cycle created from the machine's record).
    chemical_ok: bool | None = Field(default=None)
    # The Class 5 integrator / process challenge device: "pass", "fail" or None (none).
    integrator: str | None = Field(default=None, max_length=10)
    # What the operator typed, in the units typed ({"temperature_f": 270.0, ...}).
    entered: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    failure_reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class BiResult(SQLModel, table=True):
    """The valid biological indicator (spore test) read-out of a cycle; one per cycle.
    Invalid tests (the control did not grow) are `InvalidBiTest` rows."""

    __tablename__ = "bi_results"
    __table_args__ = (CheckConstraint(_in("result", BI_RESULTS), name="ck_bi_results_result"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycles.id", unique=True, index=True)
    result: str = Field(max_length=10)
    control_grew: bool = Field()
    lot: str = Field(max_length=80)
    bi_product_id: int = Field(foreign_key="bi_products.id")
    incubation_started_at: dt.datetime = Field(sa_type=UTCDateTime)
    read_at: dt.datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class InvalidBiTest(SQLModel, table=True):
    """A spore test whose control vial did not grow: proves nothing, kept as a record
    (the auditor sees it was run and repeated)."""

    __tablename__ = "invalid_bi_tests"
    __table_args__ = (Index("ix_invalid_bi_tests_read_at", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycles.id", index=True)
    bi_product_id: int = Field(foreign_key="bi_products.id")
    lot: str = Field(max_length=80)
    # What the test vial showed, for the record; it counts for nothing.
    claimed_result: str = Field(max_length=10)
    incubation_started_at: dt.datetime = Field(sa_type=UTCDateTime)
    read_at: dt.datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(sa_type=UTCDateTime)


class CycleAmendment(SQLModel, table=True):
    """A correction appended to a completed cycle; the original stays as recorded."""

    __tablename__ = "cycle_amendments"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycles.id", index=True)
    field: str = Field(max_length=40)
    original: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    value: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=64)
    at: dt.datetime = Field(sa_type=UTCDateTime)


class Recall(SQLModel, table=True):
    __tablename__ = "recalls"
    __table_args__ = (
        CheckConstraint(_in("status", RECALL_STATUSES), name="ck_recalls_status"),
        Index("ix_recalls_opened_at", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sterilizer_id: int = Field(foreign_key="sterilizers.id", index=True)
    triggered_by_cycle_id: int = Field(foreign_key="cycles.id")
    # The cycle of the last negative BI before the positive one (None: there was none).
    since_cycle_id: int | None = Field(default=None, foreign_key="cycles.id")
    status: str = Field(default="open", max_length=20)
    reason: str = Field(max_length=500)
    pack_count: int = Field(default=0)
    opened_at: dt.datetime = Field(sa_type=UTCDateTime)
    opened_by: str = Field(max_length=64)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=64)
    resolution_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Pack(SQLModel, table=True):
    __tablename__ = "packs"
    __table_args__ = (
        CheckConstraint(_in("status", PACK_STATUSES), name="ck_packs_status"),
        Index("ix_packs_cycle_status", "cycle_id", "status"),
        Index("ix_packs_status", "status"),
        Index("ix_packs_encounter_ref", "encounter_ref"),
        # The auditor's compliance checks on used packs (migration 0007_auditor).
        Index("ix_packs_used_at_expires_on", "used_at", "expires_on"),
        Index("ix_packs_implant_used_at", "implant", "used_at"),
        # A cycle's pack codes and descriptions in pack order, from the index alone (the
        # log export; migration 0019_pack_contents_index).
        Index("ix_packs_cycle_contents", "cycle_id", "id", "code", "description"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    description: str = Field(max_length=200)
    contents: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    implant: bool = Field(default=False)
    site_id: int = Field(foreign_key="sites.id", index=True)  # where it is now (transfer)
    status: str = Field(default="assembled", max_length=20)
    cycle_id: int | None = Field(default=None, foreign_key="cycles.id")
    recall_id: int | None = Field(default=None, foreign_key="recalls.id")
    assembled_by: str = Field(max_length=64)
    assembled_at: dt.datetime = Field(sa_type=UTCDateTime)
    sterilized_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_on: dt.date | None = Field(default=None)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: str | None = Field(default=None, max_length=64)
    encounter_ref: str | None = Field(default=None, max_length=100)
    status_note: str | None = Field(default=None, max_length=500)
    # Assembled from a count sheet (sterilization/sets): the template version counted
    # against, the tray, what was missing (`[{instrument, name, missing}]`) and why it was
    # accepted, and the template's time-related shelf life (None: the clinic setting).
    template_version_id: int | None = Field(
        default=None, foreign_key="set_template_versions.id", index=True
    )
    set_id: int | None = Field(default=None, foreign_key="set_assets.id", index=True)
    short: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    short_reason: str | None = Field(default=None, max_length=500)
    shelf_life_days: int | None = Field(default=None)


class PackEvent(SQLModel, table=True):
    """One step in a pack's life, for its history and for tracing."""

    __tablename__ = "pack_events"
    __table_args__ = (Index("ix_pack_events_pack_at", "pack_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    pack_id: int = Field(foreign_key="packs.id")
    at: dt.datetime = Field(sa_type=UTCDateTime)
    event: str = Field(max_length=40)
    actor: str = Field(max_length=64)
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class RecallPack(SQLModel, table=True):
    """A pack a recall covers, with the status it had when the recall opened."""

    __tablename__ = "recall_packs"

    recall_id: int = Field(foreign_key="recalls.id", primary_key=True)
    pack_id: int = Field(foreign_key="packs.id", primary_key=True, index=True)
    previous_status: str = Field(max_length=20)


class Counter(SQLModel, table=True):
    """Named counters handed out atomically (the next pack code)."""

    __tablename__ = "sterilization_counters"

    name: str = Field(max_length=40, primary_key=True)
    value: int = Field(default=0)


class ImportedRecord(SQLModel, table=True):
    """A sterilizer's own record of one cycle, imported: its bytes as the machine wrote them
    and what was read from them (the hold, the verdict) so discrepancies with what was typed
    can be shown. Unique by SHA-256: the same bytes are imported once. Never deleted."""

    __tablename__ = "cycle_records"
    __table_args__ = (Index("ix_cycle_records_sterilizer_started", "sterilizer_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    sterilizer_id: int = Field(foreign_key="sterilizers.id")
    # The cycle the record documents; for a drying-only program, the cycle before it (None
    # when the sterilizer had none).
    cycle_id: int | None = Field(default=None, foreign_key="cycles.id", index=True)
    created_cycle: bool = Field()
    format: str = Field(max_length=40)
    filename: str | None = Field(default=None, max_length=255)
    serial_number: str = Field(max_length=80)
    machine_cycle_number: int = Field()
    program: str = Field(max_length=200)
    program_kind: str = Field(max_length=20)
    outcome: str = Field(max_length=20)
    failure_reasons: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
    ended_at: dt.datetime = Field(sa_type=UTCDateTime)
    load_cycle_type: str | None = Field(default=None, max_length=40)
    compatible_cycle_types: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    temperature_min_c: float | None = Field(default=None)
    temperature_max_c: float | None = Field(default=None)
    exposure_minutes: float | None = Field(default=None)
    pressure_min_kpa: float | None = Field(default=None)
    pressure_max_kpa: float | None = Field(default=None)
    size: int = Field()
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    imported_by: str = Field(max_length=64)
    imported_at: dt.datetime = Field(sa_type=UTCDateTime)

    @property
    def reasons(self) -> list[str]:
        """The machine's failure reasons (stored as JSON)."""
        return list(json.loads(self.failure_reasons))


class CycleAttachment(SQLModel, table=True):
    """A photo, scan or PDF of a cycle's paper printout, kept in the database (so backups
    carry it). Never deleted."""

    __tablename__ = "cycle_attachments"

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycles.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field()
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=64)
    at: dt.datetime = Field(sa_type=UTCDateTime)


# --- sites (docs/sites.md): whose rows these are ---------------------------------------
site_owned(Sterilizer)
site_owned(Cycle)  # the sterilizer's site
site_owned(Pack)  # where the pack is now
owned_through(Recall, Recall.sterilizer_id, Sterilizer)
# Evidence an auditor relies on: sealed at each commit, checked by `steristock audit verify`
# (kernel/audit/evidence.py). `updated`: the product changes a status column in place.
evidence.register(Cycle.__table__, updated=True)  # type: ignore[attr-defined]
evidence.register(CycleParameters.__table__)  # type: ignore[attr-defined]
evidence.register(CycleLoad.__table__)  # type: ignore[attr-defined]
evidence.register(BiResult.__table__)  # type: ignore[attr-defined]
evidence.register(CycleAmendment.__table__)  # type: ignore[attr-defined]
evidence.register(Pack.__table__, updated=True)  # type: ignore[attr-defined]
evidence.register(PackEvent.__table__)  # type: ignore[attr-defined]
evidence.register(Recall.__table__, updated=True)  # type: ignore[attr-defined]
evidence.register(RecallPack.__table__, updated=True)  # type: ignore[attr-defined]
evidence.register(InvalidBiTest.__table__)  # type: ignore[attr-defined]
evidence.register(ImportedRecord.__table__)  # type: ignore[attr-defined]
evidence.register(CycleAttachment.__table__)  # type: ignore[attr-defined]
