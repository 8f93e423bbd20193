"""Reading GS1 element strings from scanned supply barcodes (GS1-128, GS1 DataMatrix).

The parsing itself is `kernel.labels.parse_gs1`, shared with the scan resolver, so a
barcode that receives stock here is the same barcode the scan page resolves to the item.
This module only turns its refusals into 422 problems on the `barcode` field.
"""

from __future__ import annotations

from biip.checksums import gs1_standard_check_digit

from kernel.labels.scan import Gs1Error, Gs1Ref, parse_gs1
from kernel.problems import InvalidInput

# What receive-by-barcode reads: gtin (14 digits), lot and expires_on.
ScannedSupply = Gs1Ref


def parse_supply_barcode(text: str) -> ScannedSupply:
    """GTIN (AI 01), lot (AI 10) and expiry (AI 17) from a scanned element string."""
    try:
        return parse_gs1(text)
    except Gs1Error as exc:
        raise InvalidInput.for_field("barcode", str(exc)) from exc


def gtin_check_digit_problem(gtin: str) -> str | None:
    """Why a GTIN's last digit is wrong, or None: a mistyped GTIN in the catalogue would
    never match the barcode on the box."""
    expected = gs1_standard_check_digit(gtin[:-1])
    if int(gtin[-1]) != expected:
        return f"GTIN {gtin} has a wrong check digit (expected {expected})."
    return None


def with_check_digit(body: str) -> str:
    """A GTIN from its digits before the check digit (demo data, test factories)."""
    return body + str(gs1_standard_check_digit(body))
