"""Set templates (count sheets) and their versions.

A template is a code; what it holds is its versions. `create_template` writes version 1,
`revise_template` (the API's PUT) writes the next one and never touches earlier versions:
packs keep the version they were counted against. A revision is refused while packs of
the template are in a running cycle (the load was counted against the sheet as it was).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import Conflict, InvalidInput, NotFound
from sterilization.models import Pack
from sterilization.sets.instruments import instruments_with_codes
from sterilization.sets.models import (
    Instrument,
    SetTemplate,
    SetTemplateItem,
    SetTemplatePhoto,
    SetTemplateVersion,
)

PACKAGING_NAMES = {
    "wrap": "wrapped",
    "pouch": "peel pouch",
    "container": "rigid container",
    "cassette": "cassette",
}


@dataclass(frozen=True)
class TemplateLine:
    instrument: Instrument
    quantity: int


@dataclass(frozen=True)
class TemplateView:
    """One version of a count sheet with its lines, in sheet order."""

    template: SetTemplate
    version: SetTemplateVersion
    lines: list[TemplateLine]
    photo_id: int | None = None

    @property
    def code(self) -> str:
        return self.template.code

    @property
    def is_current(self) -> bool:
        return self.version.version == self.template.current_version

    def expected(self) -> dict[str, int]:
        """Instrument code -> how many the sheet holds."""
        return {line.instrument.code: line.quantity for line in self.lines}


def _resolve_items(
    session: Session, items: Sequence[tuple[str, int]]
) -> list[tuple[Instrument, int]]:
    """The sheet's lines as instruments; unknown or repeated instruments are refused,
    naming the line (`items[2].instrument`)."""
    if not items:
        raise InvalidInput.for_field(
            "items", "A count sheet lists at least one instrument.", message="empty"
        )
    known = instruments_with_codes(session, [code.strip() for code, _ in items])
    seen: set[str] = set()
    lines: list[tuple[Instrument, int]] = []
    for index, (code, quantity) in enumerate(items):
        code = code.strip()
        field = f"items[{index}].instrument"
        if code not in known:
            raise InvalidInput.for_field(
                field, f"No instrument with code {code!r}: add it to the catalogue first.",
                message="unknown instrument",
            )  # fmt: skip
        if code in seen:
            raise InvalidInput.for_field(
                field, f"{code} is listed twice: give one line with the total quantity.",
                message="listed twice",
            )  # fmt: skip
        seen.add(code)
        lines.append((known[code], quantity))
    return lines


def _write_version(
    session: Session,
    template: SetTemplate,
    *,
    version: int,
    name: str,
    packaging: str,
    shelf_life_days: int | None,
    lines: list[tuple[Instrument, int]],
    actor: str,
    now: dt.datetime,
) -> SetTemplateVersion:
    row = SetTemplateVersion(
        template_id=template.id,
        version=version,
        name=name,
        packaging=packaging,
        shelf_life_days=shelf_life_days,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.execute(
        insert(SetTemplateItem),
        [
            {"version_id": row.id, "instrument_id": inst.id, "position": n, "quantity": qty}
            for n, (inst, qty) in enumerate(lines)
        ],
    )
    return row


def _snapshot(view: TemplateView) -> dict[str, object]:
    v = view.version
    return {
        "version": v.version,
        "name": v.name,
        "packaging": v.packaging,
        "shelf_life_days": v.shelf_life_days,
        "items": [{"instrument": ln.instrument.code, "quantity": ln.quantity} for ln in view.lines],
    }


def create_template(
    session: Session,
    *,
    code: str,
    name: str,
    packaging: str,
    shelf_life_days: int | None,
    items: Sequence[tuple[str, int]],
    actor: str,
    now: dt.datetime,
) -> TemplateView:
    """A new count sheet, version 1."""
    taken = f"A set template with code {code!r} already exists; PUT it to make a new version."
    if session.scalar(select(SetTemplate.id).where(SetTemplate.code == code)) is not None:
        raise Conflict.for_field("code", taken, message="taken")
    lines = _resolve_items(session, items)
    template = SetTemplate(code=code, current_version=1, created_by=actor, created_at=now)
    session.add(template)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict.for_field("code", taken, message="taken") from exc
    _write_version(
        session, template, version=1, name=name.strip(), packaging=packaging,
        shelf_life_days=shelf_life_days, lines=lines, actor=actor, now=now,
    )  # fmt: skip
    view = get_template_view(session, code)
    audit.record(
        session, actor=actor, action="set_template.create", entity="set_template",
        entity_id=code, after=_snapshot(view),
    )  # fmt: skip
    return view


def loaded_pack_codes(session: Session, template_id: int, *, limit: int = 20) -> list[str]:
    """Packs of any version of this template that are in a running cycle now."""
    return list(
        session.scalars(
            select(Pack.code)
            .join(SetTemplateVersion, SetTemplateVersion.id == Pack.template_version_id)
            .where(SetTemplateVersion.template_id == template_id, Pack.status == "loaded")
            .order_by(Pack.id)
            .limit(limit)
        )
    )


def revise_template(
    session: Session,
    code: str,
    *,
    name: str,
    packaging: str,
    shelf_life_days: int | None,
    items: Sequence[tuple[str, int]],
    actor: str,
    now: dt.datetime,
) -> tuple[TemplateView, bool]:
    """Write the next version (returns it and True); the same content again writes
    nothing (returns the current version and False)."""
    template = _get_template(session, code, lock=True)
    lines = _resolve_items(session, items)
    current = get_template_view(session, code)
    proposed = {
        "name": name.strip(),
        "packaging": packaging,
        "shelf_life_days": shelf_life_days,
        "items": [{"instrument": inst.code, "quantity": qty} for inst, qty in lines],
    }
    before = _snapshot(current)
    if {k: before[k] for k in proposed} == proposed:
        return current, False
    loaded = loaded_pack_codes(session, template.id)
    if loaded:
        raise Conflict(
            f"Packs of {code} are in a running cycle ({', '.join(loaded)}): change the count "
            "sheet once the cycle is complete.",
            extra={"packs": loaded},
        )
    version = template.current_version + 1
    bumped = session.execute(
        update(SetTemplate)
        .where(SetTemplate.id == template.id, SetTemplate.current_version == version - 1)
        .values(current_version=version)
        .execution_options(synchronize_session=False)
    ).rowcount
    if bumped != 1:
        raise Conflict(f"{code} was changed by someone else meanwhile; reload and try again.")
    session.refresh(template)
    _write_version(
        session, template, version=version, name=proposed["name"], packaging=packaging,
        shelf_life_days=shelf_life_days, lines=lines, actor=actor, now=now,
    )  # fmt: skip
    view = get_template_view(session, code)
    audit.record(
        session, actor=actor, action="set_template.revise", entity="set_template",
        entity_id=code, before=before, after=_snapshot(view),
    )  # fmt: skip
    return view, True


# Reading -----------------------------------------------------------------------------


def _get_template(session: Session, code: str, *, lock: bool = False) -> SetTemplate:
    query = select(SetTemplate).where(SetTemplate.code == code.strip())
    if lock:
        query = query.with_for_update()
    template = session.scalar(query)
    if template is None:
        raise NotFound(f"No set template with code {code!r}.")
    return template


def _lines(session: Session, version_ids: Sequence[int]) -> dict[int, list[TemplateLine]]:
    rows = session.execute(
        select(SetTemplateItem.version_id, SetTemplateItem.quantity, Instrument)
        .join(Instrument, Instrument.id == SetTemplateItem.instrument_id)
        .where(SetTemplateItem.version_id.in_(list(version_ids)))
        .order_by(SetTemplateItem.version_id, SetTemplateItem.position)
    ).all()
    out: dict[int, list[TemplateLine]] = {vid: [] for vid in version_ids}
    for version_id, quantity, instrument in rows:
        out[version_id].append(TemplateLine(instrument, quantity))
    return out


def _photo_ids(session: Session, template_ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(
        select(SetTemplatePhoto.template_id, func.max(SetTemplatePhoto.id))
        .where(SetTemplatePhoto.template_id.in_(list(template_ids)))
        .group_by(SetTemplatePhoto.template_id)
    ).all()
    return {tid: pid for tid, pid in rows}


def _views(session: Session, pairs: Sequence[tuple[SetTemplate, SetTemplateVersion]]):  # type: ignore[no-untyped-def]
    lines = _lines(session, [v.id for _, v in pairs])
    photos = _photo_ids(session, list({t.id for t, _ in pairs}))
    return [TemplateView(t, v, lines[v.id], photos.get(t.id)) for t, v in pairs]


def get_template_view(session: Session, code: str, version: int | None = None) -> TemplateView:
    """A template as it is now, or as it was at `version`."""
    template = _get_template(session, code)
    wanted = template.current_version if version is None else version
    row = session.scalar(
        select(SetTemplateVersion).where(
            SetTemplateVersion.template_id == template.id, SetTemplateVersion.version == wanted
        )
    )
    if row is None:
        raise NotFound(
            f"{template.code} has no version {wanted} (it is at version "
            f"{template.current_version})."
        )
    return _views(session, [(template, row)])[0]


def version_views(session: Session, version_ids: Sequence[int]) -> dict[int, TemplateView]:
    """Template versions by id (the versions packs were counted against)."""
    if not version_ids:
        return {}
    pairs = session.execute(
        select(SetTemplate, SetTemplateVersion)
        .join(SetTemplateVersion, SetTemplateVersion.template_id == SetTemplate.id)
        .where(SetTemplateVersion.id.in_(set(version_ids)))
    ).all()
    return {v.version.id: v for v in _views(session, [(t, ver) for t, ver in pairs])}


def list_templates(session: Session, *, limit: int, offset: int) -> tuple[list[TemplateView], int]:
    """Current versions of every template, by code."""
    total = session.scalar(select(func.count()).select_from(SetTemplate)) or 0
    pairs = session.execute(
        select(SetTemplate, SetTemplateVersion)
        .join(
            SetTemplateVersion,
            (SetTemplateVersion.template_id == SetTemplate.id)
            & (SetTemplateVersion.version == SetTemplate.current_version),
        )
        .order_by(SetTemplate.code)
        .limit(limit)
        .offset(offset)
    ).all()
    return _views(session, [(t, v) for t, v in pairs]), total


def list_versions(session: Session, code: str) -> list[TemplateView]:
    """Every version of a template, oldest first."""
    template = _get_template(session, code)
    rows = session.scalars(
        select(SetTemplateVersion)
        .where(SetTemplateVersion.template_id == template.id)
        .order_by(SetTemplateVersion.version)
    ).all()
    return _views(session, [(template, r) for r in rows])
