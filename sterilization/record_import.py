"""Importing a sterilizer's own cycle record (SPEC section 8): find the sterilizer by the
record's serial number, then the cycle it documents (by the machine's cycle number, else by
a start within 15 minutes), attach the record, and list where it disagrees with what was
typed; with no such cycle, create one from the record. Typed values are never overwritten.
The same bytes are imported once (SHA-256). Reading the bytes is `sterilization.records`;
what a record means for a cycle is `record_readings`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, defer

from kernel import audit
from kernel.clock import ClinicTime
from kernel.problems import DomainError, InvalidInput
from sterilization import record_readings
from sterilization import sterilizers as sterilizer_rules
from sterilization.attachments import check_size, clean_filename, sniff_content_type
from sterilization.cycle_types import BUILTIN_CYCLE_TYPES
from sterilization.cycles import record_load
from sterilization.models import (
    Cycle,
    CycleAttachment,
    CycleParameters,
    ImportedRecord,
    Sterilizer,
)
from sterilization.packs import dumps
from sterilization.record_readings import MATCH_WINDOW, Recorded, Typed
from sterilization.records import (
    FORMATS,
    MachineRecord,
    RecordFormatError,
    format_names,
    parse_record,
)
from sterilization.records.decoding import decode_record_bytes, looks_binary


@dataclass
class ImportResult:
    """What one import did. `created`: a cycle was created from the record; `imported`:
    the bytes were new (False: the same file was imported before, nothing written)."""

    record: ImportedRecord
    sterilizer_code: str
    created: bool
    imported: bool
    matched_by: str | None
    discrepancies: list[dict[str, Any]] = field(default_factory=list)


# Reading the stored record back ------------------------------------------------------


def recorded_of(row: ImportedRecord) -> Recorded:
    """The machine's word as stored with an imported record."""
    return Recorded(
        program_kind=row.program_kind,
        load_cycle_type=row.load_cycle_type,
        compatible_cycle_types=tuple(json.loads(row.compatible_cycle_types)),
        started_at=row.started_at,
        outcome=row.outcome,
        failure_reasons=tuple(json.loads(row.failure_reasons)),
        temperature_min_c=row.temperature_min_c,
        temperature_max_c=row.temperature_max_c,
        exposure_minutes=row.exposure_minutes,
        pressure_min_kpa=row.pressure_min_kpa,
        pressure_max_kpa=row.pressure_max_kpa,
    )


def typed_of(cycle: Cycle, params: CycleParameters | None) -> Typed:
    """What a person entered for the cycle (the readings as first recorded)."""
    return Typed(
        cycle_type=cycle.cycle_type,
        started_at=cycle.started_at,
        temperature_c=params.temperature_c if params else None,
        pressure_kpa=params.pressure_kpa if params else None,
        exposure_minutes=params.exposure_minutes if params else None,
        mechanical_ok=params.mechanical_ok if params else None,
    )


def cycle_discrepancies(
    cycle: Cycle, params: CycleParameters | None, records: list[ImportedRecord]
) -> list[dict[str, Any]]:
    """The cycle's discrepancies with the machine record that documents it: `[]` when it
    has none, or when the cycle was created from that record (nothing was typed)."""
    record = next((r for r in records if r.program_kind != "drying_only"), None)
    if record is None or record.created_cycle:
        return []
    return record_readings.discrepancies(typed_of(cycle, params), recorded_of(record))


def records_of_cycle(session: Session, cycle_id: int) -> list[ImportedRecord]:
    return list(
        session.scalars(
            select(ImportedRecord)
            .where(ImportedRecord.cycle_id == cycle_id)
            .order_by(ImportedRecord.started_at, ImportedRecord.id)
        )
    )


# Importing ---------------------------------------------------------------------------


def read_record(data: bytes, filename: str | None) -> MachineRecord:
    """Parse the bytes; a file no format reads (or a broken one) is a 422 naming why."""
    check_size(data)
    try:
        return parse_record(data, filename)
    except RecordFormatError as error:
        raise InvalidInput.for_field(
            "file",
            f"{filename or 'The file'}: {error}",
            message=str(error),
            extra={"formats": format_names()},
        ) from None


