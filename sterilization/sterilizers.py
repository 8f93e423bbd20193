"""Sterilizers and their service status. A sterilizer leaves service when an
administrator says so, when an air-removal test fails, or on a positive spore test."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import audit
from kernel.db import utcnow
from kernel.problems import Conflict, InvalidInput, NotFound
from kernel.sites.service import site_id_or_main
from sterilization.models import Sterilizer

if TYPE_CHECKING:
    from sterilization.models import Cycle


def get_sterilizer(session: Session, code: str) -> Sterilizer:
    sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.code == code))
    if sterilizer is None:
        raise NotFound(f"No sterilizer with code {code!r}.")
    return sterilizer


def _clean(value: str | None) -> str | None:
    """Surrounding spaces dropped; an empty value is no value."""
    value = (value or "").strip()
    return value or None


def refuse_serial_taken(
    session: Session, serial: str | None, *, other_than: int | None = None
) -> None:
    """409 naming `serial_number` when another sterilizer has this serial number."""
    if serial is None:
        return
    holder = session.scalar(
        select(Sterilizer.code).where(
            Sterilizer.serial_number == serial,
            *([Sterilizer.id != other_than] if other_than is not None else []),
        )
    )
    if holder is not None:
        raise Conflict.for_field(
            "serial_number",
            f"Serial number {serial!r} already belongs to sterilizer {holder}.",
            message="already taken",
        )


def create_sterilizer(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    actor: str,
    manufacturer: str | None = None,
    model: str | None = None,
    serial_number: str | None = None,
    bi_frequency: str = "weekly",
    site_id: int | None = None,
) -> Sterilizer:
    """A new sterilizer of site `site_id` (None: MAIN; handlers pass their scope's site)."""
    if session.scalar(select(Sterilizer.id).where(Sterilizer.code == code)) is not None:
        raise Conflict(f"A sterilizer with code {code!r} already exists.", field="code")
    serial = _clean(serial_number)
    refuse_serial_taken(session, serial)
    sterilizer = Sterilizer(
        code=code,
        name=name.strip(),
        kind=kind,
        manufacturer=_clean(manufacturer),
        model=_clean(model),
        serial_number=serial,
        bi_frequency=bi_frequency,
        status="in_service",
        site_id=site_id_or_main(session, site_id),
    )
    session.add(sterilizer)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # created by someone else a moment ago
        refuse_serial_taken(session, serial)
        raise Conflict(f"A sterilizer with code {code!r} already exists.", field="code") from exc
    audit.record(
        session,
        actor=actor,
        action="sterilizer.create",
        entity="sterilizer",
        entity_id=code,
        after=audit.snapshot(sterilizer),
    )
    return sterilizer


IDENTITY_FIELDS = ("name", "manufacturer", "model", "serial_number", "bi_frequency")


def update_details(
    session: Session, sterilizer: Sterilizer, changes: dict[str, str | None], *, actor: str
) -> None:
    """Name, make, model, serial and BI cadence: only the keys given change (None clears
    an optional one), audited before -> after. A serial number another sterilizer has is
    a 409 naming `serial_number`."""
    values: dict[str, str | None] = {}
    for key, value in changes.items():
        if key not in IDENTITY_FIELDS:
            raise ValueError(key)
        values[key] = _clean(value) if key in ("manufacturer", "model", "serial_number") else value
    if "name" in values and values["name"] is not None:
        values["name"] = values["name"].strip()
    values = {k: v for k, v in values.items() if getattr(sterilizer, k) != v}
    if not values:
        return
    serial = values.get("serial_number")
    refuse_serial_taken(session, serial, other_than=sterilizer.id)
    before = {k: getattr(sterilizer, k) for k in values}
    try:
        with session.begin_nested():
            session.execute(
                update(Sterilizer)
                .where(Sterilizer.id == sterilizer.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError as exc:  # the serial was given to another one a moment ago
        refuse_serial_taken(session, serial, other_than=sterilizer.id)
        raise Conflict.for_field(
            "serial_number", "Another sterilizer took that serial number a moment ago."
        ) from exc
    session.refresh(sterilizer)
    audit.record(
        session,
        actor=actor,
        action="sterilizer.update",
        entity="sterilizer",
        entity_id=sterilizer.code,
        before=before,
        after=values,
    )


def update_sterilizer(
    session: Session,
    code: str,
    *,
    changes: dict[str, str | None],
    status: str | None = None,
    reason: str | None = None,
    requalify: bool = False,
    actor: str,
    now: dt.datetime | None = None,
) -> Sterilizer:
    """The API's `PATCH`: details first, then the service status (which needs a reason).
    `requalify` (with `out_of_service`, after a repair) starts a requalification; back to
    `in_service` is refused (409) until a requalification is met."""
    from sterilization import requalification

    sterilizer = get_sterilizer(session, code)
    if requalify and status != "out_of_service":
        raise InvalidInput.for_field(
            "requalify", "requalify goes with status out_of_service.", message="needs status"
        )
    if status is not None and not (reason or "").strip():
        raise InvalidInput.for_field(
            "reason", "Say why the status changes: it goes in the sterilizer's record."
        )
    if status is None and reason is not None:
        raise InvalidInput.for_field("status", "A reason goes with a status change.")
    if status is None and not changes:
        raise InvalidInput.for_field("status", "Nothing to change: give at least one field.")
    update_details(session, sterilizer, changes, actor=actor)
    if requalify:
        requalification.start_requalification(
            session, sterilizer, since=now or utcnow(), reason=(reason or "").strip(), actor=actor
        )
        return sterilizer
    if status == "in_service":
        requalification.check_return_to_service(session, sterilizer)
    if status is not None:
        set_status(session, sterilizer, status=status, reason=(reason or "").strip(), actor=actor)
    return sterilizer


def set_status(
    session: Session,
    sterilizer: Sterilizer,
    *,
    status: str,
    reason: str,
    actor: str,
    action: str = "sterilizer.status",
) -> None:
    """Change the service status, always with a reason, audited."""
    before = {"status": sterilizer.status, "status_reason": sterilizer.status_reason}
    session.execute(
        update(Sterilizer)
        .where(Sterilizer.id == sterilizer.id)
        .values(status=status, status_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.refresh(sterilizer)
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="sterilizer",
        entity_id=sterilizer.code,
        before=before,
        after={"status": status, "status_reason": reason},
    )


def change_status(
    session: Session, code: str, *, status: str, reason: str, actor: str
) -> Sterilizer:
    """The page's status form: back in service only once a requalification is met."""
    from sterilization import requalification

    sterilizer = get_sterilizer(session, code)
    if status == "in_service":
        requalification.check_return_to_service(session, sterilizer)
    set_status(session, sterilizer, status=status, reason=reason.strip(), actor=actor)
    return sterilizer


def apply_test_result(
    session: Session,
    sterilizer: Sterilizer,
    *,
    rule_purpose: str,
    cycle: Cycle,
    passed: bool,
    reasons: list[str],
    actor: str,
    now: dt.datetime,
) -> None:
    """A passed Bowie-Dick test clears today's first load; a failed air-removal test
    (Bowie-Dick or vacuum leak test) takes the sterilizer out of service."""
    if passed:
        if rule_purpose == "bowie_dick" and sterilizer.status == "in_service":
            session.execute(
                update(Sterilizer)
                .where(Sterilizer.id == sterilizer.id)
                .values(last_bowie_dick_at=now)
                .execution_options(synchronize_session=False)
            )
            session.refresh(sterilizer)
        return
    if rule_purpose == "bi_test":
        return  # the BI decides, when it is read
    test = "Bowie-Dick test" if rule_purpose == "bowie_dick" else "leak test"
    if rule_purpose == "bowie_dick":
        from sterilization import requalification

        requalification.start_requalification(
            session, sterilizer, since=now,
            reason=f"{test} failed on cycle {cycle.number}: {'; '.join(reasons)}",
            actor=actor,
        )  # fmt: skip
        return
    set_status(
        session,
        sterilizer,
        status="out_of_service",
        reason=f"{test} failed on cycle {cycle.number}: {'; '.join(reasons)}"[:500],
        actor=actor,
        action="sterilizer.out_of_service",
    )


def sterilizers_by_code() -> Select[tuple[Sterilizer]]:
    """Every sterilizer by code, the API's list (paged with `kernel.pagination.paginate`)."""
    return select(Sterilizer).order_by(Sterilizer.code)


def list_sterilizers(session: Session) -> list[Sterilizer]:
    """Every sterilizer, by name (a clinic has a handful)."""
    return list(session.scalars(select(Sterilizer).order_by(Sterilizer.name, Sterilizer.code)))
