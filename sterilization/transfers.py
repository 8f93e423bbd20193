"""Moving packs between sites: central sterile processing ships sterilized packs to the
clinics of the group. A transfer moves the pack (its `site_id`: where it is now, who may
see and use it) and appends a `transfer` event to its history; its cycle stays the
sender's record. The receiving site's dashboard lists what arrived."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import Conflict
from kernel.sites.codes import site_code
from kernel.sites.query_scope import every_site
from kernel.sites.scope import SiteInfo
from sterilization.models import Pack, PackEvent
from sterilization.packs import get_pack

# A pack in a running load is inside the sterilizer; a used one is in a patient's record.
NOT_TRANSFERABLE = ("loaded", "used")
RECEIVED_DAYS = 7  # the dashboard lists packs received this many days back


def transfer_pack(
    session: Session, code: str, *, to_site: SiteInfo, actor: str, now: dt.datetime
) -> Pack:
    """Send one of the user's packs to `to_site` (one of the user's sites too)."""
    pack = get_pack(session, code)  # another site's pack: 404, as for none
    if pack.site_id == to_site.id:
        raise Conflict(f"Pack {pack.code} is already at site {to_site.code}.", field="to_site")
    if pack.status in NOT_TRANSFERABLE:
        raise Conflict(
            f"Pack {pack.code} is {pack.status} and cannot move to another site.",
            extra={"current_status": pack.status},
        )
    from_code = site_code(session, pack.site_id)
    details = {"from_site": from_code, "to_site": to_site.code}
    with every_site(session):  # the pack leaves the scope of a user of the sender only
        session.execute(
            update(Pack)
            .where(Pack.id == pack.id, Pack.site_id == pack.site_id)
            .values(site_id=to_site.id)
            .execution_options(synchronize_session=False)
        )
    session.add(
        PackEvent(
            pack_id=pack.id,  # type: ignore[arg-type]
            at=now,
            event="transfer",
            actor=actor,
            details=json.dumps(details, separators=(",", ":")),
        )
    )
    session.flush()
    session.refresh(pack)
    audit.record(
        session,
        actor=actor,
        action="pack.transfer",
        entity="pack",
        entity_id=pack.code,
        before={"site": from_code},
        after={"site": to_site.code},
    )
    return pack


@dataclass(frozen=True)
class ReceivedPack:
    code: str
    description: str
    status: str
    from_site: str
    at: dt.datetime


def received_packs(session: Session, now: dt.datetime, *, limit: int = 15) -> list[ReceivedPack]:
    """Packs transferred to the user's sites in the last days, newest first (the
    receiving site's dashboard)."""
    rows = session.execute(
        select(
            Pack.code,
            Pack.description,
            Pack.status,
            Pack.site_id,
            PackEvent.details,
            PackEvent.at,
        )
        .join(PackEvent, PackEvent.pack_id == Pack.id)
        .where(PackEvent.event == "transfer", PackEvent.at >= now - dt.timedelta(RECEIVED_DAYS))
        .order_by(PackEvent.at.desc(), PackEvent.id.desc())
        .limit(limit)
    ).all()
    found = []
    for code, description, status, site_id, details, at in rows:
        sent = json.loads(details)
        if sent.get("to_site") != site_code(session, site_id):
            continue  # it moved on since: not this site's arrival any more
        found.append(ReceivedPack(code, description, status, sent.get("from_site", ""), at))
    return found
