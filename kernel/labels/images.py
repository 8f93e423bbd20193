"""Single labels as PNG (for a label printer driver or the browser) and SVG.

Both have the physical size of one label of the chosen sheet format ("letter": an
Avery 5160 cell, 2.625 x 1 in; "thermal": 2 x 1 in); the PNG carries its DPI so it
prints at that size at 100 %.
"""

from __future__ import annotations

import io
import threading
from xml.sax.saxutils import escape, quoteattr

from fpdf.fonts import CORE_FONTS_CHARWIDTHS
from PIL import Image, ImageDraw, ImageFont

from kernel.labels.content import (
    BinLabel,
    PackLabel,
    SetLabel,
    TextLine,
    bin_lines,
    layout_label,
    pack_lines,
    place_lines,
    set_lines,
)
from kernel.labels.geometry import sheet_format
from kernel.labels.payloads import bin_url, pack_url, set_url
from kernel.labels.qr import (
    MIN_MODULE_MM,
    QUIET_ZONE_MODULES,
    LabelTooDenseError,
    dark_runs,
    modules_with_quiet_zone,
    qr_matrix,
)

SVG_FONT_FAMILY = "Helvetica, Arial, 'Liberation Sans', sans-serif"
MIN_DPI, MAX_DPI = 150, 1200


def helvetica_width(text: str, size: float, bold: bool) -> float:
    """Width in points with the standard Helvetica metrics (the PDF core font).

    Characters outside its table count as a full em, so estimates err on the wide side.
    """
    widths = CORE_FONTS_CHARWIDTHS["helveticaB" if bold else "helvetica"]
    return sum(widths.get(ch, 1000) for ch in text) * size / 1000


def _render_svg(payload: str, lines: list[TextLine], fmt: str) -> str:
    sheet = sheet_format(fmt)
    width, height = sheet.label_width, sheet.label_height
    matrix = qr_matrix(payload)
    layout = layout_label(width, height, matrix)
    module = layout.qr_side / modules_with_quiet_zone(matrix)
    origin_x = layout.qr_x + QUIET_ZONE_MODULES * module
    origin_y = layout.qr_y + QUIET_ZONE_MODULES * module
    path = "".join(
        f"M{origin_x + col * module:.3f} {origin_y + row * module:.3f}"
        f"h{length * module:.3f}v{module:.3f}h{-length * module:.3f}z"
        for row, col, length in dark_runs(matrix)
    )
    bold = ' font-weight="bold"'
    texts = "".join(
        f'<text x="{line.x:.2f}" y="{line.baseline:.2f}" font-size="{line.size:.2f}"'
        f"{bold if line.bold else ''}>{escape(line.text)}</text>"
        for line in place_lines(lines, layout, helvetica_width)
        if line.text
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width / 72:g}in" '
        f'height="{height / 72:g}in" viewBox="0 0 {width:g} {height:g}">'
        f"<title>{escape(payload)}</title>"
        f'<rect width="{width:g}" height="{height:g}" fill="#fff"/>'
        f'<path d="{path}" fill="#000" shape-rendering="crispEdges"/>'
        f'<g font-family={quoteattr(SVG_FONT_FAMILY)} fill="#000">{texts}</g>'
        "</svg>\n"
    )


_fonts = threading.local()


def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (no system fonts needed on a slim image), cached per
    thread: handlers run in a thread pool and a FreeType face is not shared safely."""
    cache = getattr(_fonts, "by_size", None)
    if cache is None:
        cache = _fonts.by_size = {}
    font = cache.get(pixels)
    if font is None:
        font = cache[pixels] = ImageFont.load_default(size=pixels)
    return font


def _render_png(payload: str, lines: list[TextLine], fmt: str, dpi: int) -> bytes:
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi must be between {MIN_DPI} and {MAX_DPI}")
    sheet = sheet_format(fmt)
    matrix = qr_matrix(payload)
    layout = layout_label(sheet.label_width, sheet.label_height, matrix)
    scale = dpi / 72
    total = modules_with_quiet_zone(matrix)
    module_px = int(layout.qr_side * scale // total)  # whole pixels keep modules crisp
    if module_px * 25.4 / dpi < MIN_MODULE_MM:
        raise LabelTooDenseError(f"QR modules would print under {MIN_MODULE_MM} mm at {dpi} dpi")

    image = Image.new("L", (round(layout.width * scale), round(layout.height * scale)), 255)
    symbol = Image.new("1", (total, total), 1)
    pixels = symbol.load()
    for row, col, length in dark_runs(matrix):
        for offset in range(length):
            pixels[QUIET_ZONE_MODULES + col + offset, QUIET_ZONE_MODULES + row] = 0
    symbol = symbol.resize((total * module_px,) * 2, Image.Resampling.NEAREST)
    slack = int(layout.qr_side * scale) - total * module_px
    image.paste(
        symbol.convert("L"),
        (int(layout.qr_x * scale) + slack // 2, int(layout.qr_y * scale) + slack // 2),
    )

    def stroke(size_pt: float, bold: bool) -> int:
        return max(1, round(size_pt * scale / 30)) if bold else 0

    def measure(text: str, size: float, bold: bool) -> float:
        font = _font(max(1, round(size * scale)))
        return (font.getlength(text) + 2 * stroke(size, bold)) / scale

    draw = ImageDraw.Draw(image)
    for line in place_lines(lines, layout, measure):
        if line.text:
            draw.text(
                (line.x * scale, line.baseline * scale),
                line.text,
                fill=0,
                font=_font(max(1, round(line.size * scale))),
                anchor="ls",
                stroke_width=stroke(line.size, line.bold),
                stroke_fill=0,
            )
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def pack_label_png(
    label: PackLabel, public_url: str, *, format: str = "letter", dpi: int = 300
) -> bytes:
    """One pack label as a PNG: QR of ``{public_url}/p/{code}`` plus the pack's facts."""
    return _render_png(pack_url(public_url, label.code), pack_lines(label), format, dpi)


def pack_label_svg(label: PackLabel, public_url: str, *, format: str = "letter") -> str:
    """One pack label as an SVG document (vector QR, text in Helvetica/Arial)."""
    return _render_svg(pack_url(public_url, label.code), pack_lines(label), format)


def bin_label_png(
    label: BinLabel, public_url: str, *, format: str = "letter", dpi: int = 300
) -> bytes:
    payload = bin_url(public_url, label.location_code, label.sku)
    return _render_png(payload, bin_lines(label), format, dpi)


def bin_label_svg(label: BinLabel, public_url: str, *, format: str = "letter") -> str:
    payload = bin_url(public_url, label.location_code, label.sku)
    return _render_svg(payload, bin_lines(label), format)


def set_label_png(
    label: SetLabel, public_url: str, *, format: str = "letter", dpi: int = 300
) -> bytes:
    """A tray's permanent tag as a PNG: QR of ``{public_url}/s/{code}``."""
    return _render_png(set_url(public_url, label.code), set_lines(label), format, dpi)


def set_label_svg(label: SetLabel, public_url: str, *, format: str = "letter") -> str:
    return _render_svg(set_url(public_url, label.code), set_lines(label), format)
