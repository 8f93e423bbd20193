"""GTINs: one uniqueness space over the items' own GTINs (the "each" level, 1 unit) and
their packaging levels (a box, a case), so a scanned barcode names exactly one item and
one quantity.

The two tables each keep their column unique; across them this module checks, and every
write of a GTIN first takes one transaction-scoped lock (`lock_gtin_space`: a PostgreSQL
advisory lock; SQLite writers are serialized anyway), so two people cannot give the same
GTIN to a box of one item and to another item at the same moment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from inventory.gs1 import gtin_check_digit_problem
from inventory.models import Item, ItemPackaging
from kernel.problems import Conflict, InvalidInput

_LOCK_KEY = int.from_bytes(hashlib.sha256(b"gtin-space").digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class GtinMatch:
    """What a GTIN names: an item, at its own level (`packaging` None, 1 unit) or at one
    of its packaging levels."""

    item: Item
    packaging: ItemPackaging | None

    @property
    def units(self) -> int:
        return self.packaging.units if self.packaging is not None else 1


def gtin14(gtin: str) -> str:
    """GTIN-8/12/13 are stored as their 14-digit form."""
    return gtin.zfill(14)


def find_gtin(session: Session, gtin: str) -> GtinMatch | None:
    """The item (and packaging level) a scanned GTIN names, or None."""
    key = gtin14(gtin)
    item = session.scalar(select(Item).where(Item.gtin == key))
    if item is not None:
        return GtinMatch(item, None)
    row = session.execute(
        select(Item, ItemPackaging)
        .join(ItemPackaging, ItemPackaging.item_id == Item.id)
        .where(ItemPackaging.gtin == key)
    ).first()
    return GtinMatch(row[0], row[1]) if row is not None else None


def lock_gtin_space(session: Session) -> None:
    """Serialize writers of GTINs until the transaction ends (PostgreSQL; SQLite writers
    hold the database lock already)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def gtin_owner(
    session: Session,
    gtin: str,
    *,
    except_item_id: int | None = None,
    except_packaging_id: int | None = None,
) -> str | None:
    """Who holds a (14-digit) GTIN already, in words ("item GLV-M", "the case (1000) of
    item GLV-M"), leaving out the item's own GTIN or the packaging being changed."""
    query = select(Item.sku).where(Item.gtin == gtin)
    if except_item_id is not None:
        query = query.where(Item.id != except_item_id)
    sku = session.scalar(query)
    if sku is not None:
        return f"item {sku}"
    level = select(ItemPackaging.name, ItemPackaging.units, Item.sku).join(
        Item, Item.id == ItemPackaging.item_id
    )
    level = level.where(ItemPackaging.gtin == gtin)
    if except_packaging_id is not None:
        level = level.where(ItemPackaging.id != except_packaging_id)
    row = session.execute(level).first()
    if row is not None:
        name, units, sku = row
        return f"the {name} ({units}) of item {sku}"
    return None


def checked_gtin(
    session: Session,
    gtin: str,
    *,
    field: str = "gtin",
    except_item_id: int | None = None,
    except_packaging_id: int | None = None,
) -> str:
    """A GTIN with a valid check digit that no other item or packaging level holds, as
    its 14-digit form. Takes the GTIN lock first; 422 for a bad check digit, 409 when
    taken."""
    if problem := gtin_check_digit_problem(gtin):
        raise InvalidInput.for_field(field, problem)
    gtin = gtin14(gtin)
    lock_gtin_space(session)
    owner = gtin_owner(
        session, gtin, except_item_id=except_item_id, except_packaging_id=except_packaging_id
    )
    if owner is not None:
        raise Conflict.for_field(field, f"GTIN {gtin} already belongs to {owner}.")
    return gtin
