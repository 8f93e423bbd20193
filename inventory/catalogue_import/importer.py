"""The import itself: check the file(s), report row by row, and write them only when no
row has a problem (and it is not a dry run)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.catalogue_import.planning import (
    Plan,
    plan_items,
    plan_packagings,
    plan_par_levels,
)
from inventory.catalogue_import.reading import (
    ITEM_COLUMNS,
    ITEM_REQUIRED,
    PACKAGING_COLUMNS,
    PACKAGING_REQUIRED,
    PAR_COLUMNS,
    PAR_REQUIRED,
    Table,
    read_table,
)
from inventory.catalogue_import.rows import (
    parse_item_rows,
    parse_packaging_rows,
    parse_par_rows,
)
from inventory.catalogue_import.writing import write_items, write_packagings, write_par_levels
from inventory.gtins import lock_gtin_space
from inventory.models import Item
from inventory.schemas.catalogue_import import (
    CatalogueImport,
    FileKind,
    ImportReport,
    ImportRow,
)
from kernel import audit

_items_t = Item.__table__  # type: ignore[attr-defined]


def _report(
    kind: FileKind, table: Table, results: list[ImportRow], dry_run: bool, plan: Plan
) -> ImportReport:
    problems = sorted(table.problems, key=lambda p: (p.row, ITEM_COLUMNS.index(p.column)
                      if p.column in ITEM_COLUMNS else 99))  # fmt: skip
    by_row: dict[int, list[str]] = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(f"{p.column}: {p.message}" if p.column else p.message)
    rows_seen = {r.row for r in results}
    for r in results:
        if r.row in by_row:
            r.action, r.changed, r.problems = "rejected", [], by_row[r.row]
    # Rows that failed before they could be compared (bad cells) are rejected too.
    if table.frame is not None:
        skus = table.frame["sku"].to_dict()
        locs = table.frame["location"].to_dict() if kind == "par_levels" else {}
        gtins = table.frame["gtin"].to_dict() if kind == "packagings" else {}
        for row, messages in by_row.items():
            if row >= 2 and row not in rows_seen:
                results.append(
                    ImportRow(row, str(skus.get(row, "")).upper(), "rejected",
                              location=locs.get(row) or None, gtin=gtins.get(row) or None,
                              problems=messages)
                )  # fmt: skip
    results.sort(key=lambda r: r.row)
    count = {a: sum(1 for r in results if r.action == a) for a in ("create", "update",
             "unchanged", "rejected")}  # fmt: skip
    return ImportReport(
        file=kind,
        dry_run=dry_run,
        accepted=not problems,
        created=count["create"],
        updated=count["update"],
        unchanged=count["unchanged"],
        rejected=count["rejected"],
        suppliers_created=plan.new_suppliers if kind == "items" else [],
        locations_created=plan.new_locations if kind == "par_levels" else [],
        rows=results,
        problems=problems,
    )


def import_catalogue(
    session: Session,
    *,
    actor: str,
    items: bytes | None = None,
    par_levels: bytes | None = None,
    packagings: bytes | None = None,
    dry_run: bool = False,
    site_id: int | None = None,
) -> CatalogueImport:
    """Check the file(s) and, unless `dry_run` or any problem, write them (all in the
    caller's transaction, which the caller commits). Nothing is written otherwise."""
    if not dry_run and (items is not None or packagings is not None):
        lock_gtin_space(session)  # GTINs are checked and written under the one lock
    plan = Plan()
    item_report = par_report = packaging_report = None
    known_skus: dict[str, int | None] = {}
    item_table = par_table = packaging_table = None
    item_results: list[ImportRow] = []
    par_results: list[ImportRow] = []
    packaging_results: list[ImportRow] = []
    if items is not None:
        item_table = read_table(items, "items", ITEM_COLUMNS, ITEM_REQUIRED)
        if item_table.frame is not None:
            item_rows = parse_item_rows(item_table)
            item_results, existing = plan_items(session, item_table, item_rows, plan)
            known_skus = {sku: row["id"] for sku, row in existing.items()}
            known_skus |= {r.sku: known_skus.get(r.sku) for r in item_rows}
            # An SKU whose row was rejected still counts as known: the whole import fails
            # anyway, and the par file should not report it a second time.
            known_skus |= dict.fromkeys(
                (s.upper() for s in item_table.frame["sku"] if s and s.upper() not in known_skus),
                None,
            )
    if items is None and (par_levels is not None or packagings is not None):
        known_skus = dict(session.execute(select(_items_t.c.sku, _items_t.c.id)).all())
    if par_levels is not None:
        par_table = read_table(par_levels, "par_levels", PAR_COLUMNS, PAR_REQUIRED)
        if par_table.frame is not None:
            par_rows = parse_par_rows(par_table)
            par_results = plan_par_levels(session, par_table, par_rows, plan, known_skus)
    if packagings is not None:
        packaging_table = read_table(
            packagings, "packagings", PACKAGING_COLUMNS, PACKAGING_REQUIRED
        )
        if packaging_table.frame is not None:
            packaging_rows = parse_packaging_rows(packaging_table)
            packaging_results = plan_packagings(
                session, packaging_table, packaging_rows, plan, known_skus
            )
    if item_table is not None:
        item_report = _report("items", item_table, item_results, dry_run, plan)
    if par_table is not None:
        par_report = _report("par_levels", par_table, par_results, dry_run, plan)
    if packaging_table is not None:
        packaging_report = _report("packagings", packaging_table, packaging_results, dry_run, plan)
    reports = (item_report, par_report, packaging_report)
    accepted = all(r.accepted for r in reports if r is not None)
    if accepted and not dry_run:
        if item_report is not None:
            write_items(session, actor=actor, plan=plan)
        if par_report is not None:
            write_par_levels(session, actor=actor, plan=plan, site_id=site_id)
        if packaging_report is not None:
            write_packagings(session, actor=actor, plan=plan)
        audit.record(
            session, actor=actor, action="catalogue.import", entity="catalogue_import",
            entity_id=uuid.uuid4().hex,
            after={name: {"sha256": hashlib.sha256(data).hexdigest(), "created": r.created,
                          "updated": r.updated, "unchanged": r.unchanged}
                   for name, data, r in (("items", items, item_report),
                                         ("par_levels", par_levels, par_report),
                                         ("packagings", packagings, packaging_report))
                   if data is not None and r is not None}
            | {"suppliers_created": plan.new_suppliers, "locations_created": plan.new_locations},
        )  # fmt: skip
    return CatalogueImport(
        dry_run=dry_run,
        accepted=accepted,
        items=item_report,
        par_levels=par_report,
        packagings=packaging_report,
    )
