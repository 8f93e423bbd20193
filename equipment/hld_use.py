"""Is an HLD device OK to use, recording its use on an encounter, and tracing back from
an encounter to the device and the run that made it safe.

OK TO USE only after a passed run with no use since: a device is disinfected between
patients, so each use consumes the disinfection it relied on. A use of a device that is
not OK is refused with the reasons (409, nothing written), like a pack's.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from equipment.hld import get_device
from equipment.models import HldDevice, HldRun, HldUse
from kernel import audit
from kernel.clock import ClinicTime
from kernel.encounters import normalize_encounter_ref
from kernel.problems import Conflict, InvalidInput
from kernel.sites.codes import zone_of


@dataclass(frozen=True, slots=True)
class DeviceState:
    device: HldDevice
    ok_to_use: bool
    reasons: list[str]
    last_run: HldRun | None
    last_use: HldUse | None


def _latest_run(session: Session, device: HldDevice) -> HldRun | None:
    return session.scalar(
        select(HldRun)
        .where(HldRun.device_id == device.id)
        .order_by(HldRun.performed_at.desc(), HldRun.id.desc())  # type: ignore[attr-defined]
        .limit(1)
    )


def _latest_use(session: Session, device: HldDevice) -> HldUse | None:
    return session.scalar(
        select(HldUse)
        .where(HldUse.device_id == device.id)
        .order_by(HldUse.used_at.desc(), HldUse.id.desc())  # type: ignore[attr-defined]
        .limit(1)
    )


def device_state(session: Session, device: HldDevice, *, zone: ClinicTime) -> DeviceState:
    """OK to use or not, and why; times told in the device's site's zone (`zone`: the
    default for a device no session holds)."""
    zone = zone_of(device, zone)
    """OK TO USE, or the reasons why not, in words an MA understands."""
    run = _latest_run(session, device)
    use = _latest_use(session, device)
    reasons: list[str] = []
    if run is None:
        reasons.append("no high-level disinfection recorded yet")
    elif run.result != "pass":
        why = "; ".join(json.loads(run.reasons)) or "failed"
        reasons.append(f"the last HLD run ({zone.local_text(run.performed_at)}) failed: {why}")
    elif use is not None and (
        use.used_at > run.performed_at or (use.used_at == run.performed_at and use.run_id == run.id)
    ):
        reasons.append(
            f"used on {use.encounter_ref} at {zone.local_text(use.used_at)} since its last "
            "HLD run: disinfect it again"
        )
    return DeviceState(device, not reasons, reasons, run, use)


def state_of(session: Session, code: str, *, zone: ClinicTime) -> DeviceState:
    return device_state(session, get_device(session, code), zone=zone)


def use_device(
    session: Session,
    code: str,
    *,
    encounter_ref: str,
    actor: str,
    zone: ClinicTime,
    now: dt.datetime,
) -> HldUse:
    """Record the device's use on an encounter; refused with the reasons unless it is OK
    to use right now (a second tap finds it already used)."""
    ref = normalize_encounter_ref(encounter_ref)
    if not ref:
        raise InvalidInput.for_field("encounter_ref", "encounter_ref must not be blank.")
    device = get_device(session, code, lock=True)
    state = device_state(session, device, zone=zone)
    if not state.ok_to_use or state.last_run is None:
        raise Conflict(
            f"{device.name} ({device.code}) must not be used: {'; '.join(state.reasons)}.",
            extra={"code": device.code, "reasons": state.reasons},
        )
    use = HldUse(
        device_id=device.id,  # type: ignore[arg-type]
        run_id=state.last_run.id,
        encounter_ref=ref,
        used_at=max(now, state.last_run.performed_at),
        used_by=actor,
    )
    session.add(use)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="hld.use",
        entity="hld_device",
        entity_id=device.code,
        after={"encounter_ref": ref, "run_id": state.last_run.id, "used_at": use.used_at},
    )
    return use


@dataclass(frozen=True, slots=True)
class EncounterDevice:
    device: HldDevice
    use: HldUse
    run: HldRun | None


def devices_for_encounter(session: Session, encounter_ref: str) -> list[EncounterDevice]:
    """Every HLD device used on the encounter, with the run it relied on (oldest first)."""
    ref = normalize_encounter_ref(encounter_ref)
    rows = session.execute(
        select(HldUse, HldDevice, HldRun)
        .join(HldDevice, HldDevice.id == HldUse.device_id)
        .outerjoin(HldRun, HldRun.id == HldUse.run_id)
        .where(HldUse.encounter_ref == ref)
        .order_by(HldUse.used_at, HldUse.id)
    )
    return [EncounterDevice(device, use, run) for use, device, run in rows]


def uses_of(device: HldDevice) -> Select[tuple[HldUse]]:
    return (
        select(HldUse)
        .where(HldUse.device_id == device.id)
        .order_by(HldUse.used_at.desc(), HldUse.id.desc())  # type: ignore[attr-defined]
    )
