"""Comparing the checked rows with the catalogue: what an import would create, change or
leave unchanged, and the problems only the database can tell (a GTIN of another item or
packaging level, lot tracking changed with stock on hand, an unknown SKU in the par-level
or packagings file, the units of a packaging level receipts were counted in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.catalogue_import.reading import Table
from inventory.catalogue_import.rows import ItemRow, PackagingRow, ParRow
from inventory.models import Item, ItemPackaging, Location, StockLevel, StockMovement, Supplier
from inventory.packagings import MAX_LEVELS_PER_ITEM
from inventory.schemas.catalogue_import import ImportRow, RowAction

_items_t = Item.__table__  # type: ignore[attr-defined]
_suppliers_t = Supplier.__table__  # type: ignore[attr-defined]
_locations_t = Location.__table__  # type: ignore[attr-defined]
_levels_t = StockLevel.__table__  # type: ignore[attr-defined]
_packagings_t = ItemPackaging.__table__  # type: ignore[attr-defined]
_movements_t = StockMovement.__table__  # type: ignore[attr-defined]
ITEM_FIELDS = (
    "name", "unit", "pack_size", "supplier_id", "vendor_sku", "unit_cost", "gtin",
    "lead_time_days", "min_order_qty", "lot_tracked", "category",
)  # fmt: skip
COLUMN_OF_FIELD = {"supplier_id": "supplier"}


@dataclass
class Plan:
    """What a valid import writes, worked out before anything is written."""

    new_suppliers: list[str] = field(default_factory=list)
    new_items: list[dict[str, Any]] = field(default_factory=list)
    changed_items: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    new_locations: list[str] = field(default_factory=list)
    par_changes: list[tuple[ParRow, dict[str, Any] | None]] = field(default_factory=list)
    new_packagings: list[PackagingRow] = field(default_factory=list)
    changed_packagings: list[tuple[dict[str, Any], PackagingRow]] = field(default_factory=list)
    item_gtins: dict[str, str | None] = field(default_factory=dict)  # the items file's


def existing_packagings(session: Session) -> dict[str, dict[str, Any]]:
    """Every packaging level by GTIN, with its item's SKU."""
    rows = session.execute(
        select(_packagings_t, _items_t.c.sku).join(
            _items_t, _items_t.c.id == _packagings_t.c.item_id
        )
    ).mappings()
    return {r["gtin"]: dict(r) for r in rows}


def _existing_items(session: Session) -> dict[str, dict[str, Any]]:
    return {r["sku"]: dict(r) for r in session.execute(select(_items_t)).mappings()}


def supplier_ids(session: Session) -> dict[str, int]:
    rows = session.execute(select(_suppliers_t.c.id, _suppliers_t.c.name))
    return {name.lower(): id_ for id_, name in rows}


def plan_items(
    session: Session, table: Table, rows: list[ItemRow], plan: Plan
) -> tuple[list[ImportRow], dict[str, dict[str, Any]]]:
    existing = _existing_items(session)
    suppliers = supplier_ids(session)
    new_supplier_names: dict[str, str] = {}
    for r in rows:
        key = r.supplier.lower()
        if key not in suppliers and key not in new_supplier_names:
            new_supplier_names[key] = r.supplier
    plan.new_suppliers = list(new_supplier_names.values())

    # GTINs: unique across the catalogue as it will be after the import.
    file_skus = {r.sku for r in rows}
    gtin_owner = {
        i["gtin"]: sku for sku, i in existing.items() if i["gtin"] and sku not in file_skus
    }
    levels = existing_packagings(session)
    for r in rows:
        plan.item_gtins[r.sku] = r.values["gtin"]
        other = gtin_owner.get(r.values["gtin"]) if r.values["gtin"] else None
        if other is not None:
            table.file_problem(
                f"GTIN {r.values['gtin']} already belongs to item {other}.", r.row, "gtin"
            )
        level = levels.get(r.values["gtin"]) if r.values["gtin"] else None
        if level is not None:
            table.file_problem(
                f"GTIN {r.values['gtin']} already belongs to the {level['name']} "
                f"({level['units']}) of item {level['sku']}.",
                r.row,
                "gtin",
            )

    # Lot tracking may only change at zero stock (the rule of update_item).
    toggled = [
        existing[r.sku]["id"]
        for r in rows
        if r.sku in existing and existing[r.sku]["lot_tracked"] != r.values["lot_tracked"]
    ]
    on_hand: dict[int, int] = {}
    if toggled:
        # Every stocked item at once: an IN list of thousands of ids is slower, and
        # SQLite caps the number of bound parameters.
        stocked = session.execute(
            select(_levels_t.c.item_id, func.sum(_levels_t.c.on_hand))
            .group_by(_levels_t.c.item_id)
            .having(func.sum(_levels_t.c.on_hand) > 0)
        ).all()
        toggled_ids = set(toggled)
        on_hand = {item_id: total for item_id, total in stocked if item_id in toggled_ids}
    results: list[ImportRow] = []
    for r in rows:
        values = dict(r.values)
        values["supplier_id"] = suppliers.get(r.supplier.lower())  # None: a new supplier
        values["supplier_name"] = r.supplier
        current = existing.get(r.sku)
        if current is None:
            plan.new_items.append(values)
            results.append(ImportRow(r.row, r.sku, "create"))
            continue
        changed = [
            COLUMN_OF_FIELD.get(f, f)
            for f in ITEM_FIELDS
            if (f != "supplier_id" and values[f] != current[f])
            or (f == "supplier_id" and values["supplier_id"] != current["supplier_id"])
        ]
        if "lot_tracked" in changed and on_hand.get(current["id"]):
            table.file_problem(
                f"{r.sku} has {on_hand[current['id']]} on hand; lot tracking can only change "
                "at zero stock.",
                r.row,
                "lot_tracked",
            )
        if changed:
            plan.changed_items.append((current, values))
            results.append(ImportRow(r.row, r.sku, "update", changed=changed))
        else:
            results.append(ImportRow(r.row, r.sku, "unchanged"))
    return results, existing


