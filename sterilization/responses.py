"""Records as the API shows them: table rows and the services' views to response structs
(`sterilization.schemas`). No queries here; the services hand over what is shown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import msgspec

from kernel.sites.codes import code_of
from sterilization.cycle_queries import CycleLine, CycleRecord
from sterilization.cycle_types import CycleTypeRule
from sterilization.models import (
    BiProduct,
    Cycle,
    CycleAmendment,
    CycleAttachment,
    ImportedRecord,
    Pack,
    Sterilizer,
)
from sterilization.packs import PackView, normalize_code
from sterilization.recalls import RecallLine
from sterilization.record_import import cycle_discrepancies
from sterilization.record_schemas import AttachmentOut, Discrepancy, MachineRecordOut
from sterilization.requalification import Requalification
from sterilization.schemas import (
    AmendmentOut,
    BiOut,
    BiProductOut,
    CycleDetail,
    CyclePackOut,
    CycleParametersOut,
    CycleRow,
    CycleStarted,
    CycleTypeOut,
    EarlyReleaseOut,
    IussOut,
    PackContent,
    PackCycleOut,
    PackEventOut,
    PackOut,
    PackTemplateOut,
    RecallDetail,
    RecallPackOut,
    RecallRow,
    RecallSetOut,
    RecallSetPackOut,
    RequalificationOut,
    ShortOut,
    SterilizerOut,
)
from sterilization.sets.assets import RecalledSet
from sterilization.trace import HistoryEvent


def sterilizer_out(s: Sterilizer, requal: Requalification | None = None) -> SterilizerOut:
    """`requal`: `requalification.progress(session, s)` (None: not requalifying)."""
    return SterilizerOut(
        code=s.code,
        name=s.name,
        kind=s.kind,
        site=code_of(s),
        manufacturer=s.manufacturer,
        model=s.model,
        serial_number=s.serial_number,
        bi_frequency=s.bi_frequency,
        status=s.status,
        status_reason=s.status_reason,
        last_bi_at=s.last_bi_at,
        last_bowie_dick_at=s.last_bowie_dick_at,
        last_cycle_number=s.last_cycle_number,
        created_at=s.created_at,
        requalification=RequalificationOut(
            since=requal.since,
            reason=requal.reason,
            bi_tests_passed=requal.bi_tests_passed,
            bi_tests_needed=requal.bi_tests_needed,
            bowie_dick_passed=requal.bowie_dick_passed,
            bowie_dick_needed=requal.bowie_dick_needed,
        )
        if requal is not None
        else None,
    )


def cycle_type_out(rule: CycleTypeRule) -> CycleTypeOut:
    return CycleTypeOut(
        code=rule.code,
        name=rule.name,
        purpose=rule.purpose,
        min_temperature_c=rule.min_temperature_c,
        min_exposure_minutes=rule.min_exposure_minutes,
        sterilizer_kinds=list(rule.sterilizer_kinds),
        builtin=rule.builtin,
    )


# Packs -------------------------------------------------------------------------------


def pack_out(view: PackView) -> PackOut:
    p = view.pack
    cycle = (
        PackCycleOut(
            id=p.cycle_id,
            number=view.cycle_number,
            sterilizer=view.sterilizer_code or "",
            sterilizer_name=view.sterilizer_name or "",
            status=view.cycle_status or "",
        )
        if p.cycle_id is not None and view.cycle_number is not None
        else None
    )
    return PackOut(
        code=p.code,
        site=view.site,
        description=p.description,
        contents=msgspec.json.decode(p.contents, type=list[PackContent]),
        implant=p.implant,
        template=PackTemplateOut(*view.template) if view.template else None,
        set=view.set_code,
        short=msgspec.json.decode(p.short or "[]", type=list[ShortOut]),
        short_reason=p.short_reason,
        status=p.status,
        usable=view.usable,
        reasons=view.reasons,
        cycle=cycle,
        assembled_by=p.assembled_by,
        assembled_at=p.assembled_at,
        sterilized_at=p.sterilized_at,
        expires_on=p.expires_on,
        used_at=p.used_at,
        used_by=p.used_by,
        encounter_ref=p.encounter_ref,
    )


def pack_event_out(e: HistoryEvent) -> PackEventOut:
    return PackEventOut(at=e.at, event=e.event, actor=e.actor, details=e.details)


# Cycles ------------------------------------------------------------------------------


def cycle_started_out(
    cycle: Cycle, *, sterilizer: str, warnings: list[str], pack_codes: list[str]
) -> CycleStarted:
    return CycleStarted(
        id=cycle.id,
        site=code_of(cycle),
        sterilizer=sterilizer,
        number=cycle.number,
        cycle_type=cycle.cycle_type,
        status=cycle.status,
        warnings=warnings,
        started_at=cycle.started_at,
        operator=cycle.operator,
        packs=[normalize_code(c) for c in pack_codes],
        machine_cycle_number=cycle.machine_cycle_number,
    )


def cycle_row_out(line: CycleLine) -> CycleRow:
    c = line.cycle
    return CycleRow(
        id=c.id,
        site=code_of(c),
        sterilizer=line.sterilizer_code,
        number=c.number,
        cycle_type=c.cycle_type,
        status=c.status,
        operator=c.operator,
        started_at=c.started_at,
        ended_at=c.ended_at,
        implants=c.implants,
        bi_lot=c.bi_lot,
        bi_result=line.bi_result,
        pack_count=line.pack_count,
        machine_cycle_number=c.machine_cycle_number,
    )


def amendment_out(a: CycleAmendment) -> AmendmentOut:
    return AmendmentOut(
        id=a.id,
        field=a.field,
        original=json.loads(a.original) if a.original is not None else None,
        value=json.loads(a.value),
        reason=a.reason,
        actor=a.actor,
        at=a.at,
    )


def _bi_out(result: str, row: Any, product_codes: dict[int, str]) -> BiOut:
    """A valid result (`BiResult`) or an invalid test (`InvalidBiTest`)."""
    return BiOut(
        result=result,
        control_grew=result != "invalid",
        lot=row.lot,
        read_at=row.read_at,
        recorded_by=row.recorded_by,
        bi_product=product_codes.get(row.bi_product_id),
        incubation_started_at=row.incubation_started_at,
        recorded_at=row.recorded_at,
    )


def bi_product_out(p: BiProduct) -> BiProductOut:
    return BiProductOut(
        code=p.code,
        name=p.name,
        manufacturer=p.manufacturer,
        min_incubation_minutes=p.min_incubation_minutes,
        created_at=p.created_at,
    )


def cycle_detail_out(rec: CycleRecord) -> CycleDetail:
    c, p = rec.cycle, rec.parameters
    amendments = [amendment_out(a) for a in rec.amendments]
    return CycleDetail(
        id=c.id,
        site=code_of(c),
        sterilizer=rec.sterilizer.code,
        sterilizer_name=rec.sterilizer.name,
        number=c.number,
        cycle_type=c.cycle_type,
        status=c.status,
        operator=c.operator,
        started_at=c.started_at,
        ended_at=c.ended_at,
        completed_by=c.completed_by,
        implants=c.implants,
        bi_lot=c.bi_lot,
        warnings=rec.warnings,
        parameters=CycleParametersOut(
            temperature_c=p.temperature_c,
            pressure_kpa=p.pressure_kpa,
            exposure_minutes=p.exposure_minutes,
            dry_minutes=p.dry_minutes,
            mechanical_ok=p.mechanical_ok,
            chemical_ok=p.chemical_ok,
            integrator=p.integrator,
            entered=json.loads(p.entered or "{}"),
            notes=p.notes,
            failure_reasons=json.loads(p.failure_reasons),
            recorded_by=p.recorded_by,
            recorded_at=p.recorded_at,
        )
        if p is not None
        else None,
        bi=_bi_out(rec.bi.result, rec.bi, rec.product_codes) if rec.bi is not None else None,
        bi_results=[_bi_out(result, row, rec.product_codes) for result, row in rec.bi_results()],
        bi_product=rec.bi_product.code if rec.bi_product else None,
        earliest_bi_read_at=rec.earliest_bi_read_at,
        iuss=IussOut(reason=c.iuss_reason or "", encounter_ref=c.iuss_encounter_ref or "")
        if c.iuss_reason is not None
        else None,
        early_release=EarlyReleaseOut(
            released_at=c.early_released_at,
            released_by=c.early_released_by or "",
            reason=c.early_release_reason or "",
        )
        if c.early_released_at is not None
        else None,
        amendments=amendments,
        amended_values={a.field: a.value for a in amendments},
        recall_id=rec.recall_id,
        packs=[
            CyclePackOut(code=k.code, description=k.description, implant=k.implant, status=k.status)
            for k in rec.packs
        ],
        machine_cycle_number=c.machine_cycle_number,
        machine_records=[machine_record_out(r) for r in rec.machine_records],
        discrepancies=[Discrepancy(**d) for d in cycle_discrepancies(c, p, rec.machine_records)],
        attachments=[attachment_out(a) for a in rec.attachments],
        **_hold_maximums(rec.machine_records),
    )


def _hold_maximums(records: list[ImportedRecord]) -> dict[str, float | None]:
    record = next((r for r in records if r.program_kind != "drying_only"), None)
    return {
        "temperature_max_c": record.temperature_max_c if record else None,
        "pressure_max_kpa": record.pressure_max_kpa if record else None,
    }


def attachment_out(a: CycleAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        uploaded_by=a.uploaded_by,
        at=a.at,
    )


def machine_record_out(r: ImportedRecord) -> MachineRecordOut:
    return MachineRecordOut(
        id=r.id,
        sha256=r.sha256,
        filename=r.filename,
        format=r.format,
        serial_number=r.serial_number,
        machine_cycle_number=r.machine_cycle_number,
        program=r.program,
        program_kind=r.program_kind,
        outcome=r.outcome,
        failure_reasons=json.loads(r.failure_reasons),
        started_at=r.started_at,
        ended_at=r.ended_at,
        load_cycle_type=r.load_cycle_type,
        temperature_min_c=r.temperature_min_c,
        temperature_max_c=r.temperature_max_c,
        exposure_minutes=r.exposure_minutes,
        pressure_min_kpa=r.pressure_min_kpa,
        pressure_max_kpa=r.pressure_max_kpa,
        created_cycle=r.created_cycle,
        imported_by=r.imported_by,
        imported_at=r.imported_at,
    )


# Recalls -----------------------------------------------------------------------------


def _recall_fields(line: RecallLine) -> dict[str, Any]:
    r = line.recall
    return {
        "id": r.id,
        "sterilizer": line.sterilizer_code,
        "triggered_by_cycle": r.triggered_by_cycle_id,
        "triggered_by_cycle_number": line.triggered_by_cycle_number,
        "since_cycle_number": line.since_cycle_number,
        "opened_at": r.opened_at,
        "opened_by": r.opened_by,
        "status": r.status,
        "reason": r.reason,
        "pack_count": r.pack_count,
        "resolved_at": r.resolved_at,
        "resolved_by": r.resolved_by,
        "resolution_reason": r.resolution_reason,
    }


def recall_row_out(line: RecallLine) -> RecallRow:
    return RecallRow(**_recall_fields(line))


def recall_detail_out(
    line: RecallLine,
    packs: list[tuple[Pack, str, int | None]],
    trays: Sequence[RecalledSet] = (),
) -> RecallDetail:
    return RecallDetail(
        **_recall_fields(line),
        sets=[
            RecallSetOut(
                code=t.code,
                template=t.template,
                name=t.template_name,
                packs=[
                    RecallSetPackOut(code=c, status=st, encounter_ref=e) for c, st, e in t.packs
                ],
            )
            for t in trays
        ],
        packs=[
            RecallPackOut(
                code=p.code,
                description=p.description,
                status=p.status,
                previous_status=previous,
                cycle_number=number,
                used_at=p.used_at,
                encounter_ref=p.encounter_ref,
            )
            for p, previous, number in packs
        ],
    )
