"""Reading GS1 element strings from scanned supply barcodes (GS1-128, GS1 DataMatrix).

`biip` does the parsing. Scanners send the symbology prefix (`]d2` DataMatrix, `]C1`
GS1-128, `]Q3` QR) and FNC1 as ASCII 29; labels print the human-readable form with the AIs
in parentheses, which people also type in. Both are accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import biip
from biip.gs1_messages import GS1Message

from steristock.problems import InvalidInput

GS = "\x1d"
SYMBOLOGY_PREFIX = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


@dataclass(frozen=True)
class ScannedSupply:
    gtin: str  # 14 digits
    lot: str | None
    expires_on: dt.date | None


def _barcode_error(detail: str) -> InvalidInput:
    return InvalidInput(
        detail, extra={"errors": [{"field": "barcode", "message": detail, "source": "body"}]}
    )


def _message(text: str) -> GS1Message:
    text = text.strip().replace("<GS>", GS)
    body = SYMBOLOGY_PREFIX.sub("", text)
    try:
        if body.startswith("("):
            return GS1Message.parse_hri(body)
        if body.isdigit() and len(body) in (8, 12, 13, 14):
            return GS1Message.parse("01" + body.zfill(14))  # a bare GTIN (EAN/UPC)
        result = biip.parse(text)
    except (biip.ParseError, ValueError) as exc:
        raise _barcode_error(f"This barcode is not a readable GS1 code: {exc}") from exc
    if result.gs1_message is None:
        raise _barcode_error(
            f"This barcode is not a readable GS1 code: {result.gs1_message_error or text!r}"
        )
    return result.gs1_message


def parse_supply_barcode(text: str) -> ScannedSupply:
    """GTIN (AI 01), lot (AI 10) and expiry (AI 17) from a scanned element string."""
    message = _message(text)
    gtin_element = message.element_strings.get(ai="01")
    if gtin_element is None:
        raise _barcode_error("This barcode has no GTIN (AI 01), so it does not name an item.")
    if gtin_element.gtin is None:
        raise _barcode_error(f"The GTIN in this barcode is invalid: {gtin_element.gtin_error}")
    lot_element = message.element_strings.get(ai="10")
    expiry_element = message.element_strings.get(ai="17")
    return ScannedSupply(
        gtin=gtin_element.value.zfill(14),
        lot=lot_element.value if lot_element else None,
        expires_on=expiry_element.date if expiry_element else None,
    )
