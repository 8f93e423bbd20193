"""The equipment page (`/equipment`), tablet-friendly: each piece of equipment with its
service status and test cadence, and the MA's forms on it (efficacy test, run); the HLD
devices, OK to use or not; maintenance due and the form to record maintenance.

Handlers are thin: the rules are the API's (`testing.record_test`, `testing.record_run`,
`maintenance.record_maintenance`). A refused form comes back with its messages and the
values kept; nothing is written.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipment import cadence, hld, hld_use, maintenance, registry, testing
from equipment.guards import can_act, equipment_readers, ma_or_admin
from equipment.models import MAINTENANCE_KINDS
from equipment.schemas import EquipmentRunIn, EquipmentTestIn, MaintenanceIn
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.web.forms import (
    FormData,
    FormRefusal,
    convert_form_fields,
    form_text,
    new_nonce,
    submit_form,
)
from kernel.web.templating import render_page

PATH = "/equipment"
LABELS = {
    "kind": "Test or maintenance kind",
    "result": "Result",
    "notes": "Notes",
    "program": "Program",
    "device": "Device",
    "performed_by": "Done by",
    "performed_on": "Done on",
    "next_due_on": "Next due",
}
TEST_FIELDS = ("kind", "result", "notes")
RUN_FIELDS = ("result", "program", "notes")
MAINTENANCE_FIELDS = ("device", "kind", "performed_by", "performed_on", "next_due_on", "notes")
KIND_LABELS = {
    "ultrasonic": "Ultrasonic cleaner",
    "washer_disinfector": "Washer-disinfector",
    "aer": "Automated endoscope reprocessor",
    "incubator": "BI incubator",
    "other": "Other",
}


def render_equipment(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    me: CurrentUser,
    clock: Clock,
    refusal: FormRefusal | None = None,
    form: dict[str, str] | None = None,
    form_id: str | None = None,
) -> Template:
    zone, now, today = clock.zone, clock.now(), clock.today()
    items = [
        (e, cadence.cadence_at_site(session, e, zone, now))
        for e in registry.list_equipment(session)
    ]
    devices = [
        hld_use.device_state(session, d, zone=zone) for d in session.scalars(hld.devices_by_code())
    ]
    due = maintenance.maintenance_due(session, today=today, within_days=30)
    return render_page(
        request,
        "equipment/equipment.html",
        status_code=refusal.status_code if refusal else 200,
        items=[
            {
                "e": e,
                "kind": KIND_LABELS.get(e.kind, e.kind),
                "cadence": c,
                "last_test": zone.local_text(c.last_test_at) if c.last_test_at else None,
            }
            for e, c in items
        ],
        devices=devices,
        due=due,
        device_options=[(e.code, f"{e.name} ({e.code})") for e, _ in items]
        + [(s.device.code, f"{s.device.name} ({s.device.code})") for s in devices]
        + [(code, f"{code} (sterilizer)") for code in _sterilizer_codes(session)],
        maintenance_kinds=[(k, k.capitalize()) for k in MAINTENANCE_KINDS],
        can_act=can_act(me),
        today=today.isoformat(),
        error=refusal.message if refusal else None,
        errors=refusal.errors if refusal else {},
        labels=LABELS,
        form=form or {},
        form_id=form_id,
        nonce=new_nonce(),
    )


def _sterilizer_codes(session: Session) -> list[str]:
    """Codes in the maintenance log that are sterilizers (the form offers them again)."""
    from equipment.models import MaintenanceRecord

    return list(
        session.scalars(
            select(MaintenanceRecord.device_code)
            .where(MaintenanceRecord.device_kind == "sterilizer")
            .distinct()
            .order_by(MaintenanceRecord.device_code)
        )
    )


@get(PATH, guards=[equipment_readers], sync_to_thread=True)
def equipment_page(
    request: Request[Any, Any, Any], db_session: Session, me: CurrentUser, clock: Clock
) -> Template:
    return render_equipment(request, db_session, me=me, clock=clock)


def _submit(
    request: Request[Any, Any, Any],
    session: Session,
    me: CurrentUser,
    clock: Clock,
    data: dict[str, Any],
    *,
    scope: str,
    form: dict[str, str],
    form_id: str,
    errors: dict[str, str],
    action: Any,
    done: Any,
) -> Response[Any]:
    return submit_form(
        request, session, me=me, data=data, scope=scope, errors=errors, action=action,
        rerender=lambda refusal: render_equipment(
            request, session, me=me, clock=clock, refusal=refusal, form=form, form_id=form_id
        ),
        done=done,
        again="Already recorded (the form was sent twice).",
    )  # fmt: skip


@post(f"{PATH}/{{code:str}}/tests", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def record_test_form(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    shown = registry.get_equipment(db_session, code).code  # 404 for an unknown code
    form = {name: form_text(data, name) for name in TEST_FIELDS}
    values, errors = convert_form_fields(form, EquipmentTestIn, required={"kind", "result"})

    def action() -> dict[str, str]:
        _, e = testing.record_test(
            db_session, shown, actor=me.username, now=clock.now(), zone=clock.zone, **values
        )
        return {"status": e.status, "reason": e.status_reason or ""}

    def done(result: dict[str, str]) -> tuple[str, ...]:
        if result["status"] != "in_service":
            return PATH, f"{shown} is OUT OF SERVICE: {result['reason']}.", "error"
        return PATH, f"Test recorded: {shown} is in service."

    return _submit(
        request, db_session, me, clock, data, scope=f"page POST {PATH}/{shown}/tests",
        form=form, form_id=f"test-{shown}", errors=errors, action=action, done=done,
    )  # fmt: skip


@post(f"{PATH}/{{code:str}}/runs", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def record_run_form(
    request: Request[Any, Any, Any],
    code: str,
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    shown = registry.get_equipment(db_session, code).code  # 404 for an unknown code
    form = {name: form_text(data, name) for name in RUN_FIELDS}
    values, errors = convert_form_fields(form, EquipmentRunIn, required={"result"})
    return _submit(
        request, db_session, me, clock, data, scope=f"page POST {PATH}/{shown}/runs",
        form=form, form_id=f"run-{shown}", errors=errors,
        action=lambda: testing.record_run(
            db_session, shown, actor=me.username, now=clock.now(), **values
        ).id,
        done=lambda _: (PATH, f"Run logged on {shown}."),
    )  # fmt: skip


@post(f"{PATH}/maintenance", guards=[ma_or_admin], sync_to_thread=True, status_code=303)
def record_maintenance_form(
    request: Request[Any, Any, Any],
    data: FormData,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Response[Any]:
    form = {name: form_text(data, name) for name in MAINTENANCE_FIELDS}
    values, errors = convert_form_fields(
        form, MaintenanceIn, required={"device", "kind", "performed_by", "performed_on"}
    )
    return _submit(
        request, db_session, me, clock, data, scope=f"page POST {PATH}/maintenance",
        form=form, form_id="maintenance-form", errors=errors,
        action=lambda: maintenance.record_maintenance(
            db_session, actor=me.username, now=clock.now(), today=clock.today(), **values
        ).device_code,
        done=lambda device: (PATH, f"Maintenance of {device} recorded."),
    )  # fmt: skip


page_handlers: list[Any] = [
    equipment_page,
    record_test_form,
    record_run_form,
    record_maintenance_form,
]
