"""QR matrices and the rules that keep them scannable on a printed label.

Error correction is M (15 % of the symbol may be lost: a crumpled pouch, a smudge),
the quiet zone is 4 modules of white inside the label, and a module must print at
least 0.5 mm wide, which is what phone and tablet cameras resolve at arm's length.
"""

from __future__ import annotations

from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError

QUIET_ZONE_MODULES = 4
MIN_MODULE_MM = 0.5
MM_PER_PT = 25.4 / 72
ERROR_CORRECTION = ERROR_CORRECT_M
MAX_PAYLOAD_LENGTH = 512

Matrix = tuple[tuple[bool, ...], ...]


class LabelTooDenseError(ValueError):
    """The payload needs so many modules that they would print smaller than 0.5 mm."""


@lru_cache(maxsize=4096)
def qr_matrix(payload: str) -> Matrix:
    """The symbol's modules (True = dark), without the quiet zone.

    Cached: printing the same cycle's labels twice should not redo the mask search.
    """
    if not payload or len(payload) > MAX_PAYLOAD_LENGTH:
        raise LabelTooDenseError(f"QR payload must be 1 to {MAX_PAYLOAD_LENGTH} characters")
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=0)
    code.add_data(payload)
    try:
        code.make(fit=True)
    except DataOverflowError as exc:
        raise LabelTooDenseError("QR payload too long for a label") from exc
    return tuple(tuple(bool(cell) for cell in row) for row in code.modules)


def qr_version(matrix: Matrix) -> int:
    """QR version from the symbol size (version v has 17 + 4v modules a side)."""
    return (len(matrix) - 17) // 4


def modules_with_quiet_zone(matrix: Matrix) -> int:
    return len(matrix) + 2 * QUIET_ZONE_MODULES


def module_size_mm(side_pt: float, matrix: Matrix) -> float:
    """Printed module width when the symbol plus its quiet zone fills `side_pt`."""
    return side_pt / modules_with_quiet_zone(matrix) * MM_PER_PT


def check_module_size(side_pt: float, matrix: Matrix) -> None:
    size = module_size_mm(side_pt, matrix)
    if size < MIN_MODULE_MM:
        raise LabelTooDenseError(
            f"QR modules would print {size:.2f} mm wide (minimum {MIN_MODULE_MM} mm): "
            "shorten STERISTOCK_PUBLIC_URL or the code"
        )


def dark_runs(matrix: Matrix) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as ``(row, first_column, length)``.

    Drawing one rectangle per run instead of per module keeps PDFs and SVGs small
    and fast to produce.
    """
    runs: list[tuple[int, int, int]] = []
    for row_index, row in enumerate(matrix):
        start = -1
        for col, dark in enumerate(row):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                runs.append((row_index, start, col - start))
                start = -1
        if start >= 0:
            runs.append((row_index, start, len(row) - start))
    return runs
