"""Inventory's commands: `reorder export`, `items import|export`, `labels bins`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kernel.cli import (
    LABEL_FORMAT,
    LABEL_OUT,
    LABEL_SKIP,
    SYSTEM_ACTOR,
    labels_group,
    open_database,
    write_atomically,
    write_labels,
)
from kernel.settings import Settings


def _print_report(report: Any) -> None:
    label = {"items": "items", "par_levels": "par levels"}.get(report.file, report.file)
    click.echo(
        f"{label}: {report.created} to create, {report.updated} to update, "
        f"{report.unchanged} unchanged, {report.rejected} rejected"
    )
    for row in report.rows:
        if row.action == "update":
            where = f" at {row.location}" if row.location else f" {row.gtin}" if row.gtin else ""
            click.echo(f"  row {row.row}: update {row.sku}{where} ({', '.join(row.changed)})")
    for problem in report.problems:
        column = f" [{problem.column}]" if problem.column else ""
        click.echo(f"  row {problem.row}{column}: {problem.message}", err=True)


def add_inventory_commands(cli: click.Group) -> None:
    @cli.group()
    def reorder() -> None:
        """Reorder suggestions (the weekly CSV for suppliers' ordering portals)."""

    @reorder.command("export")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
    @click.option(
        "--supplier", "supplier_id", type=click.IntRange(min=1), help="Only this supplier."
    )
    @click.option(
        "--format",
        "file_format",
        type=click.Choice(["standard", "supplier"]),
        default="standard",
        show_default=True,
        help="supplier: the supplier's own order file layout (needs --supplier).",
    )
    def reorder_export(out: str, supplier_id: int | None, file_format: str) -> None:
        """Write the reorder CSV (same file as GET /api/v1/reorder/suggestions.csv), or with
        --format supplier that supplier's order file (same as ...?format=supplier)."""
        from inventory import order_formats
        from inventory import reorder as reorder_rules
        from inventory.models import Supplier
        from kernel.clock import Clock
        from kernel.problems import DomainError

        if file_format == "supplier" and supplier_id is None:
            raise click.UsageError("--format supplier writes one supplier's file: give --supplier.")
        settings = Settings()
        clock = Clock.from_settings(settings)
        database = open_database(settings)
        try:
            with database.session(write=False) as session:
                if supplier_id is not None and session.get(Supplier, supplier_id) is None:
                    raise click.ClickException(f"No supplier with id {supplier_id}.")
                if file_format == "supplier":
                    assert supplier_id is not None
                    try:
                        order = order_formats.render_order_file(
                            session, supplier_id=supplier_id, today=clock.today(),
                            zone=clock.zone, parallel=True,
                        )  # fmt: skip
                    except DomainError as exc:
                        raise click.ClickException(exc.detail) from exc
                    text, count = order.text, len(order.rows)
                else:
                    df = reorder_rules.suggestions(
                        session, today=clock.today(), zone=clock.zone, supplier_id=supplier_id,
                        parallel=True,
                    )  # fmt: skip
                    text, count = reorder_rules.to_csv(df), len(df)
        finally:
            database.dispose()
        write_atomically(Path(out), text)
        click.echo(f"wrote {count} suggestion(s) to {Path(out)}")

    @cli.group()
    def items() -> None:
        """The catalogue as CSV files (same formats as /api/v1/items.csv and /par-levels.csv)."""

    @items.command("import")
    @click.argument("items_file", required=False, type=click.Path(exists=True, dir_okay=False))
    @click.option(
        "--par-levels",
        "par_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Par levels CSV (sku,location,par_level,reorder_point), in the same transaction.",
    )
    @click.option(
        "--packagings",
        "packagings_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Packaging levels CSV (sku,gtin,units,name), in the same transaction.",
    )
    @click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
    def items_import(
        items_file: str | None, par_file: str | None, packagings_file: str | None, dry_run: bool
    ) -> None:
        """Import the catalogue from ITEMS_FILE (and/or --par-levels, --packagings): all or
        nothing."""
        from inventory.catalogue_import import import_catalogue
        from kernel.problems import DomainError

        if items_file is None and par_file is None and packagings_file is None:
            raise click.UsageError("Give an items file, --par-levels FILE or --packagings FILE.")
        settings = Settings()
        database = open_database(settings)
        try:
            with database.session() as session:
                try:
                    result = import_catalogue(
                        session,
                        actor=SYSTEM_ACTOR,
                        items=Path(items_file).read_bytes() if items_file else None,
                        par_levels=Path(par_file).read_bytes() if par_file else None,
                        packagings=Path(packagings_file).read_bytes() if packagings_file else None,
                        dry_run=dry_run,
                    )
                except DomainError as exc:
                    raise click.ClickException(exc.detail) from exc
                for report in (result.items, result.par_levels, result.packagings):
                    if report is not None:
                        _print_report(report)
                if not result.accepted:
                    session.rollback()
                    raise click.ClickException("Nothing was imported: fix the rows above.")
        finally:
            database.dispose()
        click.echo("dry run: nothing was written" if dry_run else "imported")

    @items.command("export")
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
    @click.option(
        "--par-levels-out",
        "par_out",
        type=click.Path(dir_okay=False, writable=True),
        help="Also write the par levels CSV here.",
    )
    @click.option(
        "--packagings-out",
        "packagings_out",
        type=click.Path(dir_okay=False, writable=True),
        help="Also write the packaging levels CSV here.",
    )
    def items_export(out: str, par_out: str | None, packagings_out: str | None) -> None:
        """Write the catalogue CSV (and the par levels and packagings CSVs), ready to edit
        and import again."""
        from inventory.catalogue_import.export import (
            items_frame,
            packagings_frame,
            par_levels_frame,
            to_csv,
        )

        settings = Settings()
        database = open_database(settings)
        try:
            with database.session(write=False) as session:
                frames = [(out, items_frame(session))]
                if par_out:
                    frames.append((par_out, par_levels_frame(session)))
                if packagings_out:
                    frames.append((packagings_out, packagings_frame(session)))
        finally:
            database.dispose()
        for path, frame in frames:
            write_atomically(Path(path), to_csv(frame))
            click.echo(f"wrote {len(frame)} row(s) to {Path(path)}")

    @labels_group(cli).command("bins")
    @click.option("--location", required=True, help="Location code, e.g. EXAM1.")
    @LABEL_OUT
    @LABEL_FORMAT
    @LABEL_SKIP
    def labels_bins(location: str, out: str, fmt: str, skip: int) -> None:
        """Bin labels for every item stocked at a location or with a par level there."""

        def render(session: Any, settings: Settings) -> tuple[bytes, int]:
            from inventory.bins import bin_labels
            from kernel.labels import bin_labels_pdf
            from kernel.labels.responses import check_skip

            check_skip(fmt, skip)
            found = bin_labels(session, location)
            return bin_labels_pdf(found, settings.public_url, fmt, skip=skip), len(found)

        write_labels(out, render)
