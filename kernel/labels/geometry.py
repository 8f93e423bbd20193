"""Sheet formats: where each label sits on a page, in PDF points (1/72 in).

Letter is Avery 5160 (and its clones 5260, 8160, ...): 8.5 x 11 in, 30 labels of
2.625 x 1 in in 3 columns and 10 rows, 0.5 in top margin, 0.1875 in left margin,
2.75 in horizontal pitch (0.125 in gutter), 1 in vertical pitch (rows touch).
Thermal is a roll of 2 x 1 in labels, one label per page.
"""

from __future__ import annotations

from dataclasses import dataclass

INCH = 72.0


@dataclass(frozen=True, slots=True)
class Cell:
    page: int  # 0-based
    x: float
    y: float  # from the top of the page
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class SheetFormat:
    name: str
    page_width: float
    page_height: float
    label_width: float
    label_height: float
    columns: int
    rows: int
    left_margin: float
    top_margin: float
    horizontal_pitch: float
    vertical_pitch: float

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def cell(self, index: int) -> Cell:
        """The rectangle of the index-th label (filled row by row, then page by page)."""
        if index < 0:
            raise ValueError("label index must be >= 0")
        page, slot = divmod(index, self.per_page)
        row, column = divmod(slot, self.columns)
        return Cell(
            page=page,
            x=self.left_margin + column * self.horizontal_pitch,
            y=self.top_margin + row * self.vertical_pitch,
            width=self.label_width,
            height=self.label_height,
        )


AVERY_5160 = SheetFormat(
    name="letter",
    page_width=8.5 * INCH,
    page_height=11 * INCH,
    label_width=2.625 * INCH,
    label_height=1 * INCH,
    columns=3,
    rows=10,
    left_margin=0.1875 * INCH,
    top_margin=0.5 * INCH,
    horizontal_pitch=2.75 * INCH,
    vertical_pitch=1 * INCH,
)

THERMAL_2X1 = SheetFormat(
    name="thermal",
    page_width=2 * INCH,
    page_height=1 * INCH,
    label_width=2 * INCH,
    label_height=1 * INCH,
    columns=1,
    rows=1,
    left_margin=0.0,
    top_margin=0.0,
    horizontal_pitch=2 * INCH,
    vertical_pitch=1 * INCH,
)

SHEET_FORMATS = {sheet.name: sheet for sheet in (AVERY_5160, THERMAL_2X1)}


def sheet_format(name: str) -> SheetFormat:
    try:
        return SHEET_FORMATS[name]
    except KeyError:
        raise ValueError(
            f"unknown label format {name!r}; use one of {', '.join(SHEET_FORMATS)}"
        ) from None
