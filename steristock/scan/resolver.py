"""The scan resolver: whatever a camera or scanner read -> the pack, bin, item or HLD
device it names.

`kernel.labels.parse_scan` classifies the text (no database); this module asks the
owning domain for the object through its functions, never its tables. Used by
`GET /api/v1/scan` (`steristock/scan_views.py`) and the /scan page (`steristock/web/scan.py`).
"""

from __future__ import annotations

import unicodedata

import msgspec
from sqlalchemy.orm import Session

from equipment.hld import find_device_code
from equipment.hld_use import state_of
from equipment.responses import hld_device_out
from equipment.schemas import HldDeviceOut
from inventory.bins import bin_summary, scanned_item
from inventory.schemas.bins import BinOut, ScannedItemOut
from kernel.clock import Clock
from kernel.labels import BinRef, DeviceRef, Gs1Ref, PackRef, SetRef, Unknown, parse_scan
from kernel.problems import InvalidInput, NotFound
from sterilization.packs import get_pack_view
from sterilization.responses import pack_out
from sterilization.schemas import PackOut
from sterilization.sets.assets import get_set_view
from sterilization.sets.responses import set_out
from sterilization.sets.schemas import SetOut

SHOWN_LENGTH = 80


class PackScan(PackOut, tag_field="type", tag="pack"):
    """A scanned pack label: the same body as ``GET /api/v1/packs/{code}``."""


class SetScan(SetOut, tag_field="type", tag="set"):
    """A scanned tray or cassette label: the same body as ``GET /api/v1/sets/{code}``."""


class BinScan(BinOut, tag_field="type", tag="bin"):
    """A scanned bin label: what is in that bin now."""


class ItemScan(ScannedItemOut, tag_field="type", tag="item"):
    """A scanned GS1 supply barcode: the item, the lot and expiry on the box, its bins."""


class DeviceScan(HldDeviceOut, tag_field="type", tag="device"):
    """A scanned HLD device (its `/d/{code}` QR or its bare code): OK to use or why not."""


ScanOut = PackScan | SetScan | BinScan | ItemScan | DeviceScan


def shown(text: str) -> str:
    """The scanned text as an error message may show it: trimmed, short, printable."""
    value = "".join("?" if unicodedata.category(ch) == "Cc" else ch for ch in text.strip())
    return value if len(value) <= SHOWN_LENGTH else value[: SHOWN_LENGTH - 1] + "\u2026"


def _as(cls: type[msgspec.Struct], value: msgspec.Struct) -> msgspec.Struct:
    return cls(**msgspec.structs.asdict(value))


def resolve(session: Session, text: str, clock: Clock, public_url: str = "") -> ScanOut:
    """The object the scanned text names; 404 naming the text when nothing matches."""
    ref = parse_scan(text)
    echo = shown(text)
    try:
        if isinstance(ref, PackRef):
            view = get_pack_view(session, ref.code, zone=clock.zone, now=clock.now())
            return _as(PackScan, pack_out(view))  # type: ignore[return-value]
        if isinstance(ref, SetRef):
            return _as(SetScan, set_out(get_set_view(session, ref.code), public_url))  # type: ignore[return-value]
        if isinstance(ref, BinRef):
            return _as(BinScan, bin_summary(session, ref.location_code, ref.sku))  # type: ignore[return-value]
        if isinstance(ref, Gs1Ref):
            item = scanned_item(session, ref.gtin, lot=ref.lot, expires_on=ref.expires_on)
            return _as(ItemScan, item)  # type: ignore[return-value]
        if isinstance(ref, DeviceRef):
            state = state_of(session, ref.code, zone=clock.zone)
            return _as(DeviceScan, hld_device_out(state))  # type: ignore[return-value]
    except NotFound as exc:
        raise NotFound(
            f"{exc.detail} (scanned: \u201c{echo}\u201d)",
            extra={**(exc.extra or {}), "text": echo, "scanned_as": ref.kind},
        ) from exc
    if not text.strip():
        raise InvalidInput("Nothing was scanned.", extra={"text": ""})
    if isinstance(ref, Unknown) and len(text.strip()) <= 40:
        # A device's bare code, typed or read off its engraving (`TEE-1`).
        code = find_device_code(session, text.strip())
        if code is not None:
            return _as(DeviceScan, hld_device_out(state_of(session, code, zone=clock.zone)))  # type: ignore[return-value]
    raise NotFound(
        f"Not a pack, set, bin or supply barcode SteriStock knows: \u201c{echo}\u201d.",
        extra={"text": echo, "reason": ref.reason},
    )
