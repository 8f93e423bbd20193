"""The scan of one pack (`GET /api/v1/packs/{code}`): is it safe to use, and why not.

The hottest read of the product (every tray opened at every chair), so it reads rows, not
ORM objects: one statement compiled once, run without a session (`kernel.reads`), the
packs' site scope applied here from the user's remembered scope (`kernel.sites`: connection-level
SQL is not scoped by the query scope). Loading a `Pack` object and scoping the statement
through the ORM cost a scan more than its query. The answer is the same as
`packs.get_pack_view`'s, which the pages (and anything needing the `Pack`) keep using.
"""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import bindparam, select

from kernel.problems import NotFound
from kernel.reads import PreparedRead, Reader
from sterilization.models import Cycle, Pack, Recall, Sterilizer
from sterilization.packs import PackView, normalize_code, usable_and_reasons
from sterilization.sets.models import SetAsset, SetTemplate, SetTemplateVersion

_packs = Pack.__table__  # type: ignore[attr-defined]


@functools.cache
def _scan() -> PreparedRead:
    """The pack with its cycle, sterilizer, count sheet and set, by code (Core, built
    once). The cycle may be another site's: a pack sent from central sterile processing
    names the cycle that sterilized it, so only the pack itself is scoped."""
    cycles = Cycle.__table__.alias("cycle")  # type: ignore[attr-defined]
    sterilizers = Sterilizer.__table__.alias("sterilizer")  # type: ignore[attr-defined]
    versions = SetTemplateVersion.__table__  # type: ignore[attr-defined]
    templates = SetTemplate.__table__  # type: ignore[attr-defined]
    assets = SetAsset.__table__  # type: ignore[attr-defined]
    return PreparedRead(
        select(
            *_packs.c,
            cycles.c.number.label("cycle_number"),
            cycles.c.status.label("cycle_status"),
            sterilizers.c.code.label("sterilizer_code"),
            sterilizers.c.name.label("sterilizer_name"),
            templates.c.code.label("template_code"),
            versions.c.version.label("template_version"),
            versions.c.name.label("template_name"),
            versions.c.packaging.label("template_packaging"),
            assets.c.code.label("set_code"),
        )
        .select_from(_packs)
        .outerjoin(cycles, cycles.c.id == _packs.c.cycle_id)
        .outerjoin(sterilizers, sterilizers.c.id == cycles.c.sterilizer_id)
        .outerjoin(versions, versions.c.id == _packs.c.template_version_id)
        .outerjoin(templates, templates.c.id == versions.c.template_id)
        .outerjoin(assets, assets.c.id == _packs.c.set_id)
        .where(_packs.c.code == bindparam("code"))
    )


@functools.cache
def _recall_cycle() -> PreparedRead:
    """The cycle (number, sterilizer name) whose positive BI started a recall: every
    site's, reached through a pack of the user's (the recall may be the sender's)."""
    recalls = Recall.__table__  # type: ignore[attr-defined]
    cycles = Cycle.__table__  # type: ignore[attr-defined]
    sterilizers = Sterilizer.__table__  # type: ignore[attr-defined]
    return PreparedRead(
        select(cycles.c.number, sterilizers.c.name)
        .select_from(recalls)
        .join(cycles, cycles.c.id == recalls.c.triggered_by_cycle_id)
        .join(sterilizers, sterilizers.c.id == recalls.c.sterilizer_id)
        .where(recalls.c.id == bindparam("recall_id"))
    )


def scan_pack_view(reader: Reader, code: str, *, now: dt.datetime) -> PackView:
    """A scanned pack as it is `now` (404 when there is none among the user's sites)."""
    row = _scan().first(reader.db, {"code": normalize_code(code)})
    sites = reader.sites
    if row is None or not sites.allows(row.site_id):
        raise NotFound(f"No pack with code {code!r}.")
    site = sites.all_sites[row.site_id]
    zone = site.zone  # expiry and times are the pack's site's
    recall_cycle = None
    if row.status == "recalled" and row.recall_id is not None:
        found = _recall_cycle().first(reader.db, {"recall_id": row.recall_id})
        recall_cycle = (found.number, found.name) if found is not None else None
    usable, reasons = usable_and_reasons(
        row,
        cycle_number=row.cycle_number,
        sterilizer_name=row.sterilizer_name,
        today=zone.local_date(now),
        zone=zone,
        recall_cycle=recall_cycle,
    )
    template = (
        (row.template_code, row.template_version, row.template_name, row.template_packaging)
        if row.template_code is not None
        else None
    )
    return PackView(
        row, row.cycle_number, row.cycle_status, row.sterilizer_code, row.sterilizer_name,
        usable, reasons, template, row.set_code, site=site.code,
    )  # fmt: skip