def _known(table: Table, sku: str, row: int, known_skus: dict[str, int | None]) -> bool:
    """The SKU is in the catalogue or the items file; else a problem on its row."""
    if sku in known_skus:
        return True
    table.file_problem(
        f"No item with SKU {sku} (not in the catalogue, nor in the items file).", row, "sku"
    )
    return False


def plan_par_levels(
    session: Session,
    table: Table,
    rows: list[ParRow],
    plan: Plan,
    known_skus: dict[str, int | None],
) -> list[ImportRow]:
    locations = dict(session.execute(select(_locations_t.c.code, _locations_t.c.id)).all())
    plan.new_locations = sorted({r.location for r in rows} - locations.keys())
    levels = {
        (item_id, location_id): {"id": id_, "par_level": par, "reorder_point": point}
        for id_, item_id, location_id, par, point in session.execute(
            select(
                _levels_t.c.id, _levels_t.c.item_id, _levels_t.c.location_id,
                _levels_t.c.par_level, _levels_t.c.reorder_point,
            )
        )
    }  # fmt: skip
    results: list[ImportRow] = []
    for r in rows:
        if not _known(table, r.sku, r.row, known_skus):
            continue
        item_id, location_id = known_skus[r.sku], locations.get(r.location)
        current = levels.get((item_id, location_id)) if item_id and location_id else None
        if current is not None and (current["par_level"], current["reorder_point"]) == (
            r.par_level,
            r.reorder_point,
        ):
            results.append(ImportRow(r.row, r.sku, "unchanged", location=r.location))
            continue
        plan.par_changes.append((r, current))
        action: RowAction = (
            "update" if current is not None and current["par_level"] is not None else "create"
        )
        changed = ["par_level", "reorder_point"] if action == "update" else []
        results.append(ImportRow(r.row, r.sku, action, location=r.location, changed=changed))
    return results


def plan_packagings(
    session: Session,
    table: Table,
    rows: list[PackagingRow],
    plan: Plan,
    known_skus: dict[str, int | None],
) -> list[ImportRow]:
    """Levels by GTIN: a new GTIN is created, one of the same item updated (its units only
    while no receipt was counted in it); a GTIN of another item's level, or any item's own
    GTIN (as the items file leaves them), is a problem. Nothing is ever removed."""
    levels = existing_packagings(session)
    item_gtins = {
        gtin: sku
        for sku, gtin in session.execute(
            select(_items_t.c.sku, _items_t.c.gtin).where(_items_t.c.gtin.is_not(None))
        )
        if sku not in plan.item_gtins
    }
    item_gtins |= {gtin: sku for sku, gtin in plan.item_gtins.items() if gtin}
    receipts = dict(
        session.execute(
            select(_movements_t.c.packaging_id, func.count())
            .where(_movements_t.c.packaging_id.is_not(None))
            .group_by(_movements_t.c.packaging_id)
        ).all()
    )
    per_item: dict[str, int] = {}
    for level in levels.values():
        per_item[level["sku"]] = per_item.get(level["sku"], 0) + 1
    results: list[ImportRow] = []
    for r in rows:
        if not _known(table, r.sku, r.row, known_skus):
            continue
        if r.gtin in item_gtins:
            table.file_problem(
                f"GTIN {r.gtin} is the own GTIN of item {item_gtins[r.gtin]} (its 1-unit "
                "level); a packaging level needs the GTIN printed on the box or case.",
                r.row,
                "gtin",
            )
            continue
        current = levels.get(r.gtin)
        if current is not None and current["sku"] != r.sku:
            table.file_problem(
                f"GTIN {r.gtin} already belongs to the {current['name']} ({current['units']}) "
                f"of item {current['sku']}.",
                r.row,
                "gtin",
            )
            continue
        if current is None:
            per_item[r.sku] = per_item.get(r.sku, 0) + 1
            if per_item[r.sku] > MAX_LEVELS_PER_ITEM:
                table.file_problem(
                    f"{r.sku} would have more than {MAX_LEVELS_PER_ITEM} packaging levels.",
                    r.row,
                    "gtin",
                )
                continue
            plan.new_packagings.append(r)
            results.append(ImportRow(r.row, r.sku, "create", gtin=r.gtin))
            continue
        changed = [f for f in ("units", "name") if current[f] != getattr(r, f)]
        if "units" in changed and receipts.get(current["id"]):
            table.file_problem(
                f"{receipts[current['id']]} receipt(s) were counted in the {current['name']} "
                f"of {current['units']}; its units stay (a package of another size has its "
                "own GTIN: add it as a new row).",
                r.row,
                "units",
            )
            continue
        if changed:
            plan.changed_packagings.append((current, r))
            results.append(ImportRow(r.row, r.sku, "update", gtin=r.gtin, changed=changed))
        else:
            results.append(ImportRow(r.row, r.sku, "unchanged", gtin=r.gtin))
    return results
