"""Sterilization's commands: `labels packs`, `cycles import`."""

from __future__ import annotations

from typing import Any

import click

from kernel.cli import LABEL_FORMAT, LABEL_OUT, LABEL_SKIP, labels_group, write_labels
from kernel.settings import Settings


def add_sterilization_commands(cli: click.Group) -> None:
    @labels_group(cli).command("packs")
    @click.option("--cycle", type=click.IntRange(1, 2_147_483_647), help="Every pack of a cycle.")
    @click.option("--codes", help="Comma-separated pack codes (PK-000001,PK-000002).")
    @LABEL_OUT
    @LABEL_FORMAT
    @LABEL_SKIP
    def labels_packs(cycle: int | None, codes: str | None, out: str, fmt: str, skip: int) -> None:
        """Pack labels for a cycle's packs or for given codes."""
        if (cycle is None) == (not codes):
            raise click.UsageError("give exactly one of --cycle or --codes")

        def render(session: Any, settings: Settings) -> tuple[bytes, int]:
            from kernel.clock import Clock
            from kernel.labels import pack_labels_pdf
            from kernel.labels.responses import check_skip
            from sterilization import pack_labels
            from sterilization.shelf_life import ShelfLife

            check_skip(fmt, skip)
            clock = Clock.from_settings(settings)
            clinic = {
                "zone": clock.zone,
                "shelf_life": ShelfLife.from_settings(settings),
                "now": clock.now(),
            }
            if cycle is not None:
                found = pack_labels.labels_for_cycle(session, cycle, **clinic)
            else:
                found = pack_labels.labels_for_codes(
                    session, pack_labels.parse_code_list(codes or ""), **clinic
                )
            return pack_labels_pdf(found, settings.public_url, fmt, skip=skip), len(found)

        write_labels(out, render)

    @cli.group("cycles")
    def cycles() -> None:
        """The cycle log: import the sterilizers' own records."""

    @cycles.command("import")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
    @click.option(
        "--sterilizer",
        help="Sterilizer code; the records' serial number must be its (default: found by it).",
    )
    def cycles_import(paths: tuple[str, ...], sterilizer: str | None) -> None:
        """Import sterilizer cycle records: files, or folders (a USB stick's copy). One line
        per file; exits 1 if any file was refused (the others are imported)."""
        from pathlib import Path

        from kernel.cli import SYSTEM_ACTOR, open_database
        from kernel.clock import Clock
        from sterilization.record_files import record_files
        from sterilization.record_import import import_files

        settings = Settings()
        clock = Clock.from_settings(settings)
        found = list(record_files([Path(p) for p in paths]))
        files: list[tuple[str, bytes]] = []
        unreadable = 0
        for item in found:
            if item.skip is not None:
                click.echo(f"{item.path}: skipped: {item.skip}")
                continue
            try:
                files.append((str(item.path), item.path.read_bytes()))
            except OSError as error:
                unreadable += 1
                click.echo(f"{item.path}: refused: cannot read the file ({error.strerror})")
        database = open_database(settings)
        try:
            with database.session() as session:
                outcomes = import_files(
                    session, files, sterilizer_code=sterilizer, actor=SYSTEM_ACTOR,
                    zone=clock.zone, now=clock.now(),
                    on_outcome=lambda outcome: click.echo(outcome.line),
                )  # fmt: skip
        finally:
            database.dispose()
        refused = unreadable + sum(o.result is None for o in outcomes)
        imported = sum(o.result is not None and o.result.imported for o in outcomes)
        click.echo(f"{imported} imported, {refused} refused, {len(found)} file(s) read")
        if refused:
            raise SystemExit(1)