def find_sterilizer(session: Session, record: MachineRecord, code: str | None) -> Sterilizer:
    """The record's serial number finds the sterilizer; a named sterilizer must carry it."""
    serial = record.serial_number.strip()
    if code is not None:
        sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.code == code))
        if sterilizer is None:
            raise InvalidInput.for_field("sterilizer", f"No sterilizer with code {code!r}.")
        if sterilizer.serial_number != serial:
            has = (
                f"serial number {sterilizer.serial_number}"
                if sterilizer.serial_number
                else "no serial number (set it on the sterilizer first)"
            )
            raise InvalidInput.for_field(
                "sterilizer",
                f"The record is from the sterilizer with serial number {serial}, but "
                f"{sterilizer.name} has {has}.",
                message="serial number does not match the record",
                extra={"record_serial_number": serial},
            )
        return sterilizer
    sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.serial_number == serial))
    if sterilizer is None:
        raise InvalidInput.for_field(
            "sterilizer",
            f"No sterilizer has serial number {serial} (the record's): set it on the "
            "sterilizer, or name the sterilizer.",
            message="no sterilizer with the record's serial number",
            extra={"record_serial_number": serial},
        )
    return sterilizer


def _has_cycle_record(cycle_id: Any) -> Any:
    return exists().where(
        ImportedRecord.cycle_id == cycle_id, ImportedRecord.program_kind != "drying_only"
    )


def match_cycle(
    session: Session, sterilizer: Sterilizer, *, machine_cycle_number: int, started_at: dt.datetime
) -> tuple[Cycle | None, str | None]:
    """The cycle a record documents: the one with its machine cycle number, else the one
    (without a machine number or record of its own) that started nearest the record's start,
    within 15 minutes."""
    by_number = session.scalar(
        select(Cycle)
        .where(
            Cycle.sterilizer_id == sterilizer.id,
            Cycle.machine_cycle_number == machine_cycle_number,
        )
        .order_by(Cycle.id)
        .limit(1)
    )
    if by_number is not None:
        return by_number, "machine_cycle_number"
    near = session.scalars(
        select(Cycle).where(
            Cycle.sterilizer_id == sterilizer.id,
            Cycle.machine_cycle_number.is_(None),  # type: ignore[union-attr]
            Cycle.started_at >= started_at - MATCH_WINDOW,
            Cycle.started_at <= started_at + MATCH_WINDOW,
            ~_has_cycle_record(Cycle.id),
        )
    ).all()
    if not near:
        return None, None
    return min(near, key=lambda c: (abs(c.started_at - started_at), c.id)), "started_at"


def _cycle_before(session: Session, sterilizer: Sterilizer, at: dt.datetime) -> Cycle | None:
    return session.scalar(
        select(Cycle)
        .where(Cycle.sterilizer_id == sterilizer.id, Cycle.started_at <= at)
        .order_by(Cycle.started_at.desc(), Cycle.id.desc())  # type: ignore[attr-defined]
        .limit(1)
    )


def _minimums() -> dict[str, tuple[float, float]]:
    return {
        code: (rule.min_temperature_c, rule.min_exposure_minutes)
        for code, rule in BUILTIN_CYCLE_TYPES.items()
        if rule.min_temperature_c is not None and rule.min_exposure_minutes is not None
    }


def _minimum_reasons(cycle_type: str, recorded: Recorded) -> list[str]:
    rule = BUILTIN_CYCLE_TYPES[cycle_type]
    reasons = []
    temperature, exposure = recorded.temperature_min_c, recorded.exposure_minutes
    if rule.min_temperature_c is not None and (
        temperature is None or temperature < rule.min_temperature_c
    ):
        reasons.append(
            f"temperature {temperature:g} °C is below the {rule.min_temperature_c:g} °C minimum"
            if temperature is not None
            else "the record shows no sterilization hold"
        )
    if (
        rule.min_exposure_minutes is not None
        and exposure is not None
        and exposure < rule.min_exposure_minutes
    ):
        reasons.append(
            f"exposure {exposure:.2f} min is below the {rule.min_exposure_minutes:g} min minimum"
        )
    return reasons


def _later_cycle_exists(session: Session, sterilizer: Sterilizer, at: dt.datetime) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Cycle.sterilizer_id == sterilizer.id, Cycle.started_at > at))
        )
    )


