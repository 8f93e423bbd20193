"""Where a scanned code leads: the page to open, or a plain message saying why none."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.orm import Session

from steristock.labels import BinRef, Gs1Ref, PackRef, parse_scan

MAX_SCAN_LENGTH = 2000


@dataclass(frozen=True)
class ScanTarget:
    """Either a same-site path to open, or an error to show on the scan page."""

    path: str | None = None
    error: str | None = None
    status_code: int = 200


def resolve_gs1_for_page(session: Session, ref: Gs1Ref) -> str | None:
    """The page for a scanned GS1 code (GTIN, lot, expiry), or None if nothing matches.

    Hook for the inventory domain: look the GTIN up among items and return e.g.
    ``/b/{location}/{sku}`` or an item page. Until then nothing matches.
    """
    return None


def _segment(value: str) -> str:
    return quote(value, safe="")


def resolve_scan(session: Session, text: str) -> ScanTarget:
    """Parse what a scanner or camera read and say which page it opens."""
    shown = text.strip()
    if len(shown) > 80:
        shown = shown[:77] + "..."
    if not text.strip():
        return ScanTarget(error="Nothing was scanned.", status_code=422)
    if len(text) > MAX_SCAN_LENGTH:
        return ScanTarget(error="That scan is too long to be a SteriStock code.", status_code=422)
    ref = parse_scan(text)
    if isinstance(ref, PackRef):
        return ScanTarget(path=f"/p/{_segment(ref.code)}")
    if isinstance(ref, BinRef):
        return ScanTarget(path=f"/b/{_segment(ref.location_code)}/{_segment(ref.sku)}")
    if isinstance(ref, Gs1Ref):
        path = resolve_gs1_for_page(session, ref)
        if path is not None:
            return ScanTarget(path=path)
        return ScanTarget(
            error=f"Not found: no item with GTIN {ref.gtin} is known here.", status_code=404
        )
    return ScanTarget(
        error=f"Not a pack, bin or product code: \u201c{shown}\u201d.", status_code=422
    )
