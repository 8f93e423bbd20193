"""Packs: their codes, the status machine, whether a pack is safe to use, use and compromise.

Every status change of a pack goes through :func:`move_packs`, which knows the allowed
transitions and writes the matching history events. It is one conditional, set-based
UPDATE, so a double tap or a race can never move a pack out of a state it has already left.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from kernel import audit
from kernel.clock import ClinicTime
from kernel.db import UTCDateTime
from kernel.encounters import normalize_encounter_ref
from kernel.problems import Conflict, InvalidInput, NotFound
from kernel.sites.codes import site_code, zone_of
from kernel.sites.query_scope import across_sites
from kernel.sites.service import site_id_or_main
from sterilization.models import Counter, Cycle, Pack, PackEvent, Recall, Sterilizer
from sterilization.sets.models import SetAsset, SetTemplate, SetTemplateVersion

# The pack status machine (SPEC section 3). Keys: from-status; values: allowed targets.
TRANSITIONS: dict[str, frozenset[str]] = {
    "assembled": frozenset({"loaded", "compromised"}),
    # `recalled` from `loaded`: a positive BI while a later load is still running.
    "loaded": frozenset({"sterile", "quarantined", "failed", "recalled"}),
    "quarantined": frozenset({"sterile", "recalled", "compromised"}),
    "sterile": frozenset({"used", "recalled", "compromised"}),
    # A recall released after investigation puts its packs back (implants still waiting
    # for their own BI go back to quarantine).
    "recalled": frozenset({"sterile", "quarantined"}),
    "failed": frozenset(),
    "used": frozenset(),
    "compromised": frozenset(),
}

CODE_PREFIX = "PK-"
PACK_COUNTER = "pack"


def sources_of(target: str) -> tuple[str, ...]:
    """The statuses a pack may be in to move to `target`."""
    return tuple(sorted(src for src, targets in TRANSITIONS.items() if target in targets))


def format_code(number: int) -> str:
    return f"{CODE_PREFIX}{number:06d}"


def normalize_code(code: str) -> str:
    """Scanners and people type codes in any case and with stray spaces."""
    return code.strip().upper()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def move_packs(
    session: Session,
    where: ColumnElement[bool],
    *,
    to: str,
    event: str,
    actor: str,
    at: dt.datetime,
    details: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    only_from: Iterable[str] | None = None,
) -> list[int]:
    """Move the packs matching `where` to status `to`, if the machine allows it from their
    current status (optionally narrowed to `only_from`), and append one history event per
    moved pack. Returns the ids of the packs that moved; packs in any other status are left
    alone, so callers compare the count with what they expected."""
    allowed = set(sources_of(to))
    if only_from is not None:
        allowed &= set(only_from)
    if not allowed:
        return []
    moved = (
        update(Pack)
        .where(where, Pack.status.in_(sorted(allowed)))
        .values(status=to, **(values or {}))
        .returning(Pack.id)
    )
    detail_text = dumps(details or {})
    if session.bind.dialect.name == "postgresql":
        # One statement: the UPDATE feeds the history INSERT inside the server.
        cte = moved.cte("moved")
        stmt = (
            insert(PackEvent)
            .from_select(
                ["pack_id", "at", "event", "actor", "details"],
                select(
                    cte.c.id,
                    literal(at, UTCDateTime()),
                    literal(event),
                    literal(actor),
                    literal(detail_text),
                ),
            )
            .returning(PackEvent.pack_id)
        )
        return list(session.execute(stmt).scalars())
    ids = list(session.execute(moved.execution_options(synchronize_session=False)).scalars())
    if ids:
        # SQLite has no UPDATE inside a CTE: hand the ids back as one JSON array rather
        # than thousands of parameter rows.
        ids_table = func.json_each(dumps(ids)).table_valued("value")
        session.execute(
            insert(PackEvent).from_select(
                ["pack_id", "at", "event", "actor", "details"],
                select(
                    ids_table.c.value,
                    literal(at, UTCDateTime()),
                    literal(event),
                    literal(actor),
                    literal(detail_text),
                ),
            )
        )
    return ids


def reserve_numbers(session: Session, count: int, *, counter: str = PACK_COUNTER) -> range:
    """Hand out `count` new consecutive numbers of a named counter. The counter row is
    updated atomically (and stays locked until commit on PostgreSQL), so concurrent
    creators never collide."""
    dialect_insert = (
        postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    )
    session.execute(
        dialect_insert(Counter)
        .values(name=counter, value=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    last = session.execute(
        update(Counter)
        .where(Counter.name == counter)
        .values(value=Counter.value + count)
        .returning(Counter.value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return range(last - count + 1, last + 1)


def reserve_codes(session: Session, count: int) -> list[str]:
    """Hand out `count` new consecutive pack codes."""
    return [format_code(n) for n in reserve_numbers(session, count)]


def create_packs(
    session: Session,
    *,
    description: str,
    contents: Sequence[dict[str, Any]],
    quantity: int,
    implant: bool,
    actor: str,
    now: dt.datetime,
    values: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    site_id: int | None = None,
) -> list[str]:
    """Assemble `quantity` identical packs (one label each) at site `site_id` (None: MAIN);
    returns their codes. `values` sets further columns (a count sheet's version, tray,
    short items) and `details` goes into the `assembled` history event and the audit entry."""
    site_id = site_id_or_main(session, site_id)
    codes = reserve_codes(session, quantity)
    contents_text = dumps(list(contents))
    rows = [
        {
            "code": code,
            "site_id": site_id,
            "description": description,
            "contents": contents_text,
            "implant": implant,
            "status": "assembled",
            "assembled_by": actor,
            "assembled_at": now,
            "short": "[]",
            **(values or {}),
        }
        for code in codes
    ]
    ids = list(
        session.execute(
            insert(Pack).returning(Pack.id, sort_by_parameter_order=True), rows
        ).scalars()
    )
    details_text = dumps({"description": description, "implant": implant, **(details or {})})
    session.execute(
        insert(PackEvent),
        [
            {
                "pack_id": pid,
                "at": now,
                "event": "assembled",
                "actor": actor,
                "details": details_text,
            }
            for pid in ids
        ],
    )
    audit.record(
        session,
        actor=actor,
        action="pack.create",
        entity="pack",
        entity_id=codes[0] if len(codes) == 1 else f"{codes[0]}..{codes[-1]}",
        after={
            "codes": codes,
            "description": description,
            "contents": list(contents),
            "implant": implant,
            **(details or {}),
        },
    )
    return codes


# Reading a pack ----------------------------------------------------------------------


@dataclass(frozen=True)
class PackView:
    """A pack with its cycle, and whether it is safe to use (and why not)."""

    pack: Pack  # or the scan's row, which has the same column names (`pack_scan`)
    cycle_number: int | None
    cycle_status: str | None
    sterilizer_code: str | None
    sterilizer_name: str | None
    usable: bool
    reasons: list[str]
    # Counted against a sheet (sterilization/sets): its code, version, name, packaging.
    template: tuple[str, int, str, str] | None = None
    set_code: str | None = None
    site: str = ""  # the code of the site the pack is at


@functools.cache
def _pack_query():  # type: ignore[no-untyped-def]
    """Packs (of the user's sites) with their cycle and sterilizer, wherever those are: a
    pack sent from central sterile processing names the cycle that sterilized it. The
    aliases keep the site scope (`kernel.sites`) to the packs themselves. Built once:
    building it (aliases, five joins) cost a scan more than its query."""
    cycle, sterilizer = aliased(Cycle), aliased(Sterilizer)
    return (
        select(
            Pack,
            cycle.number,
            cycle.status,
            sterilizer.code,
            sterilizer.name,
            SetTemplate.code,
            SetTemplateVersion.version,
            SetTemplateVersion.name,
            SetTemplateVersion.packaging,
            SetAsset.code,
        )
        .outerjoin(cycle, cycle.id == Pack.cycle_id)
        .outerjoin(sterilizer, sterilizer.id == cycle.sterilizer_id)
        .outerjoin(SetTemplateVersion, SetTemplateVersion.id == Pack.template_version_id)
        .outerjoin(SetTemplate, SetTemplate.id == SetTemplateVersion.template_id)
        .outerjoin(SetAsset, SetAsset.id == Pack.set_id)
    )


@functools.cache
def _pack_by_code():  # type: ignore[no-untyped-def]
    return _pack_query().where(Pack.code == bindparam("code"))


@across_sites  # reached through a pack of the user's: the recall may be the sender's
def _recall_cycle(session: Session, recall_id: int | None) -> tuple[int, str] | None:
    if recall_id is None:
        return None
    row = session.execute(
        select(Cycle.number, Sterilizer.name)
        .select_from(Recall)
        .join(Cycle, Cycle.id == Recall.triggered_by_cycle_id)
        .join(Sterilizer, Sterilizer.id == Recall.sterilizer_id)
        .where(Recall.id == recall_id)
    ).one_or_none()
    return (row[0], row[1]) if row else None


def usable_and_reasons(
    pack: Pack,
    *,
    cycle_number: int | None,
    sterilizer_name: str | None,
    today: dt.date,
    zone: ClinicTime,
    recall_cycle: tuple[int, str] | None = None,
) -> tuple[bool, list[str]]:
    """Whether a pack may be opened on a patient, and if not, why, in an MA's words."""
    on = f"cycle {cycle_number} on {sterilizer_name}" if cycle_number is not None else "its cycle"
    status = pack.status
    if status == "sterile":
        if pack.expires_on is not None and today > pack.expires_on:
            return False, [f"expired {pack.expires_on.isoformat()}"]
        return True, []
    if status == "assembled":
        reasons = ["not sterilized yet: it has not been through a cycle"]
    elif status == "loaded":
        reasons = [f"not sterile yet: {on} is still running"]
    elif status == "quarantined":
        reasons = [f"implant pack on hold until the spore test (BI) of {on} is negative"]
    elif status == "failed":
        reasons = [f"{on} failed"]
    elif status == "used":
        when = zone.local_text(pack.used_at) if pack.used_at else "an earlier time"
        reasons = [f"already used on encounter {pack.encounter_ref} at {when}"]
    elif status == "recalled":
        if recall_cycle is not None:
            reasons = [
                f"recalled: positive spore test on cycle {recall_cycle[0]} ({recall_cycle[1]})"
            ]
        else:
            reasons = ["recalled"]
    elif status == "compromised":
        reasons = [f"compromised: {pack.status_note or 'wrap damaged'}"]
    else:  # pragma: no cover - the check constraint allows nothing else
        reasons = [f"status {status}"]
    return False, reasons


def _view(session: Session, row: Any, zone: ClinicTime, now: dt.datetime) -> PackView:
    pack, number, cycle_status, ster_code, ster_name, tpl, version, name, packaging, set_code = row
    zone = zone_of(pack, zone)  # expiry and times are the pack's site's
    today = zone.local_date(now)
    recall_cycle = _recall_cycle(session, pack.recall_id) if pack.status == "recalled" else None
    usable, reasons = usable_and_reasons(
        pack,
        cycle_number=number,
        sterilizer_name=ster_name,
        today=today,
        zone=zone,
        recall_cycle=recall_cycle,
    )
    template = (tpl, version, name, packaging) if tpl is not None else None
    return PackView(
        pack, number, cycle_status, ster_code, ster_name, usable, reasons, template, set_code,
        site=site_code(session, pack.site_id),
    )  # fmt: skip


def get_pack_view(session: Session, code: str, *, zone: ClinicTime, now: dt.datetime) -> PackView:
    """A pack as it is `now`: usable, or why not."""
    row = session.execute(_pack_by_code(), {"code": normalize_code(code)}).one_or_none()
    if row is None:
        raise NotFound(f"No pack with code {code!r}.")
    return _view(session, row, zone, now)


def list_pack_views(
    session: Session,
    *,
    zone: ClinicTime,
    now: dt.datetime,
    where: Sequence[ColumnElement[bool]] = (),
    limit: int,
    offset: int,
) -> tuple[list[PackView], int]:
    """Packs in the order they were made (one page, and the total)."""
    total = session.scalar(select(func.count()).select_from(Pack).where(*where)) or 0
    rows = session.execute(
        _pack_query().where(*where).order_by(Pack.id).limit(limit).offset(offset)
    ).all()
    return [_view(session, row, zone, now) for row in rows], total


def list_packs(
    session: Session,
    *,
    zone: ClinicTime,
    now: dt.datetime,
    status: str | None = None,
    cycle_id: int | None = None,
    limit: int,
    offset: int,
) -> tuple[list[PackView], int]:
    """`GET /api/v1/packs`: packs filtered by status and cycle."""
    where = []
    if status is not None:
        where.append(Pack.status == status)
    if cycle_id is not None:
        where.append(Pack.cycle_id == cycle_id)
    return list_pack_views(session, zone=zone, now=now, where=where, limit=limit, offset=offset)


def packs_with_codes(
    session: Session, codes: Sequence[str], *, zone: ClinicTime, now: dt.datetime
) -> list[PackView]:
    """The packs with these codes (made together, or asked for by label)."""
    views, _ = list_pack_views(
        session, zone=zone, now=now, where=[Pack.code.in_(codes)], limit=len(codes), offset=0
    )
    return views


def packs_used_on(
    session: Session,
    encounter_ref: str,
    *,
    zone: ClinicTime,
    now: dt.datetime,
    limit: int,
    offset: int,
) -> tuple[list[PackView], int]:
    """Tracing back from a patient encounter: the packs opened for it."""
    ref = normalize_encounter_ref(encounter_ref)
    if not ref:
        raise NotFound("Give an encounter reference.")
    return list_pack_views(
        session, zone=zone, now=now, where=[Pack.encounter_ref == ref], limit=limit,
        offset=offset,
    )  # fmt: skip


def get_pack(session: Session, code: str) -> Pack:
    pack = session.scalar(select(Pack).where(Pack.code == normalize_code(code)))
    if pack is None:
        raise NotFound(f"No pack with code {code!r}.")
    return pack


# Using and compromising --------------------------------------------------------------


def use_pack(
    session: Session,
    code: str,
    *,
    encounter_ref: str,
    actor: str,
    zone: ClinicTime,
    now: dt.datetime,
) -> None:
    """Record that a pack was opened for a patient encounter. Refused with the reasons
    (409, nothing written) unless the pack is usable right now; a second tap on the same
    pack finds it already used."""
    encounter_ref = normalize_encounter_ref(encounter_ref)
    if not encounter_ref:
        raise InvalidInput("encounter_ref must not be blank.", field="encounter_ref")
    pack = get_pack(session, code)
    today = zone_of(pack, zone).local_date(now)  # expired by the pack's site's calendar
    not_expired = (Pack.expires_on.is_(None)) | (Pack.expires_on >= today)
    moved = move_packs(
        session,
        (Pack.id == pack.id) & not_expired,
        to="used",
        only_from=["sterile"],
        event="used",
        actor=actor,
        at=now,
        details={"encounter_ref": encounter_ref},
        values={"used_at": now, "used_by": actor, "encounter_ref": encounter_ref},
    )
    if not moved:
        session.refresh(pack)
        view = get_pack_view(session, pack.code, zone=zone, now=now)
        raise Conflict(
            f"Pack {pack.code} must not be used: {'; '.join(view.reasons)}.",
            extra={"code": pack.code, "current_status": pack.status, "reasons": view.reasons},
        )
    audit.record(
        session,
        actor=actor,
        action="pack.use",
        entity="pack",
        entity_id=pack.code,
        before={"status": "sterile"},
        after={"status": "used", "encounter_ref": encounter_ref, "used_at": now},
    )


def compromise_pack(
    session: Session, code: str, *, reason: str, actor: str, now: dt.datetime
) -> None:
    """Take a torn, wet or dropped pack out of use for good."""
    reason = reason.strip()
    if len(reason) < 3:
        raise InvalidInput("Say what happened to the pack (torn, wet, dropped...).", field="reason")
    pack = get_pack(session, code)
    before = pack.status
    moved = move_packs(
        session,
        Pack.id == pack.id,
        to="compromised",
        event="compromised",
        actor=actor,
        at=now,
        details={"reason": reason},
        values={"status_note": reason[:500]},
    )
    if not moved:
        raise Conflict(
            f"Pack {pack.code} is {before}; only assembled, sterile or quarantined packs can "
            "be marked compromised.",
            extra={"code": pack.code, "current_status": before},
        )
    audit.record(
        session,
        actor=actor,
        action="pack.compromise",
        entity="pack",
        entity_id=pack.code,
        before={"status": before},
        after={"status": "compromised", "reason": reason},
    )


def assembled_packs(session: Session, *, limit: int = 200) -> list[Pack]:
    """Packs waiting to be loaded, oldest first (to tick when starting a cycle)."""
    return list(
        session.scalars(
            select(Pack).where(Pack.status == "assembled").order_by(Pack.id).limit(limit)
        )
    )
