"""What goes on a pack's label, from the pack record: the facts a standard asks to be
readable on the wrap even when the system is down.

Labels are printed at assembly (no cycle yet: blanks to write in) and reprinted later
(sterilizer, cycle number, sterilization date in the clinic's zone, expiry). The
rendering itself is `kernel.labels`; this module only reads the sterilization record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.auth.models import User
from kernel.clock import ClinicTime
from kernel.labels import PackLabel
from kernel.problems import InvalidInput, NotFound
from sterilization.cycle_queries import get_cycle
from sterilization.models import Pack
from sterilization.packs import PackView, list_pack_views, normalize_code
from sterilization.shelf_life import ShelfLife

MAX_LABELS = 1000  # one request; a whole day's wrapping is a few hundred


def _display_names(session: Session, usernames: set[str]) -> dict[str, str]:
    """Full names of the assemblers (the shell's users table), falling back to usernames."""
    if not usernames:
        return {}
    rows = session.execute(
        select(User.username, User.full_name).where(User.username.in_(sorted(usernames)))
    )
    return {username: (full_name or "").strip() or username for username, full_name in rows}


def _label(
    view: PackView, names: dict[str, str], zone: ClinicTime, shelf_life: ShelfLife
) -> PackLabel:
    pack = view.pack
    expires_on = pack.expires_on
    pending = False
    if pack.shelf_life_days is not None:  # the count sheet's own shelf life
        shelf_life = ShelfLife(pack.shelf_life_days)
    if expires_on is None and shelf_life.days is not None:
        if pack.sterilized_at is not None:
            # Quarantined implants get their date when the BI reads negative: the same one.
            expires_on = shelf_life.expiry_for(pack.sterilized_at, zone)
        else:
            pending = True
    return PackLabel(
        code=pack.code,
        description=pack.description,
        assembled_by=names.get(pack.assembled_by, pack.assembled_by),
        sterilizer=view.sterilizer_name or view.sterilizer_code,
        cycle_number=view.cycle_number,
        sterilized_on=zone.local_date(pack.sterilized_at) if pack.sterilized_at else None,
        expires_on=expires_on,
        expiry_pending=pending,
        sheet=_sheet_line(view),
        short=_short_line(pack.short),
    )


def _sheet_line(view: PackView) -> str | None:
    """`Suture kit v2 · wrap · tray ST-000004` for a pack counted against a sheet."""
    if view.template is None:
        return None
    _code, version, name, packaging = view.template
    tray = f" \u00b7 tray {view.set_code}" if view.set_code else ""
    return f"{name} v{version} \u00b7 {packaging}{tray}"


def _short_line(short_json: str | None) -> str | None:
    items = json.loads(short_json or "[]")
    if not items:
        return None
    return ", ".join(f"{i['missing']} \u00d7 {i['name']}" for i in items)


def labels_for_views(
    session: Session, views: Sequence[PackView], *, zone: ClinicTime, shelf_life: ShelfLife
) -> list[PackLabel]:
    names = _display_names(session, {v.pack.assembled_by for v in views})
    return [_label(v, names, zone, shelf_life) for v in views]


def parse_code_list(text: str) -> list[str]:
    """``PK-1, pk-2,,PK-3`` -> normalized codes in the order given (blanks dropped)."""
    return [normalize_code(part) for part in text.split(",") if part.strip()]


def labels_for_codes(
    session: Session,
    codes: Sequence[str],
    *,
    zone: ClinicTime,
    shelf_life: ShelfLife,
    now: dt.datetime,
) -> list[PackLabel]:
    """Labels in the order asked for; 404 naming every code that is not a pack."""
    codes = [normalize_code(c) for c in codes if c.strip()]
    if not codes:
        raise InvalidInput("Give the pack codes to print (codes=PK-000001,PK-000002) or a cycle.")
    if len(codes) > MAX_LABELS:
        raise InvalidInput(f"At most {MAX_LABELS} labels per request; {len(codes)} were asked.")
    wanted = sorted(set(codes))
    views, _ = list_pack_views(
        session, zone=zone, now=now, where=[Pack.code.in_(wanted)], limit=len(wanted), offset=0
    )
    by_code = {v.pack.code: v for v in views}
    missing = [c for c in dict.fromkeys(codes) if c not in by_code]
    if missing:
        shown = ", ".join(missing[:20]) + (
            f" and {len(missing) - 20} more" if len(missing) > 20 else ""
        )
        raise NotFound(f"No pack with code {shown}.", extra={"missing": missing})
    return labels_for_views(session, [by_code[c] for c in codes], zone=zone, shelf_life=shelf_life)


def labels_for_cycle(
    session: Session,
    cycle_id: int,
    *,
    zone: ClinicTime,
    shelf_life: ShelfLife,
    now: dt.datetime,
) -> list[PackLabel]:
    """Every pack loaded in the cycle, in the order they were assembled."""
    get_cycle(session, cycle_id)  # 404 for an unknown cycle
    views, total = list_pack_views(
        session, zone=zone, now=now, where=[Pack.cycle_id == cycle_id], limit=MAX_LABELS, offset=0
    )
    if total == 0:
        raise NotFound(f"Cycle {cycle_id} has no packs to label.")
    if total > MAX_LABELS:
        raise InvalidInput(
            f"At most {MAX_LABELS} labels per request; cycle {cycle_id} has {total}."
        )
    return labels_for_views(session, views, zone=zone, shelf_life=shelf_life)


def label_for_code(
    session: Session, code: str, *, zone: ClinicTime, shelf_life: ShelfLife, now: dt.datetime
) -> PackLabel:
    return labels_for_codes(session, [code], zone=zone, shelf_life=shelf_life, now=now)[0]
