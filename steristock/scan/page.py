"""The /scan page: where a scanned code leads, the page to open or a plain message why none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.response import Redirect
from sqlalchemy.orm import Session

from equipment.hld import find_device_code
from inventory.bins import item_bins
from inventory.lookups import find_item_by_gtin
from kernel.labels import BinRef, DeviceRef, Gs1Ref, PackRef, SetRef, parse_scan
from kernel.web.templating import render_page

MAX_SCAN_LENGTH = 2000


@dataclass(frozen=True)
class ScanTarget:
    """Either a same-site path to open, or an error to show on the scan page."""

    path: str | None = None
    error: str | None = None
    status_code: int = 200


def resolve_gs1_for_page(session: Session, ref: Gs1Ref) -> ScanTarget:
    """The page for a scanned GS1 code: the bin of the first location stocking the item
    (stock on hand first, then a par level), or a message saying what is missing."""
    item = find_item_by_gtin(session, ref.gtin)
    if item is None:
        return ScanTarget(
            error=f"Not found: no item with GTIN {ref.gtin} is known here.", status_code=404
        )
    bins = item_bins(session, item.id or 0)
    if not bins:
        return ScanTarget(
            error=f"{item.name} ({item.sku}) is not kept at any location yet.", status_code=404
        )
    return ScanTarget(path=f"/b/{_segment(bins[0].location)}/{_segment(bins[0].sku)}")


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
    if isinstance(ref, SetRef):
        return ScanTarget(path=f"/s/{_segment(ref.code)}")
    if isinstance(ref, BinRef):
        return ScanTarget(path=f"/b/{_segment(ref.location_code)}/{_segment(ref.sku)}")
    if isinstance(ref, DeviceRef):
        return ScanTarget(path=f"/d/{_segment(ref.code)}")
    if isinstance(ref, Gs1Ref):
        return resolve_gs1_for_page(session, ref)
    device = find_device_code(session, text.strip()) if len(text.strip()) <= 40 else None
    if device is not None:  # a device's bare code
        return ScanTarget(path=f"/d/{_segment(device)}")
    return ScanTarget(
        error=f"Not a pack, bin or product code: \u201c{shown}\u201d.", status_code=422
    )


@get("/scan", sync_to_thread=True)
def scan_page(
    request: Request[Any, Any, Any], db_session: Session, code: str | None = None
) -> Response[Any]:
    """The scan page; with ``?code=`` it opens the page the scanned code leads to."""
    if code is None:
        return render_page(request, "scan.html", error=None)
    target = resolve_scan(db_session, code)
    if target.path is not None:
        return Redirect(target.path, status_code=303)
    return render_page(request, "scan.html", status_code=target.status_code, error=target.error)
