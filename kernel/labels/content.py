"""What a label says and where it goes, independent of PNG, SVG or PDF.

Every renderer lays out the same :class:`LabelLayout` (in PDF points, 1/72 in): the QR
square on the left, filling the label's height, and the text lines to its right, each
shrunk a little and then shortened with an ellipsis until it fits its width, so no
text ever runs into the next label.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from kernel.labels.qr import Matrix, check_module_size

ELLIPSIS = "\u2026"
PADDING_PT = 3.0  # kept blank on every side of a label: sheets shift ~1 mm in printers
GAP_PT = 4.0  # between the QR square and the text
LEADING = 1.18  # line height as a multiple of the font size
ASCENT = 0.8  # baseline below the top of a line, as a fraction of the font size
MIN_SHRINK = 0.8  # a line may shrink to 80 % of its size before it is ellipsized


@dataclass(frozen=True, slots=True)
class PackLabel:
    """The facts printed on a pack label.

    `cycle_number`/`sterilizer` stay None until the pack is loaded, `sterilized_on`
    until its cycle ran; `expires_on` None means event-related shelf life, unless
    `expiry_pending` says the clinic dates its packs and this one has no date yet (printed
    at assembly): then the label leaves ``Expires ________`` to write in.
    """

    code: str
    description: str
    assembled_by: str
    sterilizer: str | None = None
    cycle_number: int | None = None
    sterilized_on: date | None = None
    expires_on: date | None = None
    expiry_pending: bool = False
    # Counted against a count sheet: "Suture kit v2 · wrap · tray ST-000004", and what
    # was missing ("1 x Adson forceps").
    sheet: str | None = None
    short: str | None = None


@dataclass(frozen=True, slots=True)
class SetLabel:
    """The permanent tag of a reusable tray or cassette (its QR opens the count sheet)."""

    code: str
    name: str
    template: str
    packaging: str = ""


@dataclass(frozen=True, slots=True)
class BinLabel:
    """The facts printed on a bin label in a room."""

    location_code: str
    sku: str
    name: str
    unit: str = ""
    par_level: int | None = None


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    size: float  # points
    bold: bool = False
    max_lines: int = 1  # may wrap at spaces onto this many lines


@dataclass(frozen=True, slots=True)
class PlacedLine:
    text: str
    x: float
    baseline: float
    size: float
    bold: bool


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """Where things go on one label, in points from the label's top-left corner."""

    width: float
    height: float
    qr_x: float
    qr_y: float
    qr_side: float  # includes the quiet zone
    text_x: float
    text_width: float


# measure(text, size_pt, bold) -> width in points
Measure = Callable[[str, float, bool], float]


def clean_text(text: str) -> str:
    """Drop control characters (a scanner or import may leave them) and fold whitespace.

    Control characters would make the SVG invalid XML and print as boxes elsewhere.
    """
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == "\t")
    return " ".join(kept.split())


def pack_lines(label: PackLabel) -> list[TextLine]:
    if label.cycle_number is not None:
        where = f"{label.sterilizer} \u00b7 " if label.sterilizer else ""
        load = f"{where}cycle {label.cycle_number}"
    elif label.sterilizer:
        load = label.sterilizer
    else:
        load = "Not yet sterilized"
    sterilized = (
        f"Sterilized {label.sterilized_on.isoformat()}"
        if label.sterilized_on
        else "Sterilized ________"
    )
    if label.expires_on:
        expiry = f"Expires {label.expires_on.isoformat()}"
    elif label.expiry_pending:
        expiry = "Expires ________"
    else:
        expiry = "Expiry: event-related"
    if label.sheet or label.short:
        # A counted pack: the sheet replaces the free description, the short items are
        # printed where nobody can miss them.
        lines = [
            TextLine(clean_text(label.code), 9.0, bold=True),
            TextLine(clean_text(label.sheet or label.description), 6.5),
            TextLine(clean_text(load), 6.5),
            TextLine(sterilized, 6.5),
            TextLine(expiry, 6.5, bold=True),
        ]
        if label.short:
            lines.append(TextLine(clean_text(f"SHORT: {label.short}"), 6.5, bold=True))
        lines.append(TextLine(clean_text(f"Assembled by {label.assembled_by}"), 6.0))
        return lines
    return [
        TextLine(clean_text(label.code), 10.0, bold=True),
        TextLine(clean_text(label.description), 7.5, max_lines=2),
        TextLine(clean_text(load), 7.0),
        TextLine(sterilized, 7.0),
        TextLine(expiry, 7.0, bold=True),
        TextLine(clean_text(f"Assembled by {label.assembled_by}"), 6.5),
    ]


