"""Set assets: the physical trays and cassettes that go round and round.

A set has a permanent code (`ST-000001`) and QR label; each time it is counted and
wrapped it becomes a new pack (`sterilization.sets.counts`). A set is in at most one
live pack at a time (assembled, in a running cycle, on hold or sterile on the shelf):
the instruments cannot be in two wraps at once. Its trace is the packs it was in and
the encounters they were opened for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.labels import SetLabel
from kernel.problems import NotFound
from kernel.sites.service import site_id_or_main
from sterilization.models import Cycle, Pack, Sterilizer
from sterilization.packs import normalize_code, reserve_numbers
from sterilization.sets.models import SetAsset, SetTemplate, SetTemplateVersion
from sterilization.sets.templates import (
    PACKAGING_NAMES,
    TemplateView,
    get_template_view,
    version_views,
)

CODE_PREFIX = "ST-"
SET_COUNTER = "set"
# The pack statuses in which the tray is still inside the wrap.
LIVE_STATUSES = ("assembled", "loaded", "quarantined", "sterile")


def format_code(number: int) -> str:
    return f"{CODE_PREFIX}{number:06d}"


def get_set(session: Session, code: str, *, lock: bool = False) -> SetAsset:
    query = select(SetAsset).where(SetAsset.code == normalize_code(code))
    if lock:
        query = query.with_for_update()
    asset = session.scalar(query)
    if asset is None:
        raise NotFound(f"No set with code {code!r}.")
    return asset


def create_set(
    session: Session, *, template: str, actor: str, now: dt.datetime, site_id: int | None = None
) -> SetAsset:
    """A new tray or cassette for a template, with the next set code, at site `site_id`
    (None: MAIN; handlers pass their scope's site)."""
    view = get_template_view(session, template)
    [number] = reserve_numbers(session, 1, counter=SET_COUNTER)
    asset = SetAsset(
        code=format_code(number),
        template_id=view.template.id,
        site_id=site_id_or_main(session, site_id),
        created_by=actor,
        created_at=now,
    )
    session.add(asset)
    session.flush()
    audit.record(
        session, actor=actor, action="set.create", entity="set", entity_id=asset.code,
        after={"code": asset.code, "template": view.code},
    )  # fmt: skip
    return asset


def live_pack(session: Session, set_id: int) -> Pack | None:
    """The pack the tray is wrapped in now, if any."""
    return session.scalar(
        select(Pack)
        .where(Pack.set_id == set_id, Pack.status.in_(LIVE_STATUSES))
        .order_by(Pack.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class SetPackLine:
    """One time round: the pack the tray was in, against which sheet version."""

    pack: Pack
    template_version: int | None
    cycle_number: int | None
    sterilizer_code: str | None


@dataclass(frozen=True)
class SetView:
    asset: SetAsset
    template: TemplateView  # the current version of its template
    current_pack: Pack | None
    pack_count: int
    uses: int
    packs: list[SetPackLine]  # newest first


def _pack_lines(
    session: Session, where: Sequence[ColumnElement[bool]], *, limit: int, offset: int = 0
) -> list[SetPackLine]:
    rows = session.execute(
        select(Pack, SetTemplateVersion.version, Cycle.number, Sterilizer.code)
        .outerjoin(SetTemplateVersion, SetTemplateVersion.id == Pack.template_version_id)
        .outerjoin(Cycle, Cycle.id == Pack.cycle_id)
        .outerjoin(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .where(*where)
        .order_by(Pack.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [SetPackLine(p, v, n, s) for p, v, n, s in rows]


def get_set_view(session: Session, code: str, *, pack_limit: int = 100) -> SetView:
    asset = get_set(session, code)
    template = session.get(SetTemplate, asset.template_id)
    assert template is not None
    counts = session.execute(
        select(func.count(), func.count(Pack.used_at)).where(Pack.set_id == asset.id)
    ).one()
    return SetView(
        asset=asset,
        template=get_template_view(session, template.code),
        current_pack=live_pack(session, asset.id),
        pack_count=counts[0],
        uses=counts[1],
        packs=_pack_lines(session, [Pack.set_id == asset.id], limit=pack_limit),
    )


def list_sets(
    session: Session, *, template: str | None, limit: int, offset: int
) -> tuple[list[SetView], int]:
    """Sets by code, optionally of one template."""
    where = []
    if template is not None:
        where.append(SetTemplate.code == template.strip())
    base = select(SetAsset.code).join(SetTemplate, SetTemplate.id == SetAsset.template_id)
    total = session.scalar(select(func.count()).select_from(base.where(*where).subquery())) or 0
    codes = session.scalars(base.where(*where).order_by(SetAsset.code).limit(limit).offset(offset))
    return [get_set_view(session, c, pack_limit=5) for c in codes], total


def set_encounters(
    session: Session, code: str, *, limit: int, offset: int
) -> tuple[list[SetPackLine], int]:
    """Every encounter the set's packs were opened for, newest first."""
    asset = get_set(session, code)
    where = [Pack.set_id == asset.id, Pack.encounter_ref.is_not(None)]
    total = session.scalar(select(func.count()).select_from(Pack).where(*where)) or 0
    return _pack_lines(session, where, limit=limit, offset=offset), total


def template_versions_of(session: Session, packs: Sequence[Pack]) -> dict[int, TemplateView]:
    """The sheet versions these packs were counted against, by version id."""
    return version_views(session, [p.template_version_id for p in packs if p.template_version_id])


@dataclass(frozen=True)
class RecalledSet:
    """A tray whose packs a recall covers: where the recall meets instruments."""

    code: str
    template: str
    template_name: str
    packs: list[tuple[str, str, str | None]]  # (pack code, status, encounter)


def sets_in_packs(session: Session, pack_ids: Sequence[int]) -> list[RecalledSet]:
    """The trays these packs were made from (a recall's packs), by tray code."""
    if not pack_ids:
        return []
    rows = session.execute(
        select(
            SetAsset.code,
            SetTemplate.code,
            SetTemplateVersion.name,
            Pack.code,
            Pack.status,
            Pack.encounter_ref,
        )
        .join(Pack, Pack.set_id == SetAsset.id)
        .join(SetTemplate, SetTemplate.id == SetAsset.template_id)
        .outerjoin(SetTemplateVersion, SetTemplateVersion.id == Pack.template_version_id)
        .where(Pack.id.in_(list(pack_ids)))
        .order_by(SetAsset.code, Pack.id)
    ).all()
    found: dict[str, RecalledSet] = {}
    for set_code, tpl, name, pack, status, encounter in rows:
        entry = found.setdefault(set_code, RecalledSet(set_code, tpl, name or tpl, []))
        entry.packs.append((pack, status, encounter))
    return list(found.values())


def set_label(session: Session, code: str) -> SetLabel:
    """What the tray's permanent tag says (its QR holds `/s/{code}`)."""
    view = get_set_view(session, code, pack_limit=0)
    v = view.template.version
    return SetLabel(
        code=view.asset.code,
        name=v.name,
        template=view.template.code,
        packaging=PACKAGING_NAMES.get(v.packaging, v.packaging),
    )


def free_sets(session: Session, codes: Sequence[str]) -> list[str]:
    """Which of these trays are not in a live pack (ready to be counted), by code."""
    live = select(Pack.id).where(Pack.set_id == SetAsset.id, Pack.status.in_(LIVE_STATUSES))
    return list(
        session.scalars(
            select(SetAsset.code)
            .where(SetAsset.code.in_(list(codes)), ~live.exists())
            .order_by(SetAsset.code)
        )
    )
