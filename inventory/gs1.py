"""Reading GS1 element strings from scanned supply barcodes (GS1-128, GS1 DataMatrix).

The parsing itself is `steristock.labels.parse_gs1`, shared with the scan resolver, so a
barcode that receives stock here is the same barcode the scan page resolves to the item.
This module only turns its refusals into 422 problems on the `barcode` field.
"""

from __future__ import annotations

from steristock.labels.scan import Gs1Error, Gs1Ref, parse_gs1
from steristock.problems import InvalidInput

# What receive-by-barcode reads: gtin (14 digits), lot and expires_on.
ScannedSupply = Gs1Ref


def _barcode_error(detail: str) -> InvalidInput:
    return InvalidInput(
        detail, extra={"errors": [{"field": "barcode", "message": detail, "source": "body"}]}
    )


def parse_supply_barcode(text: str) -> ScannedSupply:
    """GTIN (AI 01), lot (AI 10) and expiry (AI 17) from a scanned element string."""
    try:
        return parse_gs1(text)
    except Gs1Error as exc:
        raise _barcode_error(str(exc)) from exc
