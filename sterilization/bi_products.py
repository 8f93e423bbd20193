"""Biological indicator products: each has a minimum incubation time before it may be
read. `DEFAULT` (a self-contained BI, 24 hours; added by migration) is the product of a
cycle that names none."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import Conflict, InvalidInput, NotFound
from sterilization.models import BiProduct

DEFAULT_CODE = "DEFAULT"
DEFAULT_MINUTES = 1440


def readable_at(ended_at: dt.datetime, min_incubation_minutes: int | None) -> dt.datetime:
    """When a load's BI may be read: its product's minimum incubation after the load
    ended (the default product's 24 hours for a cycle that names none)."""
    return ended_at + dt.timedelta(minutes=min_incubation_minutes or DEFAULT_MINUTES)


def get_bi_product(session: Session, code: str) -> BiProduct:
    product = session.scalar(select(BiProduct).where(BiProduct.code == code))
    if product is None:
        raise NotFound(f"No BI product with code {code!r}.")
    return product


def product_for_cycle(session: Session, code: str | None) -> BiProduct:
    """The product a cycle names (422 naming `bi_product` when unknown), else `DEFAULT`."""
    product = session.scalar(select(BiProduct).where(BiProduct.code == (code or DEFAULT_CODE)))
    if product is not None:
        return product
    if code:
        raise InvalidInput.for_field(
            "bi_product",
            f"No BI product with code {code!r}: an administrator adds it under BI products.",
            message="unknown BI product",
        )
    # A database made without the migration's row (never in a migrated clinic).
    product = BiProduct(
        code=DEFAULT_CODE,
        name="Self-contained BI (default)",
        min_incubation_minutes=DEFAULT_MINUTES,
        created_by="system",
    )
    session.add(product)
    session.flush()
    return product


def create_bi_product(
    session: Session,
    *,
    code: str,
    name: str,
    manufacturer: str | None,
    min_incubation_minutes: int,
    actor: str,
) -> BiProduct:
    taken = Conflict.for_field(
        "code", f"A BI product with code {code!r} already exists.", message="already exists"
    )
    if session.scalar(select(BiProduct.id).where(BiProduct.code == code)) is not None:
        raise taken
    product = BiProduct(
        code=code,
        name=name.strip(),
        manufacturer=(manufacturer or "").strip() or None,
        min_incubation_minutes=min_incubation_minutes,
        created_by=actor,
    )
    session.add(product)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise taken from exc
    audit.record(
        session,
        actor=actor,
        action="bi_product.create",
        entity="bi_product",
        entity_id=code,
        after=audit.snapshot(product),
    )
    return product


def bi_products_by_code() -> Select[tuple[BiProduct]]:
    return select(BiProduct).order_by(BiProduct.code)


def list_bi_products(session: Session) -> list[BiProduct]:
    return list(session.scalars(bi_products_by_code()))
