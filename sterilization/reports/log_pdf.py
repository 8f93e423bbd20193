"""The printable sterilization log (fpdf2): one section per sterilizer, one line per cycle
with its readings and indicator results, corrections printed under the line they amend,
and on every page the period, the generation time, the page number and the audit-chain
head, so a printed copy can be matched to the system."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from fpdf import FPDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime
from kernel.periods import Period
from kernel.problems import InvalidInput
from sterilization.models import Cycle, CycleAmendment, Sterilizer
from sterilization.record_import import log_notes_for
from sterilization.reports.log_export import (
    LocalTimeText,
    LogRow,
    audit_head,
    iter_log,
)

# The printable log is built in memory; longer ranges belong in the CSV.
PDF_MAX_CYCLES = 20_000

# (heading, width in mm) on a landscape Letter page (279 mm wide, 10 mm margins).
COLUMNS: tuple[tuple[str, float], ...] = (
    ("Cycle", 14),
    ("Type", 25),
    ("Started", 27),
    ("Ended", 27),
    ("Operator", 24),
    ("Temp C", 14),
    ("kPa", 13),
    ("Min", 11),
    ("Mech", 10),
    ("Chem", 10),
    ("BI lot", 22),
    ("BI", 16),
    ("Impl", 9),
    ("Status", 18),
    ("Packs", 19),
)
LINE = 5.0


def latin1(text: str) -> str:
    """The PDF core fonts cover Latin-1; anything else prints as '?' rather than failing."""
    return (
        text.replace("\u2014", "-")
        .replace("\u2013", "-")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


class LogDocument(FPDF):
    def __init__(self, *, period_text: str, generated_text: str, head: str, entries: int):
        super().__init__(orientation="L", unit="mm", format="Letter")
        self.period_text = period_text
        self.generated_text = generated_text
        self.head = head
        self.entries = entries
        self.section = ""
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(10, 10, 10)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font("Helvetica", "B", 13)
        self.cell(0, 7, "Sterilization log", new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 8)
        self.cell(
            0,
            4,
            latin1(f"Period: {self.period_text}    Generated: {self.generated_text}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if self.section:
            self.ln(1)
            self.set_font("Helvetica", "B", 10)
            self.cell(0, 6, latin1(self.section), new_x="LMARGIN", new_y="NEXT")
            self.column_headings()

    def column_headings(self) -> None:
        self.set_font("Helvetica", "B", 7)
        self.set_fill_color(230, 230, 230)
        for title, width in COLUMNS:
            self.cell(width, LINE, title, border=1, fill=True)
        self.ln(LINE)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", "", 7)
        self.cell(
            0,
            4,
            latin1(f"{self.period_text} | generated {self.generated_text}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.cell(
            0,
            4,
            f"Audit chain head (entry {self.entries}): {self.head}",
            new_x="RIGHT",
            new_y="TOP",
        )
        self.set_x(-40)
        self.cell(30, 4, f"Page {self.page_no()} of {{nb}}", align="R")


def check_printable(session: Session, period: Period, *, sterilizer_id: int | None) -> None:
    """Refuse (422, with the count) a period too long to print: the CSV takes any range."""
    where: list[Any] = period.where(Cycle.started_at)
    if sterilizer_id is not None:
        where.append(Cycle.sterilizer_id == sterilizer_id)
    count = session.scalar(select(func.count()).select_from(Cycle).where(*where)) or 0
    if count > PDF_MAX_CYCLES:
        raise InvalidInput(
            f"The period holds {count} cycles; the printable log takes at most "
            f"{PDF_MAX_CYCLES}. Choose a shorter period or download log.csv.",
            extra={"cycles": count},
        )


def amendments_for(session: Session, cycle_ids: Sequence[int]) -> dict[int, list[CycleAmendment]]:
    found: dict[int, list[CycleAmendment]] = defaultdict(list)
    if cycle_ids:
        for a in session.scalars(
            select(CycleAmendment)
            .where(CycleAmendment.cycle_id.in_(cycle_ids))
            .order_by(CycleAmendment.cycle_id, CycleAmendment.at, CycleAmendment.id)
        ):
            found[a.cycle_id].append(a)
    return found


def _when(value: Any, zone: ClinicTime) -> str:
    """A recorded instant (or a raw driver value of one) as clinic wall-clock text."""
    return zone.local_text(LocalTimeText.utc(value)) if value else ""


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _ok(value: bool | None) -> str:
    return "" if value is None else ("pass" if value else "FAIL")


def _cells(row: LogRow, zone: ClinicTime) -> list[str]:
    return [
        f"#{row.number}",
        row.cycle_type,
        _when(row.started_at, zone),
        _when(row.ended_at, zone),
        row.operator,
        _num(row.temperature_c),
        _num(row.pressure_kpa),
        _num(row.exposure_minutes),
        _ok(row.mechanical_ok),
        _ok(row.chemical_ok),
        row.bi_lot or "",
        row.bi_result or ("pending" if row.bi_lot else ""),
        "yes" if row.implants else "",
        row.status,
        "" if row.pack_count is None else str(row.pack_count),
    ]


def _fit(pdf: FPDF, text: str, width: float) -> str:
    text = latin1(text)
    if pdf.get_string_width(text) <= width - 1.5:
        return text
    while text and pdf.get_string_width(text + "..") > width - 1.5:
        text = text[:-1]
    return text + ".."


def _print_cycles(
    pdf: LogDocument, rows: Sequence[LogRow], session: Session, zone: ClinicTime
) -> None:
    amendments = amendments_for(session, [r.cycle_id for r in rows])
    machine_notes = log_notes_for(session, [r.cycle_id for r in rows])
    for row in rows:
        pdf.set_font("Helvetica", "", 7)
        if pdf.will_page_break(LINE):
            pdf.add_page()
            pdf.set_font("Helvetica", "", 7)
        for text, (_, width) in zip(_cells(row, zone), COLUMNS, strict=True):
            pdf.cell(width, LINE, _fit(pdf, text, width), border="B")
        pdf.ln(LINE)
        notes = []
        reasons = json.loads(row.failure_reasons) if row.failure_reasons else []
        if reasons:
            notes.append("Failed: " + "; ".join(reasons))
        if row.pack_codes:
            notes.append("Packs: " + row.pack_codes)
        if row.pack_descriptions:
            notes.append("Contents: " + row.pack_descriptions)
        extra = []
        if row.integrator:
            extra.append(f"integrator {row.integrator}")
        if row.bi_product:
            extra.append(f"BI product {row.bi_product}")
        if row.bi_read_at is not None:
            extra.append(f"BI read {_when(LocalTimeText.aware(row.bi_read_at), zone)}")
        if row.early_released_at is not None:
            extra.append(
                f"implants released early {_when(LocalTimeText.aware(row.early_released_at), zone)}"
            )
        if extra:
            notes.append("; ".join(extra).capitalize())
        if row.iuss_reason:
            notes.append("IUSS (immediate use): " + row.iuss_reason)
        for a in amendments.get(row.cycle_id, []):
            original = json.loads(a.original) if a.original is not None else None
            notes.append(
                f"Amended {a.field}: recorded {original!s} -> corrected {json.loads(a.value)!s} "
                f"by {a.actor} on {_when(a.at, zone)}: {a.reason}"
            )
        notes += machine_notes.get(row.cycle_id, [])
        if notes:
            pdf.set_font("Helvetica", "I", 6.5)
            pdf.set_x(pdf.l_margin + COLUMNS[0][1])
            pdf.multi_cell(0, 3.4, latin1("\n".join(notes)), new_x="LMARGIN", new_y="NEXT")


def render_log_pdf(
    session: Session,
    period: Period,
    zone: ClinicTime,
    *,
    sterilizer_id: int | None = None,
    now: dt.datetime,
) -> bytes:
    first, last = period.first_day(zone), period.last_day(zone)
    period_text = f"{first or 'beginning'} to {last or 'now'} ({zone.tz})"
    entries, head = audit_head(session)
    pdf = LogDocument(
        period_text=period_text,
        generated_text=zone.local(now).isoformat(timespec="seconds"),
        head=head,
        entries=entries,
    )
    query = select(Sterilizer).order_by(Sterilizer.code)
    if sterilizer_id is not None:
        query = query.where(Sterilizer.id == sterilizer_id)
    sterilizers = list(session.scalars(query))
    if not sterilizers:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(0, 8, "No sterilizers are registered.")
    for sterilizer in sterilizers:
        pdf.section = f"{sterilizer.code} - {sterilizer.name} ({sterilizer.kind})"
        pdf.add_page()
        printed = 0
        for rows in iter_log(session, period, sterilizer_id=sterilizer.id):
            _print_cycles(pdf, rows, session, zone)
            printed += len(rows)
        pdf.set_font("Helvetica", "I", 8)
        pdf.ln(2)
        pdf.cell(0, 5, f"{printed} cycle(s) in this period.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