def set_lines(label: SetLabel) -> list[TextLine]:
    packaging = f" \u00b7 {clean_text(label.packaging)}" if label.packaging else ""
    return [
        TextLine(clean_text(label.code), 10.0, bold=True),
        TextLine(clean_text(label.name), 8.0, bold=True, max_lines=2),
        TextLine(clean_text(f"Set {label.template}{packaging}"), 7.0),
        TextLine("Scan to count and wrap", 6.5),
    ]


def bin_lines(label: BinLabel) -> list[TextLine]:
    unit = clean_text(label.unit)
    if label.par_level is not None:
        stock = f"Par {label.par_level} {unit}".rstrip()
    else:
        stock = f"Unit: {unit}" if unit else ""
    lines = [
        TextLine(clean_text(label.name), 9.0, bold=True, max_lines=2),
        TextLine(clean_text(f"SKU {label.sku}"), 8.0),
        TextLine(clean_text(f"Location {label.location_code}"), 7.5),
    ]
    if stock:
        lines.append(TextLine(stock, 7.5))
    return lines


def layout_label(width: float, height: float, matrix: Matrix) -> LabelLayout:
    """QR square as tall as the label allows; raises if its modules get under 0.5 mm."""
    side = height - 2 * PADDING_PT
    check_module_size(side, matrix)
    text_x = PADDING_PT + side + GAP_PT
    return LabelLayout(
        width=width,
        height=height,
        qr_x=PADDING_PT,
        qr_y=PADDING_PT,
        qr_side=side,
        text_x=text_x,
        text_width=max(0.0, width - text_x - PADDING_PT),
    )


def fit_line(line: TextLine, max_width: float, measure: Measure) -> TextLine:
    """Shrink up to MIN_SHRINK, then cut the text and end it with an ellipsis."""
    if measure(line.text, line.size, line.bold) <= max_width:
        return line
    size = line.size
    floor = line.size * MIN_SHRINK
    while size - 0.25 >= floor:
        size -= 0.25
        if measure(line.text, size, line.bold) <= max_width:
            return TextLine(line.text, size, line.bold)
    size = floor
    low, high = 0, len(line.text)  # longest prefix that fits with the ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        candidate = line.text[:middle].rstrip() + ELLIPSIS
        if measure(candidate, size, line.bold) <= max_width:
            low = middle
        else:
            high = middle - 1
    text = line.text[:low].rstrip() + ELLIPSIS
    if measure(text, size, line.bold) > max_width:
        text = ""
    return TextLine(text, size, line.bold)


def wrap_line(line: TextLine, max_width: float, measure: Measure) -> list[TextLine]:
    """Break at spaces onto up to `max_lines` lines; the last one is fitted as usual."""
    rest = line.text
    out: list[TextLine] = []
    while len(out) < line.max_lines - 1 and measure(rest, line.size, line.bold) > max_width:
        words = rest.split(" ")
        taken = 0
        while taken < len(words) and (
            measure(" ".join(words[: taken + 1]), line.size, line.bold) <= max_width
        ):
            taken += 1
        if taken == 0:  # a single word wider than the column: cut it instead
            break
        out.append(TextLine(" ".join(words[:taken]), line.size, line.bold))
        rest = " ".join(words[taken:])
    out.append(fit_line(TextLine(rest, line.size, line.bold), max_width, measure))
    return out


def place_lines(lines: list[TextLine], layout: LabelLayout, measure: Measure) -> list[PlacedLine]:
    """Fit every line to the text column and centre the block vertically.

    Lines that would fall below the label are dropped, last first, so nothing
    ever prints outside it.
    """
    fitted = [part for line in lines for part in wrap_line(line, layout.text_width, measure)]
    usable = layout.height - 2 * PADDING_PT
    while fitted and sum(line.size * LEADING for line in fitted) > usable:
        fitted.pop()
    top = PADDING_PT + (usable - sum(line.size * LEADING for line in fitted)) / 2
    placed: list[PlacedLine] = []
    for line in fitted:
        placed.append(
            PlacedLine(line.text, layout.text_x, top + line.size * ASCENT, line.size, line.bold)
        )
        top += line.size * LEADING
    return placed
