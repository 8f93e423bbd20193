"""Labels and scanning, shared by the inventory and sterilization domains.

Pure functions over plain data (no database): QR payloads, single labels as PNG/SVG,
Letter (Avery 5160) and thermal PDF sheets, and the parsing half of the scan resolver.
See docs/labels.md.
"""

from kernel.labels.content import BinLabel, PackLabel, SetLabel
from kernel.labels.geometry import AVERY_5160, SHEET_FORMATS, THERMAL_2X1, SheetFormat
from kernel.labels.images import (
    bin_label_png,
    bin_label_svg,
    pack_label_png,
    pack_label_svg,
    set_label_png,
    set_label_svg,
)
from kernel.labels.payloads import bin_url, pack_url, set_url
from kernel.labels.qr import LabelTooDenseError
from kernel.labels.scan import (
    BinRef,
    DeviceRef,
    Gs1Error,
    Gs1Ref,
    PackRef,
    ScanResult,
    SetRef,
    Unknown,
    normalize_gtin,
    parse_gs1,
    parse_scan,
)
from kernel.labels.sheets import bin_labels_pdf, pack_labels_pdf

__all__ = [
    "AVERY_5160",
    "SHEET_FORMATS",
    "THERMAL_2X1",
    "BinLabel",
    "BinRef",
    "DeviceRef",
    "Gs1Error",
    "Gs1Ref",
    "LabelTooDenseError",
    "PackLabel",
    "PackRef",
    "ScanResult",
    "SetLabel",
    "SetRef",
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
    "parse_gs1",
    "parse_scan",
    "set_label_png",
    "set_label_svg",
    "set_url",
]
