"""The catalogue as the CSV files the import reads: items, par levels and packaging
levels, money as a plain decimal, booleans as yes/no, formula-like cells defused
(`kernel.csv_export`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.catalogue_import.reading import ITEM_COLUMNS, PACKAGING_COLUMNS, PAR_COLUMNS
from inventory.models import Item, ItemPackaging, Location, StockLevel, Supplier
from inventory.responses import unit_cost_text
from kernel.csv_export import frame_csv
from kernel.sites.query_scope import visible_site_ids

_items_t = Item.__table__  # type: ignore[attr-defined]
_suppliers_t = Supplier.__table__  # type: ignore[attr-defined]
_locations_t = Location.__table__  # type: ignore[attr-defined]
_levels_t = StockLevel.__table__  # type: ignore[attr-defined]
_packagings_t = ItemPackaging.__table__  # type: ignore[attr-defined]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def items_frame(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(_items_t, _suppliers_t.c.name.label("supplier_name"))
        .join(_suppliers_t, _suppliers_t.c.id == _items_t.c.supplier_id)
        .order_by(_items_t.c.sku)
    ).mappings()
    records = [
        {
            "sku": r["sku"], "name": r["name"], "unit": r["unit"],
            "pack_size": str(r["pack_size"]), "supplier": r["supplier_name"],
            "vendor_sku": _text(r["vendor_sku"]), "unit_cost": unit_cost_text(r["unit_cost"]),
            "gtin": _text(r["gtin"]), "lead_time_days": _text(r["lead_time_days"]),
            "min_order_qty": str(r["min_order_qty"]),
            "lot_tracked": "yes" if r["lot_tracked"] else "no", "category": _text(r["category"]),
        }
        for r in rows
    ]  # fmt: skip
    return pd.DataFrame(records, columns=list(ITEM_COLUMNS), dtype=object)


def par_levels_frame(session: Session) -> pd.DataFrame:
    """The par levels of the user's sites' locations (kernel.sites: table-level SQL)."""
    conditions = [_levels_t.c.par_level.is_not(None)]
    site_ids = visible_site_ids(session)
    if site_ids is not None:
        conditions.append(_locations_t.c.site_id.in_(site_ids))
    rows = session.execute(
        select(_items_t.c.sku, _locations_t.c.code, _levels_t.c.par_level,
               _levels_t.c.reorder_point)
        .join(_items_t, _items_t.c.id == _levels_t.c.item_id)
        .join(_locations_t, _locations_t.c.id == _levels_t.c.location_id)
        .where(*conditions)
        .order_by(_items_t.c.sku, _locations_t.c.code)
    ).all()  # fmt: skip
    records = [
        {"sku": s, "location": c, "par_level": str(p), "reorder_point": _text(rp)}
        for s, c, p, rp in rows
    ]
    return pd.DataFrame(records, columns=list(PAR_COLUMNS), dtype=object)


def packagings_frame(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(_items_t.c.sku, _packagings_t.c.gtin, _packagings_t.c.units, _packagings_t.c.name)
        .join(_items_t, _items_t.c.id == _packagings_t.c.item_id)
        .order_by(_items_t.c.sku, _packagings_t.c.units, _packagings_t.c.gtin)
    ).all()
    records = [{"sku": s, "gtin": g, "units": str(u), "name": n} for s, g, u, n in rows]
    return pd.DataFrame(records, columns=list(PACKAGING_COLUMNS), dtype=object)


def to_csv(df: pd.DataFrame) -> str:
    """CSV text as the import reads it back; formula-like cells defused (OWASP)."""
    return frame_csv(df)


def items_csv(session: Session) -> str:
    return to_csv(items_frame(session))


def par_levels_csv(session: Session) -> str:
    return to_csv(par_levels_frame(session))


def packagings_csv(session: Session) -> str:
    return to_csv(packagings_frame(session))
