"""Bodies of the sterilizer-record import and the cycle attachments (SPEC section 8)."""

from __future__ import annotations

import datetime as dt

import msgspec


class Discrepancy(msgspec.Struct):
    """A typed value that disagrees with the machine's record; the typed one is kept."""

    field: str
    typed: object
    recorded: object


class AttachmentOut(msgspec.Struct):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    at: dt.datetime


class MachineRecordOut(msgspec.Struct):
    """An imported sterilizer record as stored: what the machine said about the cycle."""

    id: int
    sha256: str
    filename: str | None
    format: str
    serial_number: str
    machine_cycle_number: int
    program: str
    program_kind: str
    outcome: str
    failure_reasons: list[str]
    started_at: dt.datetime
    ended_at: dt.datetime
    load_cycle_type: str | None
    temperature_min_c: float | None
    temperature_max_c: float | None
    exposure_minutes: float | None
    pressure_min_kpa: float | None
    pressure_max_kpa: float | None
    created_cycle: bool
    imported_by: str
    imported_at: dt.datetime


class CycleRecordImported(msgspec.Struct):
    """The answer to an import. `cycle_number` is the machine's own counter; `created`: a
    cycle was created from the record; `imported`: false when the same bytes were imported
    before (nothing written, same `cycle_id`)."""

    sterilizer: str
    cycle_number: int
    started_at: dt.datetime
    ended_at: dt.datetime
    program: str
    outcome: str
    cycle_id: int | None
    created: bool
    sha256: str
    imported: bool
    matched_by: str | None
    program_kind: str
    discrepancies: list[Discrepancy]
