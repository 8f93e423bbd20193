"""Assembling a pack from a count sheet: the MA counts each line of the template; a count
below the sheet is refused (422, listing what is missing) unless the short count is
accepted with a reason, and then the pack carries its short items for its label, its page
and its history.

A tray (set asset) is wrapped in at most one live pack at a time: assembling it again
while its last pack is assembled, in a running cycle, on hold or sterile on the shelf is a
409 naming that pack. Its row is locked while the count is checked, so two tablets
assembling the same tray cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kernel.problems import Conflict, InvalidInput
from sterilization.packs import create_packs, dumps
from sterilization.sets.assets import get_set, live_pack
from sterilization.sets.instruments import instruments_with_codes
from sterilization.sets.models import SetAsset, SetTemplate
from sterilization.sets.templates import PACKAGING_NAMES, TemplateView, get_template_view

STATUS_WORDS = {
    "assembled": "assembled, waiting for a cycle",
    "loaded": "in a running cycle",
    "quarantined": "on hold for its spore test",
    "sterile": "sterile on the shelf",
}


@dataclass(frozen=True)
class CountCheck:
    sheet: TemplateView
    asset: SetAsset | None
    contents: list[dict[str, object]]  # what is in the pack: [{name, quantity}]
    short: list[dict[str, object]]  # [{instrument, name, missing}]


def short_text(short: Sequence[dict[str, object]]) -> str:
    """`1 \u00d7 Adson forceps, 2 \u00d7 Mosquito hemostat` (label, page and messages)."""
    return ", ".join(f"{s['missing']} \u00d7 {s['name']}" for s in short)


def _sheet_for(
    session: Session, *, set_code: str | None, template_code: str | None, quantity: int
) -> tuple[TemplateView, SetAsset | None]:
    if set_code is None:
        assert template_code is not None
        return get_template_view(session, template_code), None
    if quantity != 1:
        raise InvalidInput.for_field(
            "quantity", "A tray makes one pack at a time: leave quantity at 1.",
            message="must be 1 for a set",
        )  # fmt: skip
    asset = get_set(session, set_code, lock=True)
    template = session.get(SetTemplate, asset.template_id)
    assert template is not None
    if template_code is not None and template_code.strip() != template.code:
        raise InvalidInput.for_field(
            "template", f"{asset.code} is a {template.code} tray, not {template_code}.",
            message="not this set's template",
        )  # fmt: skip
    current = live_pack(session, asset.id)
    if current is not None:
        raise Conflict.for_field(
            "set",
            f"{asset.code} is still in pack {current.code} "
            f"({STATUS_WORDS.get(current.status, current.status)}): use that pack or mark it "
            "compromised before assembling the tray again.",
            message=f"in pack {current.code}",
            extra={"pack": current.code, "pack_status": current.status},
        )
    return get_template_view(session, template.code), asset


def check_count(
    session: Session,
    *,
    set_code: str | None,
    template_code: str | None,
    counted: Sequence[tuple[str, int]] | None,
    accept_short_reason: str | None,
    quantity: int,
) -> CountCheck:
    """The count against the sheet: refused with the line it is about, or what it holds
    and what is missing."""
    sheet, asset = _sheet_for(
        session, set_code=set_code, template_code=template_code, quantity=quantity
    )
    if counted is None:
        raise InvalidInput.for_field(
            "counted",
            f"Count the {sheet.version.name}: give counted [{{instrument, quantity}}] for "
            "each line of the sheet.",
            message="required with a set or template",
        )
    expected = sheet.expected()
    known = instruments_with_codes(session, [c for c, _ in counted if c not in expected])
    got: dict[str, int] = {}
    for index, (code, quantity_counted) in enumerate(counted):
        field = f"counted[{index}].instrument"
        if code not in expected:
            why = (
                f"{code} is not on the count sheet of {sheet.code} version {sheet.version.version}."
                if code in known
                else f"No instrument with code {code!r}."
            )
            raise InvalidInput.for_field(
                field, why, message="not on the sheet" if code in known else "unknown instrument"
            )
        if code in got:
            raise InvalidInput.for_field(field, f"{code} is counted twice.", message="twice")
        if quantity_counted > expected[code]:
            raise InvalidInput.for_field(
                f"counted[{index}].quantity",
                f"{quantity_counted} counted but the {sheet.code} sheet holds {expected[code]} "
                f"of {code}: recount, or change the sheet.",
                message=f"more than the {expected[code]} the sheet holds",
            )
        got[code] = quantity_counted
    short = [
        {"instrument": ln.instrument.code, "name": ln.instrument.name,
         "missing": ln.quantity - got.get(ln.instrument.code, 0)}
        for ln in sheet.lines
        if got.get(ln.instrument.code, 0) < ln.quantity
    ]  # fmt: skip
    if short and accept_short_reason is None:
        raise InvalidInput.for_field(
            "counted",
            f"Short count: {short_text(short)} missing. Find them, or accept the short count "
            "with a reason (accept_short).",
            message=f"short: {short_text(short)} missing",
            extra={"missing": short},
        )
    contents = [
        {"name": ln.instrument.name, "quantity": got[ln.instrument.code]}
        for ln in sheet.lines
        if got.get(ln.instrument.code, 0) > 0
    ]
    return CountCheck(sheet, asset, contents, short)


def assemble_counted_packs(
    session: Session,
    *,
    set_code: str | None,
    template_code: str | None,
    counted: Sequence[tuple[str, int]] | None,
    accept_short_reason: str | None,
    quantity: int,
    implant: bool,
    actor: str,
    now: dt.datetime,
    free_text: bool = False,
    site_id: int | None = None,
) -> list[str]:
    """Packs counted against a sheet: the sheet's name as description, what was counted
    as contents, its version, the tray, short items and the sheet's shelf life."""
    if free_text:
        raise InvalidInput.for_field(
            "description", "A pack counted against a set template takes its description and "
            "contents from the sheet: leave description and contents out.",
            message="comes from the set template",
        )  # fmt: skip
    check = check_count(
        session, set_code=set_code, template_code=template_code, counted=counted,
        accept_short_reason=accept_short_reason, quantity=quantity,
    )  # fmt: skip
    v = check.sheet.version
    reason = accept_short_reason.strip() if check.short and accept_short_reason else None
    details: dict[str, object] = {
        "template": {"code": check.sheet.code, "version": v.version},
        "set": check.asset.code if check.asset else None,
        "packaging": PACKAGING_NAMES[v.packaging],
    }
    if check.short:
        details["short"] = check.short
        details["short_reason"] = reason
    return create_packs(
        session,
        description=v.name,
        contents=check.contents,
        quantity=quantity,
        implant=implant,
        actor=actor,
        now=now,
        values={
            "template_version_id": v.id,
            "set_id": check.asset.id if check.asset else None,
            "short": dumps(check.short),
            "short_reason": reason[:500] if reason else None,
            "shelf_life_days": v.shelf_life_days,
        },
        details=details,
        site_id=site_id,
    )


def free_text_description(description: str | None, counted: object) -> str:
    """A pack that is not counted against a sheet needs its description (and a count
    needs a sheet to count against)."""
    if counted is not None:
        raise InvalidInput.for_field(
            "counted", "A count needs a set or template to count against.",
            message="needs set or template",
        )  # fmt: skip
    if description is None:
        raise InvalidInput.for_field(
            "description", "Describe the pack, or give the set or template it was counted "
            "against.", message="required without a set or template",
        )  # fmt: skip
    return description.strip()
