"""A purchase order as the PDF a supplier receives (fpdf2, Letter portrait): the clinic's
letterhead and ship-to address (STERISTOCK_CLINIC_NAME / STERISTOCK_CLINIC_ADDRESS), the
supplier with the clinic's account number there, one line per item with the supplier's
item number, the quantity in packs as the supplier sells them and in units, costs and the
order total. A draft or cancelled order says so across the page, so it is never mistaken
for a placed order. Built from `render_po_pdf(...)` bytes, ready to attach to an e-mail.

Text uses the core font Helvetica (nothing to embed); characters it cannot print are
transliterated (`kernel.labels.sheets.pdf_text`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fpdf import FPDF
from litestar import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import purchasing
from inventory.lookups import get_supplier
from inventory.models import Item
from inventory.packagings import pack_levels
from inventory.schemas.purchasing import PoLineOut, PurchaseOrderOut
from kernel.clock import ClinicTime, Clock
from kernel.labels.sheets import PDF_ENCODING, fit_text, pdf_text
from kernel.settings import Settings

# (heading, width in mm, align) on Letter portrait with 15 mm margins (186 mm of table).
COLUMNS: tuple[tuple[str, float, str], ...] = (
    ("Vendor item", 27, "L"),
    ("Our SKU", 25, "L"),
    ("Description", 50, "L"),
    ("Order", 38, "L"),
    ("Units", 14, "R"),
    ("Unit cost", 15, "R"),
    ("Line total", 17, "R"),
)
LINE = 5.5
MARKS = {"draft": "DRAFT - NOT AN ORDER", "cancelled": "CANCELLED"}


@dataclass(frozen=True)
class Letterhead:
    """Who orders: the clinic's name and address lines (settings)."""

    name: str
    address: list[str]


def packs_text(line: PoLineOut, level_name: str | None) -> str:
    """The quantity as the supplier sells it: "12 x box (100)", "3 x pack of 50 + 20 each",
    or units when the item is sold by the unit."""
    if line.pack_size <= 1:
        return f"{line.quantity} {line.unit}"
    pack = f"{level_name} ({line.pack_size})" if level_name else f"pack of {line.pack_size}"
    packs, rest = divmod(line.quantity, line.pack_size)
    text = f"{packs} x {pack}" if packs else ""
    if rest:
        text = f"{text} + {rest} {line.unit}" if text else f"{rest} {line.unit}"
    return text


