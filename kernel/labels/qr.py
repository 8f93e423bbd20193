"""QR matrices and the rules that keep them scannable on a printed label.

Error correction is M (15 % of the symbol may be lost: a crumpled pouch, a smudge),
the quiet zone is 4 modules of white inside the label, and a module must print at
least 0.5 mm wide, which is what phone and tablet cameras resolve at arm's length.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import qrcode
from numpy.lib.stride_tricks import sliding_window_view
from qrcode import util
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


# 1:1:3:1:1 finder-like patterns with 4 light modules after or before, as 11-bit ints
_FINDER_LIKE = (0b10111010000, 0b00001011101)
_BIT_WEIGHTS = 1 << np.arange(10, -1, -1)


def _run_penalties(symbols: np.ndarray) -> np.ndarray:
    """N1 per symbol: each row run of 5+ same-coloured modules costs (length - 2)."""
    count, rows, cols = symbols.shape
    padded = np.full((count, rows, cols + 1), 2, dtype=np.int8)  # sentinel ends each row
    padded[:, :, :cols] = symbols
    flat = padded.ravel()
    starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
    lengths = np.diff(np.append(starts, flat.size))
    cost = np.where(lengths >= 5, lengths - 2, 0)
    return np.bincount(starts // (rows * (cols + 1)), weights=cost, minlength=count)


def _finder_penalties(symbols: np.ndarray) -> np.ndarray:
    """N3 per symbol: 40 for each finder-like pattern in a row."""
    if symbols.shape[2] < 11:
        return np.zeros(symbols.shape[0])
    words = sliding_window_view(symbols, 11, axis=2) @ _BIT_WEIGHTS
    hits = (words == _FINDER_LIKE[0]) | (words == _FINDER_LIKE[1])
    return 40 * hits.sum(axis=(1, 2))


def mask_penalties(symbols: np.ndarray) -> list[int]:
    """ISO 18004 mask penalties of a stack of candidate symbols (k x n x n booleans),
    scored exactly as ``qrcode.util.lost_point`` scores one symbol."""
    n = symbols.shape[1]
    columns = symbols.transpose(0, 2, 1)
    top_left = symbols[:, :-1, :-1]
    uniform = (
        (top_left == symbols[:, :-1, 1:])
        & (top_left == symbols[:, 1:, :-1])
        & (top_left == symbols[:, 1:, 1:])
    )
    scores = (
        _run_penalties(symbols)
        + _run_penalties(columns)
        + 3 * uniform.sum(axis=(1, 2))
        + _finder_penalties(symbols)
        + _finder_penalties(columns)
    )
    darks = symbols.sum(axis=(1, 2))
    return [
        int(score) + int(abs(float(int(dark)) / (n**2) * 100 - 50) / 5) * 10
        for score, dark in zip(scores, darks, strict=True)
    ]


@lru_cache(maxsize=64)
def _mask_grids(size: int) -> np.ndarray:
    """The 8 mask patterns as a (8, size, size) boolean stack (True = flip)."""
    return np.array(
        [
            [
                [bool(util.mask_func(pattern)(row, col)) for col in range(size)]
                for row in range(size)
            ]
            for pattern in range(8)
        ],
        dtype=bool,
    )


class FastMaskQRCode(qrcode.QRCode):
    """qrcode's encoder with a faster mask search.

    Stock qrcode lays the data out 8 times (once per mask) and scores each in pure
    Python: most of the cost of a label (a 300-label sheet spent ~1 s in it). Here
    the data is laid out once, the other 7 candidates are derived by flipping the
    data modules with numpy, and all 8 are scored in one pass. In test layouts the
    format and version information is blank, so the candidates are exactly those
    stock qrcode scores: same choice, same symbol (tested).
    """

    _data_modules: np.ndarray | None = None

    def map_data(self, data: bytes, mask_pattern: int) -> None:
        # The cells still empty here are the data (and remainder) modules.
        self._data_modules = np.array([[cell is None for cell in row] for row in self.modules])
        super().map_data(data, mask_pattern)

    def best_mask_pattern(self) -> int:
        self.makeImpl(True, 0)
        assert self._data_modules is not None
        first = np.array(self.modules, dtype=bool)
        grids = _mask_grids(self.modules_count)
        candidates = first ^ (self._data_modules & (grids[0] ^ grids))
        scores = mask_penalties(candidates)
        return scores.index(min(scores))


@lru_cache(maxsize=4096)
def qr_matrix(payload: str) -> Matrix:
    """The symbol's modules (True = dark), without the quiet zone.

    Cached: printing the same cycle's labels twice should not redo the mask search.
    """
    if not payload or len(payload) > MAX_PAYLOAD_LENGTH:
        raise LabelTooDenseError(f"QR payload must be 1 to {MAX_PAYLOAD_LENGTH} characters")
    code = FastMaskQRCode(error_correction=ERROR_CORRECTION, border=0)
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
