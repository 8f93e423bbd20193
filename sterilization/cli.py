"""Sterilization's commands: `labels packs`."""

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