def create_cycle_from_record(
    session: Session,
    sterilizer: Sterilizer,
    record: MachineRecord,
    recorded: Recorded,
    *,
    ended_at: dt.datetime,
    actor: str,
    now: dt.datetime,
) -> Cycle:
    """A cycle for a record nobody typed: its type from the program, its readings and
    outcome the machine's, no packs. A passed Bowie-Dick test stays `running` until a
    person reads the sheet (`chemical_ok`) and completes it; a failed or aborted record
    fails the cycle with the machine's reasons."""
    cycle_type = record_readings.cycle_type_for(recorded, _minimums())
    if cycle_type is None:
        raise InvalidInput.for_field(
            "file",
            f"The program {record.program!r} names no cycle type SteriStock knows (set "
            f"points: {', '.join(f'{p.label} {p.text}' for p in record.set_points) or 'none'});"
            " start the cycle by hand with its type and import the record again.",
            message="the program names no known cycle type",
        )
    if recorded.outcome != "passed":
        reasons = list(recorded.failure_reasons)
    elif BUILTIN_CYCLE_TYPES[cycle_type].purpose == "load":
        reasons = _minimum_reasons(cycle_type, recorded)
    else:
        reasons = []
    awaiting_sheet = cycle_type == "bowie_dick" and not reasons
    status = "running" if awaiting_sheet else "failed" if reasons else "passed"
    # The machine ran this cycle whatever the sterilizer's status: number it all the same.
    number = session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id)
        .values(last_cycle_number=Sterilizer.last_cycle_number + 1)
        .returning(Sterilizer.last_cycle_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    cycle = Cycle(
        site_id=sterilizer.site_id,
        sterilizer_id=sterilizer.id,
        number=number,
        cycle_type=cycle_type,
        status=status,
        operator=actor,
        implants=False,
        bi_lot=None,
        warnings="[]",
        started_at=recorded.started_at,
        ended_at=ended_at,
        completed_by=None if awaiting_sheet else actor,
        machine_cycle_number=record.machine_cycle_number,
    )
    session.add(cycle)
    session.flush()
    record_load(session, cycle.id, [])  # made from the machine's record: no packs loaded
    if not awaiting_sheet:
        session.add(
            CycleParameters(
                cycle_id=cycle.id,
                **record_readings.cycle_parameters(recorded),
                notes=f"From the sterilizer's own record: {record.program}.",
                failure_reasons=dumps(reasons),
                recorded_by=actor,
                recorded_at=now,
            )
        )
        session.flush()
    rule = BUILTIN_CYCLE_TYPES[cycle_type]
    # A failed air-removal test takes the sterilizer out of service, when it is the
    # machine's latest word (an old record does not override what happened since). A test
    # the operator cancelled did not run: it fails its cycle and changes nothing else.
    if (
        rule.is_test
        and recorded.outcome == "failed"
        and not _later_cycle_exists(session, sterilizer, recorded.started_at)
        and sterilizer.status == "in_service"
    ):
        sterilizer_rules.apply_test_result(
            session,
            sterilizer,
            rule_purpose=rule.purpose,
            cycle=cycle,
            passed=False,
            reasons=reasons,
            actor=actor,
            now=now,
        )
    audit.record(
        session,
        actor=actor,
        action="cycle.create_from_record",
        entity="cycle",
        entity_id=cycle.id,
        after={**audit.snapshot(cycle), "sterilizer": sterilizer.code, "reasons": reasons},
    )
    return cycle


def _existing(session: Session, sha256: str) -> ImportResult | None:
    row = session.scalar(select(ImportedRecord).where(ImportedRecord.sha256 == sha256))
    if row is None:
        return None
    sterilizer = session.get(Sterilizer, row.sterilizer_id)
    assert sterilizer is not None
    return ImportResult(row, sterilizer.code, created=False, imported=False, matched_by=None)


def import_record(
    session: Session,
    data: bytes,
    *,
    filename: str | None,
    sterilizer_code: str | None,
    actor: str,
    zone: ClinicTime,
    now: dt.datetime,
    parsed: MachineRecord | None = None,
    known_new: bool = False,
) -> ImportResult:
    """Import one record file (see the module docstring). Raises `InvalidInput` (422)
    naming the reason, with nothing written, for an unreadable file or a wrong serial.
    (`parsed`, `known_new`: a batch that already read the file and checked its hash.)"""
    sha256 = hashlib.sha256(data).hexdigest()
    already = None if known_new else _existing(session, sha256)
    if already is not None:
        return already
    record = parsed or read_record(data, filename)
    sterilizer = find_sterilizer(session, record, sterilizer_code)
    started_at = zone.instant(record.started_at.date(), record.started_at.time())
    ended_at = zone.instant(record.ended_at.date(), record.ended_at.time())
    recorded = record_readings.recorded_from(record, started_at=started_at)

    created, matched_by = False, None
    if record.program_kind == "drying_only":
        cycle = _cycle_before(session, sterilizer, started_at)
    else:
        cycle, matched_by = match_cycle(
            session,
            sterilizer,
            machine_cycle_number=record.machine_cycle_number,
            started_at=started_at,
        )
        if cycle is None:
            cycle = create_cycle_from_record(
                session, sterilizer, record, recorded, ended_at=ended_at, actor=actor, now=now
            )
            created = True
    hold = record.hold
    name = clean_filename(filename, f"cycle_{record.machine_cycle_number:06d}.txt")
    row = ImportedRecord(
        sha256=sha256,
        sterilizer_id=sterilizer.id,
        cycle_id=cycle.id if cycle else None,
        created_cycle=created,
        format=record.format,
        filename=name,
        serial_number=record.serial_number,
        machine_cycle_number=record.machine_cycle_number,
        program=record.program[:200],
        program_kind=record.program_kind,
        outcome=record.outcome,
        failure_reasons=dumps(list(record.failure_reasons)),
        started_at=started_at,
        ended_at=ended_at,
        load_cycle_type=record.load_cycle_type,
        compatible_cycle_types=dumps(list(record.compatible_load_cycle_types)),
        temperature_min_c=hold.temperature_min_c if hold else None,
        temperature_max_c=hold.temperature_max_c if hold else None,
        exposure_minutes=hold.exposure_minutes if hold else None,
        pressure_min_kpa=hold.pressure_min_kpa if hold else None,
        pressure_max_kpa=hold.pressure_max_kpa if hold else None,
        size=len(data),
        content=data,
        imported_by=actor,
        imported_at=now,
    )
    session.add(row)
    if cycle is not None:
        # The record is attached to its cycle like a photo of the printout would be.
        session.add(
            CycleAttachment(
                cycle_id=cycle.id,
                filename=name,
                content_type=sniff_content_type(data) or "application/octet-stream",
                size=len(data),
                sha256=sha256,
                content=data,
                uploaded_by=actor,
                at=now,
            )
        )
    session.flush()
    found = (
        []
        if created or cycle is None or record.program_kind == "drying_only"
        else record_readings.discrepancies(
            typed_of(cycle, session.get(CycleParameters, cycle.id)), recorded
        )
    )
    audit.record(
        session,
        actor=actor,
        action="cycle_record.import",
        entity="cycle_record",
        entity_id=row.id or 0,
        after={
            **audit.snapshot(row, exclude=("content",)),
            "matched_by": matched_by,
            "discrepancies": found,
        },
    )
    return ImportResult(row, sterilizer.code, created, True, matched_by, found)


# Several files at once (a USB stick's folder, the sterilizer page) -----------------------


@dataclass
class FileOutcome:
    """One file of a batch: what its import did, or why it was refused."""

    filename: str
    result: ImportResult | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        if self.result is None:
            return "refused"
        return "imported" if self.result.imported else "already imported"

    @property
    def line(self) -> str:
        """One line for a person: `cycle_000259.txt: imported, cycle 12 created (...)`."""
        if self.result is None:
            return f"{self.filename}: refused: {self.error}"
        r = self.result
        row = r.record
        where = f"cycle id {row.cycle_id}" if row.cycle_id is not None else "no cycle before it"
        what = (
            "created " + where
            if r.created
            else f"attached to {where}" + (f" (matched by {r.matched_by})" if r.matched_by else "")
        )
        found = f"; {len(r.discrepancies)} discrepancy(ies)" if r.discrepancies else ""
        head = "imported" if r.imported else "already imported"
        return (
            f"{self.filename}: {head}: {r.sterilizer_code} machine cycle "
            f"{row.machine_cycle_number} {row.program} ({row.outcome}), {what}{found}"
        )


def is_record(data: bytes, filename: str | None) -> bool:
    """Whether a known format claims the bytes (a broken record of that format included:
    it is refused as a record, never kept as a plain attachment)."""
    if looks_binary(data):
        return False
    text = decode_record_bytes(data)
    return any(record_format.sniff(text, filename) for record_format in FORMATS)


def is_drying_only(data: bytes, filename: str) -> bool:
    try:
        return parse_record(data, filename).program_kind == "drying_only"
    except RecordFormatError:
        return False


def import_files(
    session: Session,
    files: list[tuple[str, bytes]],
    *,
    sterilizer_code: str | None,
    actor: str,
    zone: ClinicTime,
    now: dt.datetime,
    on_outcome: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Import each file on its own: a refused file writes nothing and stops nothing else.
    Files imported before are found by hash in one query and not read again; drying-only
    programs go last, so the cycle they follow is already there. The outcomes come back in
    the order given (`on_outcome` hears each as it is decided)."""
    outcomes: dict[int, FileOutcome] = {}

    def decided(i: int, outcome: FileOutcome) -> None:
        outcomes[i] = outcome
        if on_outcome is not None:
            on_outcome(outcome)

    hashes = [hashlib.sha256(data).hexdigest() for _, data in files]
    known = set(
        session.scalars(select(ImportedRecord.sha256).where(ImportedRecord.sha256.in_(hashes)))
        if hashes
        else []
    )
    to_import: list[tuple[int, MachineRecord | None]] = []
    for i, (name, data) in enumerate(files):
        if hashes[i] in known:
            already = _existing(session, hashes[i])
            assert already is not None
            decided(i, FileOutcome(name, result=already))
            continue
        try:
            to_import.append((i, read_record(data, name)))
        except DomainError as error:
            decided(i, FileOutcome(name, error=_reason(error, name)))
    to_import.sort(key=lambda item: item[1] is not None and item[1].program_kind == "drying_only")
    for i, record in to_import:
        name, data = files[i]
        try:
            result = import_record(
                session, data, filename=name, sterilizer_code=sterilizer_code, actor=actor,
                zone=zone, now=now, parsed=record, known_new=hashes[i] not in known,
            )  # fmt: skip
        except DomainError as error:
            decided(i, FileOutcome(name, error=_reason(error, name)))
        else:
            known.add(hashes[i])
            decided(i, FileOutcome(name, result=result))
    return [outcomes[i] for i in range(len(files))]


def _reason(error: DomainError, name: str) -> str:
    prefix = f"{name}: "
    return error.detail[len(prefix) :] if error.detail.startswith(prefix) else error.detail


# For the printed log ------------------------------------------------------------------


def log_notes_for(session: Session, cycle_ids: list[int]) -> dict[int, list[str]]:
    """The lines the printed log adds under a cycle: its machine record (with any
    discrepancies) and its attached files."""
    notes: dict[int, list[str]] = {}
    if not cycle_ids:
        return notes
    records: dict[int, list[ImportedRecord]] = {}
    for row in session.scalars(
        select(ImportedRecord)
        .options(defer(ImportedRecord.content))  # type: ignore[arg-type]
        .where(ImportedRecord.cycle_id.in_(cycle_ids))  # type: ignore[union-attr]
        .order_by(ImportedRecord.cycle_id, ImportedRecord.started_at, ImportedRecord.id)
    ):
        assert row.cycle_id is not None
        records.setdefault(row.cycle_id, []).append(row)
    for cycle_id, rows in records.items():
        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None
        for row in rows:
            notes.setdefault(cycle_id, []).append(
                f"Machine record: {row.program}, machine cycle {row.machine_cycle_number}, "
                f"{row.outcome} ({row.filename})"
            )
        for d in cycle_discrepancies(cycle, session.get(CycleParameters, cycle_id), rows):
            notes[cycle_id].append(
                f"Discrepancy {d['field']}: typed {d['typed']}, machine {d['recorded']}"
            )
    names: dict[int, list[str]] = {}
    for cycle_id, filename in session.execute(
        select(CycleAttachment.cycle_id, CycleAttachment.filename)
        .where(CycleAttachment.cycle_id.in_(cycle_ids))
        .order_by(CycleAttachment.cycle_id, CycleAttachment.id)
    ):
        names.setdefault(cycle_id, []).append(filename)
    for cycle_id, files in names.items():
        notes.setdefault(cycle_id, []).append("Attached: " + ", ".join(files))
    return notes
