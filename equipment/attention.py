"""What needs someone's attention today, for the dashboard's equipment tile: equipment
out of service, efficacy tests due (the period in progress has none yet), tests missed
in the last 30 days, maintenance overdue, HLD devices not OK to use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from equipment import cadence, hld, hld_use, maintenance, registry
from kernel.clock import ClinicTime


@dataclass(frozen=True, slots=True)
class Attention:
    text: str
    href: str
    level: str  # "stop" or "warn"


def equipment_attention(session: Session, zone: ClinicTime, now: dt.datetime) -> list[Attention]:
    """The dashboard's equipment lines; each piece's tests counted in its site's days."""
    found: list[Attention] = []
    today = zone.local_date(now)
    for e in registry.list_equipment(session):
        if e.status != "in_service":
            found.append(Attention(f"{e.name}: out of service ({e.status_reason})", "/equipment",
                                   "stop"))  # fmt: skip
        c = cadence.cadence_at_site(session, e, zone, now)
        if c.missed:
            periods = ", ".join(u.label for u in c.missed)
            found.append(Attention(f"{e.name}: test missed ({periods})", "/equipment", "stop"))
        if c.due and c.due_by is not None:
            found.append(Attention(f"{e.name}: {c.frequency} test due by {c.due_by}",
                                   "/equipment", "warn"))  # fmt: skip
    for d in maintenance.maintenance_due(session, today=today, within_days=0):
        if d.overdue:
            found.append(Attention(
                f"{d.device_name}: maintenance overdue since {d.next_due_on}", "/equipment",
                "stop",
            ))  # fmt: skip
    for device in session.scalars(hld.devices_by_code()):
        state = hld_use.device_state(session, device, zone=zone)
        if state.last_run is not None and state.last_run.result != "pass":
            found.append(Attention(f"{device.name}: last HLD run failed", f"/d/{device.code}",
                                   "stop"))  # fmt: skip
    return found
