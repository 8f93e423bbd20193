"""Printable PDF sheets of pack and bin labels (fpdf2, vector QR codes).

"letter": Avery 5160, 30 labels a page, more pages as needed; `skip` leaves the first
labels of the first sheet empty so a partly used sheet can go back in the printer.
"thermal": one 2 x 1 in label per page for roll printers.
Text uses the PDF core font Helvetica (nothing to embed, fast); characters it cannot
show are transliterated where possible (é stays, ő becomes o) or printed as "?".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from fpdf import FPDF

from kernel.labels.content import (
    BinLabel,
    PackLabel,
    TextLine,
    bin_lines,
    layout_label,
    pack_lines,
    place_lines,
)
from kernel.labels.geometry import SheetFormat, sheet_format
from kernel.labels.payloads import bin_url, pack_url
from kernel.labels.qr import QUIET_ZONE_MODULES, dark_runs, modules_with_quiet_zone, qr_matrix

PDF_ENCODING = "windows-1252"
MAX_LABELS = 10_000


def pdf_text(text: str) -> str:
    """Text the Helvetica core font can print."""
    out: list[str] = []
    for ch in text:
        try:
            ch.encode(PDF_ENCODING)
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        folded = "".join(
            part
            for part in unicodedata.normalize("NFKD", ch)
            if not unicodedata.combining(part) and part.encode(PDF_ENCODING, "ignore")
        )
        out.append(folded or "?")
    return "".join(out)


def fit_text(pdf: FPDF, text: str, width: float) -> str:
    """`text` as the current font prints it in a cell `width` wide: cut with ".." when
    longer (a table cell of a report or a printed order)."""
    text = pdf_text(text)
    if pdf.get_string_width(text) <= width - 1.5:
        return text
    while text and pdf.get_string_width(text + "..") > width - 1.5:
        text = text[:-1]
    return text + ".."


class PdfLabelSheet:
    """An fpdf document plus the state needed to place labels on it."""

    def __init__(self, sheet: SheetFormat, title: str) -> None:
        self.sheet = sheet
        self.pdf = FPDF(unit="pt", format=(sheet.page_width, sheet.page_height))
        self.pdf.core_fonts_encoding = PDF_ENCODING
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(0, 0, 0)
        self.pdf.set_title(title)
        self.pdf.set_creator("SteriStock")
        self.pdf.set_fill_color(0)
        self.pdf.set_text_color(0)
        self.pages = 0
        self._font: tuple[bool, float] | None = None
        # Labels of one sheet repeat most lines (a cycle's description, sterilizer, dates):
        # fpdf's get_string_width is the costliest step, so each width is measured once.
        self._widths: dict[tuple[str, float, bool], float] = {}

    def _set_font(self, size: float, bold: bool) -> None:
        if self._font != (bold, size):
            self.pdf.set_font("helvetica", "B" if bold else "", size)
            self._font = (bold, size)

    def measure(self, text: str, size: float, bold: bool) -> float:
        key = (text, size, bold)
        width = self._widths.get(key)
        if width is None:
            self._set_font(size, bold)
            width = self._widths[key] = self.pdf.get_string_width(text)
        return width

    def _fill_rects(self, rects: Iterable[tuple[float, float, float, float]]) -> None:
        """Fill many rectangles as one path: a QR has ~200 runs and fpdf's rect() costs
        more per call than the whole label otherwise does. Same operators rect() emits
        (user unit is points, PDF y axis points up)."""
        height = self.sheet.page_height
        ops = "".join(f"{x:.3f} {height - y:.3f} {w:.3f} {-h:.3f} re " for x, y, w, h in rects)
        if ops:
            self.pdf._out(ops + "f")

    def add(self, index: int, payload: str, lines: list[TextLine]) -> None:
        cell = self.sheet.cell(index)
        while self.pages <= cell.page:
            self.pdf.add_page()
            self.pages += 1
        matrix = qr_matrix(payload)
        layout = layout_label(cell.width, cell.height, matrix)
        module = layout.qr_side / modules_with_quiet_zone(matrix)
        origin_x = cell.x + layout.qr_x + QUIET_ZONE_MODULES * module
        origin_y = cell.y + layout.qr_y + QUIET_ZONE_MODULES * module
        lines = [TextLine(pdf_text(line.text), line.size, line.bold) for line in lines]
        placed = place_lines(lines, layout, self.measure)
        # Belt and braces: even a mis-measured glyph cannot print outside the cell.
        with self.pdf.rect_clip(cell.x, cell.y, cell.width, cell.height):
            self._fill_rects(
                (origin_x + col * module, origin_y + row * module, length * module, module)
                for row, col, length in dark_runs(matrix)
            )
            for line in placed:
                if line.text:
                    self._set_font(line.size, line.bold)
                    self.pdf.text(cell.x + line.x, cell.y + line.baseline, line.text)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _render(
    items: Sequence[tuple[str, list[TextLine]]], format: str, skip: int, title: str
) -> bytes:
    sheet = sheet_format(format)
    if not items:
        raise ValueError("no labels to print")
    if len(items) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels per PDF")
    if not 0 <= skip < sheet.per_page:
        raise ValueError(f"skip must be between 0 and {sheet.per_page - 1}")
    document = PdfLabelSheet(sheet, title)
    for offset, (payload, lines) in enumerate(items):
        document.add(skip + offset, payload, lines)
    return document.output()


def pack_labels_pdf(
    labels: Sequence[PackLabel], public_url: str, format: str = "letter", *, skip: int = 0
) -> bytes:
    """Pack labels on Avery 5160 Letter sheets or 2 x 1 in thermal pages."""
    items = [(pack_url(public_url, label.code), pack_lines(label)) for label in labels]
    return _render(items, format, skip, "SteriStock pack labels")


def bin_labels_pdf(
    labels: Sequence[BinLabel], public_url: str, format: str = "letter", *, skip: int = 0
) -> bytes:
    """Bin labels (QR of ``{public_url}/b/{location}/{sku}``) on the same formats."""
    items = [
        (bin_url(public_url, label.location_code, label.sku), bin_lines(label)) for label in labels
    ]
    return _render(items, format, skip, "SteriStock bin labels")