class OrderDocument(FPDF):
    def __init__(self, *, number: str, printed: str, mark: str | None) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.core_fonts_encoding = PDF_ENCODING
        self.number = number
        self.printed = printed
        self.mark = mark
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages()

    def header(self) -> None:
        if self.mark:
            self.set_font("Helvetica", "B", 40)
            self.set_text_color(215, 215, 215)
            with self.rotation(30, self.w / 2, self.h / 2):
                self.text(self.w / 2 - self.get_string_width(self.mark) / 2, self.h / 2, self.mark)
            self.set_text_color(0, 0, 0)
        if self.page_no() > 1:
            self.set_font("Helvetica", "B", 9)
            self.cell(0, 6, pdf_text(f"Purchase order {self.number} (continued)"),
                      new_x="LMARGIN", new_y="NEXT")  # fmt: skip
            self.column_headings()

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 4, pdf_text(f"{self.number} | printed {self.printed}"))
        self.set_x(-45)
        self.cell(30, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    def column_headings(self) -> None:
        self.set_font("Helvetica", "B", 8)
        self.set_fill_color(230, 230, 230)
        for title, width, align in COLUMNS:
            self.cell(width, LINE, title, border=1, fill=True, align=align)
        self.ln(LINE)


def _block(pdf: FPDF, x: float, y: float, width: float, title: str, lines: list[str]) -> float:
    """A titled block of lines at (x, y); the y below it."""
    pdf.set_xy(x, y)
    pdf.set_font("Helvetica", "B", 8)
    pdf.cell(width, 4.5, title.upper(), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9.5)
    for line in lines:
        pdf.set_x(x)
        pdf.cell(width, 4.8, fit_text(pdf, line, width), new_x="LEFT", new_y="NEXT")
    return pdf.get_y()


def render_po_pdf(
    session: Session,
    po_id: int,
    *,
    letterhead: Letterhead,
    zone: ClinicTime,
    now: dt.datetime,
) -> bytes:
    order: PurchaseOrderOut = purchasing.po_out(session, purchasing.get_po(session, po_id))
    supplier = get_supplier(session, order.supplier_id)
    skus = [line.sku for line in order.lines]
    item_ids = dict(session.execute(select(Item.sku, Item.id).where(Item.sku.in_(skus))).all())
    levels = pack_levels(session, list(item_ids.values()))
    pdf = OrderDocument(
        number=order.number, printed=f"{zone.local_text(now)} ({zone.tz})",
        mark=MARKS.get(order.status),
    )  # fmt: skip
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    # Letterhead (left) and the order's number and dates (right).
    top = pdf.get_y()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(110, 8, fit_text(pdf, letterhead.name or "Clinic name not set", 110),
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("Helvetica", "", 9.5)
    for line in letterhead.address:
        pdf.cell(110, 4.8, fit_text(pdf, line, 110), new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + 110, top)
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(width - 110, 8, "PURCHASE ORDER", align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9.5)
    placed = order.submitted_at or order.created_at
    facts = [
        f"Number: {order.number}",
        f"Date: {zone.local_date(placed).isoformat()}",
        f"Status: {order.status.replace('_', ' ')}",
        f"Ordered by: {order.created_by}",
    ]
    for fact in facts:
        pdf.set_x(pdf.l_margin + 110)
        pdf.cell(width - 110, 4.8, pdf_text(fact), align="R", new_x="LEFT", new_y="NEXT")
    y = max(left_bottom, pdf.get_y()) + 5

    # Supplier and ship-to.
    supplier_lines = [supplier.name]
    if supplier.account_number:
        supplier_lines.append(f"Our account: {supplier.account_number}")
    supplier_lines += [v for v in (supplier.phone, supplier.email) if v]
    ship_lines = [letterhead.name or "", *letterhead.address]
    bottom = max(
        _block(pdf, pdf.l_margin, y, 90, "Supplier", supplier_lines),
        _block(pdf, pdf.l_margin + 96, y, 90, "Ship to", [s for s in ship_lines if s]),
    )
    pdf.set_xy(pdf.l_margin, bottom + 5)

    # The lines.
    pdf.column_headings()
    pdf.set_font("Helvetica", "", 8.5)
    units = 0
    for line in order.lines:
        level = levels.get(item_ids.get(line.sku, 0))
        cells = [
            line.vendor_sku or "", line.sku, line.name,
            packs_text(line, level[0] if level else None),
            str(line.quantity), line.unit_cost, line.line_total,
        ]  # fmt: skip
        if pdf.will_page_break(LINE):
            pdf.add_page()
            pdf.set_font("Helvetica", "", 8.5)
        for text, (_, col_width, align) in zip(cells, COLUMNS, strict=True):
            pdf.cell(col_width, LINE, fit_text(pdf, text, col_width), border="B", align=align)
        pdf.ln(LINE)
        units += line.quantity

    # Totals.
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 9)
    label_width = width - 40
    count = len(order.lines)
    pdf.cell(label_width, 5, f"{count} line{'s' if count != 1 else ''}, {units} units", align="R")
    pdf.ln(5)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(label_width, 7, "Order total", align="R")
    pdf.cell(40, 7, order.total, align="R", border="T")
    pdf.ln(10)
    if order.notes:
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(0, 4.5, "NOTES", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(0, 4.5, pdf_text(order.notes), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    if order.cancel_reason:
        pdf.set_font("Helvetica", "B", 9)
        pdf.multi_cell(0, 4.5, pdf_text(f"Cancelled: {order.cancel_reason}"),
                       new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("Helvetica", "", 9)
    pdf.ln(8)
    pdf.cell(0, 5, "Please quote our order number on the delivery note and invoice.",
             new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(10)
    pdf.cell(70, 5, "Authorized by: ______________________________")
    return bytes(pdf.output())


def letterhead(settings: Settings) -> Letterhead:
    return Letterhead(settings.clinic_name.strip(), settings.clinic_address_lines)


def po_pdf_response(
    session: Session, settings: Settings, clock: Clock, po_id: int
) -> Response[bytes]:
    """The printable order; the API and the order's page both answer with it."""
    content = render_po_pdf(
        session, po_id, letterhead=letterhead(settings), zone=clock.zone, now=clock.now()
    )
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{purchasing.po_number(po_id)}.pdf"',
            "Cache-Control": "no-store",
        },
    )
