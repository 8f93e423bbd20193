"""The tray page a scanned set label opens (`/s/{code}`): which count sheet it follows,
the pack it is in now, its history, and — when the tray is free — the count sheet itself,
so scanning the tray at the assembly table starts the count.

The count sheet is a tablet page: one big row per instrument (expected, counted, minus and +
buttons large enough for gloved hands, a ✓ to take the expected number), the template's
photo when one was uploaded, and "Accept short" with a reason. A short count without it
comes back listing what is missing; nothing is written.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.web.forms import FormData, FormRefusal, form_checked, form_text, new_nonce, submit_form
from kernel.web.templating import render_page
from sterilization.guards import can_act, ma_or_admin
from sterilization.sets import assets, counts, photos
from sterilization.sets.responses import short_items
from sterilization.sets.templates import PACKAGING_NAMES, TemplateView

MAX_COUNT = 1000
NO_REASON = "Say why the tray goes out short (at least 3 characters)."
STATUS_KIND = {"sterile": "ok", "used": "info", "assembled": "warn", "loaded": "warn",
               "quarantined": "warn"}  # fmt: skip


def sheet_rows(sheet: TemplateView, form: dict[str, str], errors: dict[str, str]) -> list[dict]:
    """The count sheet's rows as the page shows them, with what was typed so far."""
    rows = []
    for index, line in enumerate(sheet.lines):
        rows.append(
            {
                "index": index,
                "instrument": line.instrument.code,
                "name": line.instrument.name,
                "expected": line.quantity,
                "counted": form.get(f"count-{index}", "0"),
                "error": errors.get(f"counted[{index}].quantity")
                or errors.get(f"counted[{index}].instrument")
                or errors.get(f"count-{index}"),
            }
        )
    return rows


def render_set(
    request: Request[Any, Any, Any],
    session: Session,
    code: str,
    *,
    me: CurrentUser,
    clock: Clock,
    refusal: FormRefusal | None = None,
    form: dict[str, str] | None = None,
) -> Template:
    view = assets.get_set_view(session, code)
    zone = clock.zone
    form = form or {}
    errors = refusal.errors if refusal else {}
    sheet = view.template
    history = [
        {
            "code": line.pack.code,
            "status": line.pack.status,
            "kind": STATUS_KIND.get(line.pack.status, "stop"),
            "version": line.template_version,
            "assembled": zone.local_text(line.pack.assembled_at),
            "cycle": f"{line.sterilizer_code} #{line.cycle_number}" if line.cycle_number else "—",
            "short": ", ".join(f"{s.missing} \u00d7 {s.name}" for s in short_items(line.pack)),
            "encounter": line.pack.encounter_ref or "",
        }
        for line in view.packs
    ]
    top_error = refusal.message if refusal else None
    if refusal and not top_error:
        top_error = errors.get("counted") or errors.get("set")
    return render_page(
        request,
        "sterilization/set.html",
        status_code=refusal.status_code if refusal else 200,
        view=view,
        asset=view.asset,
        sheet=sheet,
        packaging=PACKAGING_NAMES.get(sheet.version.packaging, sheet.version.packaging),
        current=view.current_pack,
        rows=sheet_rows(sheet, form, errors),
        history=history,
        can_act=can_act(me),
        error=top_error,
        missing=(refusal.error.extra.get("missing") if refusal and refusal.error else None),
        errors=errors,
        form=form,
        nonce=new_nonce(),
    )


@get("/s/{code:str}", guards=[any_role], sync_to_thread=True)
def set_page(
    request: Request[Any, Any, Any], code: str, db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    return render_set(request, db_session, code, me=me, clock=clock)


def _read_counts(
    data: FormData, lines: int
) -> tuple[dict[str, str], list[tuple[str, int]], dict[str, str]]:
    form: dict[str, str] = {}
    counted: list[tuple[str, int]] = []
    errors: dict[str, str] = {}
    for index in range(lines):
        instrument = form_text(data, f"instrument-{index}")
        raw = form_text(data, f"count-{index}") or "0"
        form[f"count-{index}"] = raw
        if not raw.isdigit() or int(raw) > MAX_COUNT:
            errors[f"count-{index}"] = "Enter how many you counted (0 or more)."
            continue
        counted.append((instrument, int(raw)))
    return form, counted, errors


@post("/s/{code:str}/assemble", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def assemble_set(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    view = assets.get_set_view(db_session, code)  # 404 for an unknown tray
    shown = view.asset.code
    form, counted, errors = _read_counts(data, len(view.template.lines))
    accept = form_checked(data, "accept_short")
    reason = form_text(data, "short_reason")
    form["short_reason"] = reason
    form["accept_short"] = "1" if accept else ""
    if accept and len(reason.strip()) < 3:
        errors["short_reason"] = NO_REASON

    def done(codes: list[str]) -> tuple[str, str] | tuple[str, str, str]:
        pack = codes[0]
        return f"/p/{pack}", f"Pack {pack} assembled from {shown}: {view.template.version.name}."

    return submit_form(
        request, db_session, me=me, data=data, scope=f"page POST /s/{shown}/assemble",
        errors=errors,
        action=lambda: counts.assemble_counted_packs(
            db_session, set_code=shown, template_code=None, counted=counted,
            accept_short_reason=reason if accept else None, quantity=1, implant=False,
            actor=me.username, now=clock.now(),
        ),
        rerender=lambda refusal: render_set(
            request, db_session, shown, me=me, clock=clock, refusal=refusal, form=form
        ),
        done=done,
        fallback_field="counted",
    )  # fmt: skip


@get("/set-templates/{code:str}/photo", guards=[any_role], sync_to_thread=True)
def set_template_photo(code: str, db_session: Session) -> Response[bytes]:
    """The count sheet's photo for the page (the API's needs a bearer token)."""
    photo = photos.latest_photo(db_session, code)
    return Response(
        photo.data, media_type=photo.content_type, headers={"Cache-Control": "private, max-age=300"}
    )


page_handlers: list[Any] = [set_page, assemble_set, set_template_photo]
