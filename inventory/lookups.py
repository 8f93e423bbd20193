"""Finding catalogue rows by the keys people type: SKUs, location codes, supplier ids,
GTINs. Every module reads them the same way (trimmed, upper-cased; a key that cannot
exist is a 404 without a query)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.gtins import find_gtin
from inventory.models import Item, Location, Supplier
from kernel.problems import NotFound

CODE_RE = re.compile(r"[A-Za-z0-9_.-]{1,20}")
SKU_RE = re.compile(r"[A-Za-z0-9_./-]{1,40}")


def normalize_code(code: str) -> str:
    return code.strip().upper()


def normalize_sku(sku: str) -> str:
    return sku.strip().upper()


def get_supplier(session: Session, supplier_id: int) -> Supplier:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"No supplier with id {supplier_id}.")
    return supplier


def get_location(session: Session, code: str) -> Location:
    if not CODE_RE.fullmatch(code.strip()):
        raise NotFound(f"No location with code {code!r}.")
    loc = session.scalar(select(Location).where(Location.code == normalize_code(code)))
    if loc is None:
        raise NotFound(f"No location with code {code!r}.")
    return loc


def get_item(session: Session, sku: str) -> Item:
    if not SKU_RE.fullmatch(sku.strip()):
        raise NotFound(f"No item with SKU {sku!r}.")
    item = session.scalar(select(Item).where(Item.sku == normalize_sku(sku)))
    if item is None:
        raise NotFound(f"No item with SKU {sku!r}.")
    return item


def find_item_by_gtin(session: Session, gtin: str) -> Item | None:
    """The item a scanned supply barcode names, at its own level or a packaging level
    (GTINs are stored as 14 digits; `inventory.gtins.find_gtin` says which level)."""
    match = find_gtin(session, gtin)
    return match.item if match is not None else None
