"""Instrument-set records as the API shows them (no queries here)."""

from __future__ import annotations

import json

from kernel.labels.payloads import set_url
from kernel.sites.codes import code_of
from sterilization.models import Pack
from sterilization.sets.assets import SetPackLine, SetView
from sterilization.sets.models import Instrument
from sterilization.sets.schemas import (
    CurrentPackOut,
    InstrumentOut,
    SetEncounterOut,
    SetOut,
    SetPackOut,
    SetTemplateOut,
    SetTemplateRef,
    ShortItem,
    TemplateItemOut,
)
from sterilization.sets.templates import TemplateView


def instrument_out(i: Instrument) -> InstrumentOut:
    return InstrumentOut(
        code=i.code,
        name=i.name,
        manufacturer=i.manufacturer,
        catalog_number=i.catalog_number,
        created_at=i.created_at,
    )


def template_out(view: TemplateView) -> SetTemplateOut:
    v = view.version
    return SetTemplateOut(
        code=view.code,
        version=v.version,
        current_version=view.template.current_version,
        current=view.is_current,
        name=v.name,
        packaging=v.packaging,
        shelf_life_days=v.shelf_life_days,
        items=[
            TemplateItemOut(
                instrument=ln.instrument.code, name=ln.instrument.name, quantity=ln.quantity
            )
            for ln in view.lines
        ],
        instrument_count=sum(ln.quantity for ln in view.lines),
        photo_url=f"/api/v1/set-templates/{view.code}/photo" if view.photo_id else None,
        created_by=v.created_by,
        created_at=v.created_at,
    )


def template_ref(view: TemplateView) -> SetTemplateRef:
    return SetTemplateRef(
        code=view.code, version=view.version.version, name=view.version.name,
        packaging=view.version.packaging,
    )  # fmt: skip


def short_items(pack: Pack) -> list[ShortItem]:
    return [ShortItem(**s) for s in json.loads(pack.short or "[]")]


def set_pack_out(line: SetPackLine) -> SetPackOut:
    p = line.pack
    return SetPackOut(
        code=p.code,
        status=p.status,
        template_version=line.template_version,
        assembled_at=p.assembled_at,
        assembled_by=p.assembled_by,
        cycle_number=line.cycle_number,
        sterilizer=line.sterilizer_code,
        short=short_items(p),
        used_at=p.used_at,
        encounter_ref=p.encounter_ref,
    )


def set_out(view: SetView, public_url: str) -> SetOut:
    a, current = view.asset, view.current_pack
    return SetOut(
        code=a.code,
        site=code_of(a),
        template=template_ref(view.template),
        status="in_pack" if current is not None else "available",
        current_pack=CurrentPackOut(code=current.code, status=current.status) if current else None,
        pack_count=view.pack_count,
        uses=view.uses,
        packs=[set_pack_out(line) for line in view.packs],
        qr_url=set_url(public_url, a.code),
        created_by=a.created_by,
        created_at=a.created_at,
    )


def set_encounter_out(line: SetPackLine) -> SetEncounterOut:
    p = line.pack
    return SetEncounterOut(
        encounter_ref=p.encounter_ref or "",
        pack=p.code,
        used_at=p.used_at,
        used_by=p.used_by,
        template_version=line.template_version,
        cycle_number=line.cycle_number,
        sterilizer=line.sterilizer_code,
        short=short_items(p),
    )
