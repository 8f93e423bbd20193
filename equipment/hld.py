"""High-level disinfection (HLD): the devices and their disinfection runs.

A run is a record whatever its outcome: an expired solution, a failed MEC (minimum
effective concentration) test strip, or a soak time or temperature below the minimum
records a **failed** run (201, `result: "fail"`, the reasons in words), because the
auditor must see the failures too. Input that cannot be true (a soak of -1 minutes, a
solution that expired before it was opened, one opened after the run) is refused (422,
nothing written).
"""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from equipment.models import HldDevice, HldRun
from equipment.testing import check_when
from kernel import audit
from kernel.auth.competencies import Operation, competency_warnings
from kernel.clock import ClinicTime
from kernel.devices import DeviceInfo
from kernel.encounters import normalize_encounter_ref
from kernel.problems import Conflict, InvalidInput, NotFound
from kernel.sites.codes import zone_of
from kernel.sites.service import site_id_or_main


def get_device(session: Session, code: str, *, lock: bool = False) -> HldDevice:
    """The device by code; `lock` holds its row (PostgreSQL) so runs and uses of one
    device are decided one at a time (SQLite's writers already queue)."""
    code = find_device_code(session, code) or code
    statement = select(HldDevice).where(HldDevice.code == code)
    if lock:
        statement = statement.with_for_update()
    found = session.scalar(statement)
    if found is None:
        raise NotFound(f"No HLD device with code {code!r}.")
    return found


def create_device(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    manufacturer: str | None = None,
    serial_number: str | None = None,
    actor: str,
    now: dt.datetime,
    site_id: int | None = None,
) -> HldDevice:
    """A new HLD device at site `site_id` (None: MAIN; handlers pass their scope's site)."""
    if session.scalar(select(HldDevice.id).where(HldDevice.code == code)) is not None:
        raise Conflict.for_field("code", f"An HLD device with code {code!r} already exists.")
    serial = serial_number.strip() if serial_number else None
    if serial and session.scalar(select(HldDevice.id).where(HldDevice.serial_number == serial)):
        raise Conflict.for_field(
            "serial_number", f"An HLD device with serial number {serial!r} already exists."
        )
    device = HldDevice(
        code=code,
        name=name.strip(),
        kind=kind.strip(),
        manufacturer=manufacturer.strip() if manufacturer else None,
        serial_number=serial,
        site_id=site_id_or_main(session, site_id),
        created_by=actor,
        created_at=now,
    )
    session.add(device)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # added by someone else a moment ago
        raise Conflict.for_field(
            "code", f"An HLD device with code {code!r} already exists."
        ) from exc
    audit.record(
        session,
        actor=actor,
        action="hld_device.create",
        entity="hld_device",
        entity_id=code,
        after=audit.snapshot(device),
    )
    return device


DEVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def find_device_code(session: Session, text: str) -> str | None:
    """The code of the HLD device `text` names (exact, or in another case), if any;
    text that cannot be a code (a scanner's garbage) is not looked up."""
    if not DEVICE_CODE.fullmatch(text):
        return None
    exact = session.scalar(select(HldDevice.code).where(HldDevice.code == text))
    if exact is not None:
        return exact
    return session.scalar(select(HldDevice.code).where(HldDevice.code == text.upper()))


def devices_by_code() -> Select[tuple[HldDevice]]:
    return select(HldDevice).order_by(HldDevice.code)


def hld_device(session: Session, code: str) -> DeviceInfo | None:
    """The `kernel.devices` resolver: is this code an HLD device?"""
    found = session.scalar(select(HldDevice).where(HldDevice.code == code))
    if found is None:
        return None
    return DeviceInfo(code=found.code, kind="hld_device", name=found.name, site_id=found.site_id)


def _number(value: float) -> str:
    return f"{value:g}"


def failure_reasons(
    *,
    disinfectant: str,
    solution_lot: str,
    solution_expires_on: dt.date,
    mec_result: str,
    soak_minutes: float,
    temperature_c: float,
    min_soak_minutes: float,
    min_temperature_c: float,
    run_day: dt.date,
) -> list[str]:
    """Why a run did not disinfect, in words an MA understands (empty: it passed)."""
    reasons: list[str] = []
    if solution_expires_on < run_day:
        reasons.append(
            f"the {disinfectant} solution (lot {solution_lot}) expired on {solution_expires_on}"
        )
    if mec_result != "pass":
        reasons.append(
            "the MEC test strip failed: the solution is below its minimum effective concentration"
        )
    if soak_minutes < min_soak_minutes:
        reasons.append(
            f"soaked {_number(soak_minutes)} min, less than the minimum "
            f"{_number(min_soak_minutes)} min"
        )
    if temperature_c < min_temperature_c:
        reasons.append(
            f"solution at {_number(temperature_c)} °C, below the minimum "
            f"{_number(min_temperature_c)} °C"
        )
    return reasons


