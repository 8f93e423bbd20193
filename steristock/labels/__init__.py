"""Labels and scanning, shared by the inventory and sterilization domains.

Pure functions over plain data (no database): QR payloads, single labels as PNG/SVG,
Letter (Avery 5160) and thermal PDF sheets, and the parsing half of the scan resolver.
See docs/labels.md.
"""

from steristock.labels.content import BinLabel, PackLabel
from steristock.labels.geometry import AVERY_5160, SHEET_FORMATS, THERMAL_2X1, SheetFormat
from steristock.labels.images import bin_label_png, bin_label_svg, pack_label_png, pack_label_svg
from steristock.labels.payloads import bin_url, pack_url
from steristock.labels.qr import LabelTooDenseError
from steristock.labels.scan import (
    BinRef,
    Gs1Ref,
    PackRef,
    ScanResult,
    Unknown,
    normalize_gtin,
    parse_scan,
)
from steristock.labels.sheets import bin_labels_pdf, pack_labels_pdf

__all__ = [
    "AVERY_5160",
    "SHEET_FORMATS",
    "THERMAL_2X1",
    "BinLabel",
    "BinRef",
    "Gs1Ref",
    "LabelTooDenseError",
    "PackLabel",
    "PackRef",
    "ScanResult",
    "SheetFormat",
    "Unknown",
    "bin_label_png",
    "bin_label_svg",
    "bin_labels_pdf",
    "bin_url",
    "normalize_gtin",
    "pack_label_png",
    "pack_label_svg",
    "pack_labels_pdf",
    "pack_url",
    "parse_scan",
]
