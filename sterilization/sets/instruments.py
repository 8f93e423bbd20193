"""The instrument catalogue: the kinds of instrument a count sheet names."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import Conflict, NotFound
from sterilization.sets.models import Instrument


def get_instrument(session: Session, code: str) -> Instrument:
    instrument = session.scalar(select(Instrument).where(Instrument.code == code.strip()))
    if instrument is None:
        raise NotFound(f"No instrument with code {code!r}.")
    return instrument


def create_instrument(
    session: Session,
    *,
    code: str,
    name: str,
    manufacturer: str | None,
    catalog_number: str | None,
    actor: str,
) -> Instrument:
    """Add an instrument to the catalogue; a code is taken once."""
    taken = f"An instrument with code {code!r} already exists."
    if session.scalar(select(Instrument.id).where(Instrument.code == code)) is not None:
        raise Conflict.for_field("code", taken, message="taken")
    instrument = Instrument(
        code=code,
        name=name.strip(),
        manufacturer=(manufacturer or "").strip() or None,
        catalog_number=(catalog_number or "").strip() or None,
        created_by=actor,
    )
    session.add(instrument)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # added by someone else a moment ago
        raise Conflict.for_field("code", taken, message="taken") from exc
    audit.record(
        session,
        actor=actor,
        action="instrument.create",
        entity="instrument",
        entity_id=code,
        after=audit.snapshot(instrument),
    )
    return instrument


def instruments_by_code() -> Select[tuple[Instrument]]:
    """The catalogue by code (paged by `kernel.pagination.paginate`)."""
    return select(Instrument).order_by(Instrument.code)


def instruments_with_codes(session: Session, codes: Sequence[str]) -> dict[str, Instrument]:
    """The instruments among `codes` that exist, by code."""
    if not codes:
        return {}
    found = session.scalars(select(Instrument).where(Instrument.code.in_(set(codes))))
    return {i.code: i for i in found}