def record_run(
    session: Session,
    code: str,
    *,
    disinfectant: str,
    solution_lot: str,
    solution_opened_on: dt.date,
    solution_expires_on: dt.date,
    mec_result: str,
    soak_minutes: float,
    temperature_c: float,
    min_soak_minutes: float,
    min_temperature_c: float,
    encounter_ref: str | None = None,
    performed_at: dt.datetime | None = None,
    actor: str,
    zone: ClinicTime,
    now: dt.datetime,
) -> HldRun:
    """Record a disinfection run: passed, or failed with the reasons; a run by someone
    without a current HLD competency carries a warning (never refused)."""
    device = get_device(session, code, lock=True)
    at = check_when(performed_at, now=now, field="performed_at")
    run_day = zone_of(device, zone).local_date(at)  # the day at the device's site
    if solution_expires_on < solution_opened_on:
        raise InvalidInput.for_field(
            "solution_expires_on",
            f"The solution cannot expire ({solution_expires_on}) before it was opened "
            f"({solution_opened_on}).",
        )
    if solution_opened_on > run_day:
        raise InvalidInput.for_field(
            "solution_opened_on",
            f"The solution was opened ({solution_opened_on}) after the run ({run_day}).",
        )
    ref = None
    if encounter_ref is not None:
        ref = normalize_encounter_ref(encounter_ref)
        if not ref:
            raise InvalidInput.for_field("encounter_ref", "encounter_ref must not be blank.")
    reasons = failure_reasons(
        disinfectant=disinfectant.strip(),
        solution_lot=solution_lot.strip(),
        solution_expires_on=solution_expires_on,
        mec_result=mec_result,
        soak_minutes=soak_minutes,
        temperature_c=temperature_c,
        min_soak_minutes=min_soak_minutes,
        min_temperature_c=min_temperature_c,
        run_day=run_day,
    )
    warnings = competency_warnings(session, actor, "hld", run_day)
    run = HldRun(
        device_id=device.id,  # type: ignore[arg-type]
        disinfectant=disinfectant.strip(),
        solution_lot=solution_lot.strip(),
        solution_opened_on=solution_opened_on,
        solution_expires_on=solution_expires_on,
        mec_result=mec_result,
        soak_minutes=soak_minutes,
        temperature_c=temperature_c,
        min_soak_minutes=min_soak_minutes,
        min_temperature_c=min_temperature_c,
        encounter_ref=ref,
        result="fail" if reasons else "pass",
        reasons=json.dumps(reasons),
        warnings=json.dumps(warnings),
        operator=actor,
        performed_at=at,
        recorded_at=now,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="hld.run",
        entity="hld_device",
        entity_id=device.code,
        after=audit.snapshot(run),
    )
    return run


def runs_of(device: HldDevice) -> Select[tuple[HldRun]]:
    """The device's runs, newest first (paged by the API)."""
    return (
        select(HldRun)
        .where(HldRun.device_id == device.id)
        .order_by(HldRun.performed_at.desc(), HldRun.id.desc())  # type: ignore[attr-defined]
    )


def get_run(session: Session, device: HldDevice, run_id: int) -> HldRun:
    run = session.get(HldRun, run_id)
    if run is None or run.device_id != device.id:
        raise NotFound(f"No HLD run {run_id} of {device.code}.")
    return run


def hld_operations(
    session: Session, start: dt.datetime | None, end: dt.datetime | None
) -> list[Operation]:
    """HLD runs in [start, end), as work needing the `hld` competency."""
    statement = select(HldRun.id, HldRun.operator, HldRun.performed_at, HldDevice.code).join(
        HldDevice, HldDevice.id == HldRun.device_id
    )
    if start is not None:
        statement = statement.where(HldRun.performed_at >= start)
    if end is not None:
        statement = statement.where(HldRun.performed_at < end)
    return [
        Operation(
            username=operator, skill="hld", at=at, what=f"HLD run {run_id} of {code}",
            kind="hld_run", ref=str(run_id),
        )
        for run_id, operator, at, code in session.execute(statement)
    ]  # fmt: skip
