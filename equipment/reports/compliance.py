"""The compliance report's `equipment` and `hld` sections (registered in
`kernel.compliance` by the equipment plugin).

`equipment`: per piece of equipment, the cadence periods that ended without an efficacy
test and the failed tests (with when it came back); and every device's maintenance that
fell due in the period and was late or is still not done.

`hld`: per HLD device, the failed runs with their reasons, and any use that did not rest
on a passed run with no use in between (the use rule refuses them, so this finding is
the proof that it held).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equipment.cadence import missed_units
from equipment.models import (
    Equipment,
    EquipmentRun,
    EquipmentTest,
    HldDevice,
    HldRun,
    HldUse,
    MaintenanceRecord,
)
from equipment.schemas import (
    EquipmentFindings,
    EquipmentSection,
    FailedHldRunOut,
    FailedTestOut,
    HldDeviceFindings,
    HldSection,
    MaintenanceLateOut,
    MissedTestOut,
    UseWithoutPassedRunOut,
)
from kernel.clock import ClinicTime
from kernel.compliance import (
    ComplianceScope,
    ComplianceSection,
    FindingTable,
    register_compliance_section,
)


def _in_period(column, scope: ComplianceScope):
    return scope.period.where(column)


def _counts(session: Session, column, key, scope: ComplianceScope) -> dict[int, int]:
    rows = session.execute(
        select(key, func.count()).where(*_in_period(column, scope)).group_by(key)
    )
    return {k: n for k, n in rows}


def _failed_tests(session: Session, scope: ComplianceScope) -> dict[int, list[FailedTestOut]]:
    tests = list(
        session.scalars(
            select(EquipmentTest).where(EquipmentTest.performed_at >= scope.period.start)
            if scope.period.start
            else select(EquipmentTest)
        )
    )
    by_equipment: dict[int, list[EquipmentTest]] = defaultdict(list)
    for t in sorted(tests, key=lambda t: (t.performed_at, t.id)):
        by_equipment[t.equipment_id].append(t)
    found: dict[int, list[FailedTestOut]] = defaultdict(list)
    for equipment_id, rows in by_equipment.items():
        for i, t in enumerate(rows):
            if t.result != "fail" or not scope.period.contains(t.performed_at):
                continue
            back = next(
                (later.performed_at for later in rows[i + 1 :] if later.result == "pass"), None
            )
            found[equipment_id].append(
                FailedTestOut(
                    at=scope.zone.local(t.performed_at),
                    kind=t.kind,
                    notes=t.notes,
                    performed_by=t.performed_by,
                    back_in_service_at=scope.zone.local(back) if back else None,
                )
            )
    return found


def maintenance_late(session: Session, scope: ComplianceScope) -> list[MaintenanceLateOut]:
    """Scheduled maintenance that fell due in the period and was done late, or not yet.

    A due date is met by the device's next record that sets a new schedule (its next
    preventive service) on or before the date."""
    last = min(scope.last, scope.today - dt.timedelta(days=1))
    records = list(
        session.scalars(
            select(MaintenanceRecord).order_by(MaintenanceRecord.device_code, MaintenanceRecord.id)
        )
    )
    by_device: dict[str, list[MaintenanceRecord]] = defaultdict(list)
    for r in records:
        by_device[r.device_code].append(r)
    found: list[MaintenanceLateOut] = []
    for rows in by_device.values():
        for i, r in enumerate(rows):
            due = r.next_due_on
            if due is None or not (scope.first <= due <= last):
                continue
            following = [x for x in rows[i + 1 :] if x.next_due_on is not None]
            done = min((x.performed_on for x in following), default=None)
            if done is not None and done <= due:
                continue
            late_until = done if done is not None else scope.today
            found.append(
                MaintenanceLateOut(
                    device=r.device_code,
                    device_kind=r.device_kind,
                    device_name=r.device_name,
                    due_on=due,
                    done_on=done,
                    days_late=(late_until - due).days,
                )
            )
    return sorted(found, key=lambda m: (m.due_on, m.device))


def equipment_section(session: Session, scope: ComplianceScope) -> EquipmentSection:
    equipment = list(session.scalars(select(Equipment).order_by(Equipment.code)))
    tests = _counts(session, EquipmentTest.performed_at, EquipmentTest.equipment_id, scope)
    runs = _counts(session, EquipmentRun.started_at, EquipmentRun.equipment_id, scope)
    failed = _failed_tests(session, scope)
    start, end = scope.zone.days_bounds(scope.first, scope.last)
    tested: dict[int, set[dt.date]] = defaultdict(set)
    for equipment_id, at in session.execute(
        select(EquipmentTest.equipment_id, EquipmentTest.performed_at).where(
            EquipmentTest.performed_at >= start - dt.timedelta(days=31),
            EquipmentTest.performed_at < end + dt.timedelta(days=31),
        )
    ):
        tested[equipment_id].add(scope.zone.local_date(at))
    findings = []
    for e in equipment:
        missed = (
            missed_units(
                tested[e.id],  # type: ignore[index]
                e.test_frequency,
                created_on=scope.zone.local_date(e.created_at),
                first=scope.first,
                last=scope.last,
                today=scope.today,
            )
            if e.test_frequency
            else []
        )
        findings.append(
            EquipmentFindings(
                code=e.code,
                name=e.name,
                kind=e.kind,
                status=e.status,
                test_frequency=e.test_frequency,
                tests=int(tests.get(e.id, 0)),  # type: ignore[arg-type]
                runs=int(runs.get(e.id, 0)),  # type: ignore[arg-type]
                missed_tests=[MissedTestOut(u.label, u.first, u.last) for u in missed],
                failed_tests=failed.get(e.id, []),  # type: ignore[arg-type]
            )
        )
    return EquipmentSection(
        equipment=findings, maintenance_overdue=maintenance_late(session, scope)
    )


def _uses_without_passed_run(
    runs: list[HldRun], uses: list[HldUse], scope: ComplianceScope
) -> list[UseWithoutPassedRunOut]:
    """Each use must follow a passed run with no other use in between."""
    events = sorted(
        [(r.performed_at, 0, r.id, r) for r in runs] + [(u.used_at, 1, u.id, u) for u in uses],
        key=lambda e: (
            e[0],
            e[1] if not isinstance(e[3], HldUse) or e[3].run_id is None else 1,
            e[2],
        ),
    )
    found: list[UseWithoutPassedRunOut] = []
    ready: HldRun | None = None  # the passed run not yet used
    last_run: HldRun | None = None
    for _, _, _, event in events:
        if isinstance(event, HldRun):
            last_run = event
            ready = event if event.result == "pass" else None
            continue
        if ready is None and scope.period.contains(event.used_at):
            if last_run is None:
                why = "no HLD run recorded before it"
            elif last_run.result != "pass":
                why = f"the last HLD run before it (#{last_run.id}) failed"
            else:
                why = f"the device was already used after HLD run #{last_run.id}"
            found.append(
                UseWithoutPassedRunOut(
                    at=scope.zone.local(event.used_at),
                    encounter_ref=event.encounter_ref,
                    used_by=event.used_by,
                    why=why,
                )
            )
        ready = None
    return found


def hld_section(session: Session, scope: ComplianceScope) -> HldSection:
    devices = list(session.scalars(select(HldDevice).order_by(HldDevice.code)))
    end = scope.period.end
    runs: dict[int, list[HldRun]] = defaultdict(list)
    uses: dict[int, list[HldUse]] = defaultdict(list)
    run_query = select(HldRun)
    use_query = select(HldUse)
    if end is not None:  # everything up to the end: a use in the period rests on earlier runs
        run_query = run_query.where(HldRun.performed_at < end)
        use_query = use_query.where(HldUse.used_at < end)
    for r in session.scalars(run_query):
        runs[r.device_id].append(r)
    for u in session.scalars(use_query):
        uses[u.device_id].append(u)
    findings = []
    for d in devices:
        mine = runs[d.id]  # type: ignore[index]
        used = uses[d.id]  # type: ignore[index]
        in_period = [r for r in mine if scope.period.contains(r.performed_at)]
        findings.append(
            HldDeviceFindings(
                code=d.code,
                name=d.name,
                kind=d.kind,
                runs=len(in_period),
                uses=sum(1 for u in used if scope.period.contains(u.used_at)),
                failed_runs=[
                    FailedHldRunOut(
                        id=r.id,  # type: ignore[arg-type]
                        at=scope.zone.local(r.performed_at),
                        operator=r.operator,
                        disinfectant=r.disinfectant,
                        solution_lot=r.solution_lot,
                        reasons=json.loads(r.reasons),
                    )
                    for r in sorted(in_period, key=lambda r: (r.performed_at, r.id))
                    if r.result == "fail"
                ],
                uses_without_passed_run=_uses_without_passed_run(mine, used, scope),
            )
        )
    return HldSection(devices=findings)


def equipment_tables(value: EquipmentSection, zone: ClinicTime) -> list[FindingTable]:
    missed = [
        [e.name, e.code, e.test_frequency or "", m.period, f"{m.first_day} to {m.last_day}"]
        for e in value.equipment
        for m in e.missed_tests
    ]
    failed = [
        [
            e.name,
            e.code,
            zone.local_text(t.at),
            t.kind,
            t.notes or "",
            t.performed_by,
            zone.local_text(t.back_in_service_at)
            if t.back_in_service_at
            else "still out of service",
        ]
        for e in value.equipment
        for t in e.failed_tests
    ]
    late = [
        [
            m.device_name,
            m.device,
            m.device_kind,
            m.due_on.isoformat(),
            m.done_on.isoformat() if m.done_on else "not done",
            m.days_late,
        ]
        for m in value.maintenance_overdue
    ]
    return [
        FindingTable(
            "missed-tests",
            "Efficacy tests missed",
            ["Equipment", "Code", "Cadence", "Period", "Days"],
            missed,
        ),
        FindingTable(
            "failed-tests",
            "Efficacy tests failed",
            ["Equipment", "Code", "When", "Test", "Notes", "By", "Back in service"],
            failed,
        ),
        FindingTable(
            "maintenance-overdue",
            "Maintenance late or overdue",
            ["Device", "Code", "Kind", "Due", "Done", "Days late"],
            late,
        ),
    ]


def hld_tables(value: HldSection, zone: ClinicTime) -> list[FindingTable]:
    failed = [
        [
            d.name,
            d.code,
            zone.local_text(r.at),
            r.operator,
            f"{r.disinfectant} lot {r.solution_lot}",
            "; ".join(r.reasons),
        ]
        for d in value.devices
        for r in d.failed_runs
    ]
    unsafe = [
        [d.name, d.code, zone.local_text(u.at), u.encounter_ref, u.used_by, u.why]
        for d in value.devices
        for u in d.uses_without_passed_run
    ]
    return [
        FindingTable(
            "hld-failed-runs",
            "Failed HLD runs",
            ["Device", "Code", "When", "Operator", "Solution", "Reasons"],
            failed,
        ),
        FindingTable(
            "hld-unsafe-uses",
            "Uses without a passed HLD run",
            ["Device", "Code", "When", "Encounter", "By", "Why"],
            unsafe,
        ),
    ]


def register_sections() -> None:
    register_compliance_section(
        ComplianceSection(
            name="equipment",
            title="Equipment and maintenance",
            build=equipment_section,
            tables=equipment_tables,
            exports=(
                ("Equipment tests (CSV)", "/equipment/exports/equipment-tests"),
                ("Equipment runs (CSV)", "/equipment/exports/equipment-runs"),
                ("Maintenance log (CSV)", "/equipment/exports/maintenance"),
            ),
            order=100,
        )
    )
    register_compliance_section(
        ComplianceSection(
            name="hld",
            title="High-level disinfection",
            build=hld_section,
            tables=hld_tables,
            exports=(
                ("HLD runs (CSV)", "/equipment/exports/hld-runs"),
                ("HLD uses (CSV)", "/equipment/exports/hld-uses"),
            ),
            order=200,
        )
    )
