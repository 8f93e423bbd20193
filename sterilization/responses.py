"""Records as the API shows them: table rows and the services' views to response structs
(`sterilization.schemas`). No queries here; the services hand over what is shown."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from sterilization.cycle_queries import CycleLine, CycleRecord
from sterilization.cycle_types import CycleTypeRule
from sterilization.models import Cycle, CycleAmendment, Pack, Sterilizer
from sterilization.packs import PackView, normalize_code
from sterilization.recalls import RecallLine
from sterilization.schemas import (
    AmendmentOut,
    BiOut,
    CycleDetail,
    CyclePackOut,
    CycleParametersOut,
    CycleRow,
    CycleStarted,
    CycleTypeOut,
    PackContent,
    PackCycleOut,
    PackEventOut,
    PackOut,
    RecallDetail,
    RecallPackOut,
    RecallRow,
    SterilizerOut,
)
from sterilization.trace import HistoryEvent


def sterilizer_out(s: Sterilizer) -> SterilizerOut:
    return SterilizerOut(
        code=s.code,
        name=s.name,
        kind=s.kind,
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
        description=p.description,
        contents=msgspec.json.decode(p.contents, type=list[PackContent]),
        implant=p.implant,
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
        sterilizer=sterilizer,
        number=cycle.number,
        cycle_type=cycle.cycle_type,
        status=cycle.status,
        warnings=warnings,
        started_at=cycle.started_at,
        operator=cycle.operator,
        packs=[normalize_code(c) for c in pack_codes],
    )


def cycle_row_out(line: CycleLine) -> CycleRow:
    c = line.cycle
    return CycleRow(
        id=c.id,
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


def cycle_detail_out(rec: CycleRecord) -> CycleDetail:
    c, p = rec.cycle, rec.parameters
    amendments = [amendment_out(a) for a in rec.amendments]
    return CycleDetail(
        id=c.id,
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
            notes=p.notes,
            failure_reasons=json.loads(p.failure_reasons),
            recorded_by=p.recorded_by,
            recorded_at=p.recorded_at,
        )
        if p is not None
        else None,
        bi=BiOut(
            result=rec.bi.result,
            control_grew=rec.bi.control_grew,
            lot=rec.bi.lot,
            read_at=rec.bi.read_at,
            recorded_by=rec.bi.recorded_by,
        )
        if rec.bi is not None
        else None,
        amendments=amendments,
        amended_values={a.field: a.value for a in amendments},
        recall_id=rec.recall_id,
        packs=[
            CyclePackOut(code=k.code, description=k.description, implant=k.implant, status=k.status)
            for k in rec.packs
        ],
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


def recall_detail_out(line: RecallLine, packs: list[tuple[Pack, str, int | None]]) -> RecallDetail:
    return RecallDetail(
        **_recall_fields(line),
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
