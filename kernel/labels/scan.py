"""Turning whatever a camera or a keyboard-wedge scanner sends into a reference.

The parsing half of the scan resolver: no database here. It accepts

* our own label URLs with any scheme host and path prefix (labels outlive hostname
  changes and reverse-proxy moves): ``https://x/p/PK-000123``, ``http://x/b/EXAM1/GLV-M``,
  with trailing slashes, queries or fragments, percent-encoded parts decoded;
* bare pack codes in any case with surrounding whitespace (``  pk-000123 `` ->
  ``PK-000123``), bare set codes (``st-000004``), bin paths (``/b/EXAM1/GLV-M`` or
  ``b/EXAM1/GLV-M``) and the permanent labels of reusable trays (``.../s/ST-000004``);
* GS1 element strings as scanners send them (``]d2``/``]C1``/``]Q3``/``]e0`` symbology
  prefixes, FNC1 as ASCII 29), parenthesised human-readable strings
  (``(01)09506000134352(17)271231(10)ABC``), bare GTIN/EAN/UPC numbers and GS1 Digital
  Link URLs, parsed with biip -> GTIN (always 14 digits), lot and expiry;

and everything else becomes :class:`Unknown`. Input is capped in length so a scanner
spewing garbage costs nothing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import biip
from biip.gs1_messages import GS1Message

MAX_SCAN_LENGTH = 2048  # longer than any QR/GS1 payload we print or read
MAX_SEGMENT_LENGTH = 100
ECHO_LENGTH = 200  # how much of unrecognised text Unknown keeps for the error message
PACK_CODE = re.compile(r"PK-[0-9]{1,12}", re.IGNORECASE)
SET_CODE = re.compile(r"ST-[0-9]{1,12}", re.IGNORECASE)
GS1_SYMBOLOGIES = {"C1", "d2", "Q3", "e0", "J1", "E0", "E4"}  # GS1-128, DataMatrix, QR, ...
_AIM_PREFIX = re.compile(r"\]([A-Za-z])([0-9A-Za-z])")
_URL_SCHEMES = {"http", "https"}
GS = "\x1d"  # FNC1 as scanners send it
_HOST_PORT = re.compile(r"[A-Za-z0-9.-]+:[0-9]{1,5}/")


@dataclass(frozen=True, slots=True)
class PackRef:
    kind: ClassVar[str] = "pack"
    code: str


@dataclass(frozen=True, slots=True)
class SetRef:
    """A reusable tray or cassette's permanent label."""

    kind: ClassVar[str] = "set"
    code: str


@dataclass(frozen=True, slots=True)
class BinRef:
    kind: ClassVar[str] = "bin"
    location_code: str
    sku: str


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """A device's QR page (``/d/{code}``): an HLD device such as a TEE probe."""

    kind: ClassVar[str] = "device"
    code: str


@dataclass(frozen=True, slots=True)
class Gs1Ref:
    """A supply item's barcode; `gtin` is the 14-digit form (pad stored GTINs with
    :func:`normalize_gtin` before comparing)."""

    kind: ClassVar[str] = "item"
    gtin: str
    lot: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class Unknown:
    """Nothing we recognise. `text` is the input, cut to ECHO_LENGTH characters."""

    kind: ClassVar[str] = "unknown"
    text: str
    reason: str = "not a SteriStock label, pack code or GS1 barcode"


ScanResult = PackRef | SetRef | BinRef | DeviceRef | Gs1Ref | Unknown


def normalize_gtin(value: str) -> str:
    """GTIN-8/12/13/14 as 14 digits, so ``9506000134352`` matches ``09506000134352``."""
    digits = value.strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValueError(f"not a GTIN: {value!r}")
    return digits.zfill(14)


def _echo(text: str) -> str:
    return text if len(text) <= ECHO_LENGTH else text[:ECHO_LENGTH] + "\u2026"


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def _segment(raw: str) -> str | None:
    value = unquote(raw).strip()
    if not value or len(value) > MAX_SEGMENT_LENGTH or _has_control(value) or "\ufffd" in value:
        return None
    return value


def _pack_code(value: str) -> str:
    return value.upper() if PACK_CODE.fullmatch(value) else value


def _from_path(path: str) -> PackRef | SetRef | BinRef | DeviceRef | None:
    """Match the tail of a path: ``.../b/{location}/{sku}``, ``.../p/{code}``,
    ``.../s/{code}`` or ``.../d/{code}``."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[-3].lower() == "b":
        location, sku = _segment(parts[-2]), _segment(parts[-1])
        if location and sku:
            return BinRef(location, sku)
        return None
    if len(parts) >= 2 and parts[-2].lower() == "p":
        code = _segment(parts[-1])
        return PackRef(_pack_code(code)) if code else None
    if len(parts) >= 2 and parts[-2].lower() == "s":
        code = _segment(parts[-1])
        return SetRef(code.upper() if SET_CODE.fullmatch(code) else code) if code else None
    if len(parts) >= 2 and parts[-2].lower() == "d":
        code = _segment(parts[-1])
        return DeviceRef(code) if code else None
    return None


class Gs1Error(ValueError):
    """A scanned supply barcode that names no item; the message says why, for an MA."""


def _gs1_strings(text: str) -> Any:
    """biip's element strings for `text`, or a bare GTIN as a :class:`Gs1Ref`."""
    body = _AIM_PREFIX.sub("", text, count=1) if text.startswith("]") else text
    if body.startswith("("):
        return GS1Message.parse_hri(body).element_strings
    result = biip.parse(text)
    if result.gs1_message is not None:
        strings = result.gs1_message.element_strings
    elif result.gs1_digital_link_uri is not None:
        strings = result.gs1_digital_link_uri.element_strings
    else:
        strings = None
    if strings is None or strings.get(ai="01") is None:
        if result.gtin is not None:
            return Gs1Ref(result.gtin.as_gtin_14())  # a bare EAN/UPC/GTIN number
        if result.gtin_error and body.isascii() and body.isdigit():
            raise Gs1Error(f"The GTIN in this barcode is invalid: {result.gtin_error}")
        if strings is None:
            raise Gs1Error(
                f"This barcode is not a readable GS1 code: {result.gs1_message_error or text!r}"
            )
    return strings


def parse_gs1(text: str) -> Gs1Ref:
    """GTIN (AI 01, as 14 digits), lot (AI 10) and expiry (AI 17) from a supply barcode.

    The one GS1 parser of SteriStock: the scan resolver and inventory's receive-by-barcode
    both use it. Accepts element strings with symbology prefixes and FNC1 as ASCII 29 (or
    typed as ``<GS>``), the parenthesised form, bare GTIN/EAN/UPC numbers and GS1 Digital
    Link URLs. Raises :class:`Gs1Error` saying what is wrong with anything else.
    """
    text = text.strip().replace("<GS>", GS)
    try:
        found = _gs1_strings(text)
    except Gs1Error:
        raise
    except Exception as exc:  # untrusted input into a third-party parser: biip raises
        # ParseError, ValueError for odd dates, and IndexError on a lone "]" (hypothesis)
        raise Gs1Error(f"This barcode is not a readable GS1 code: {exc}") from exc
    if isinstance(found, Gs1Ref):
        return found
    gtin = found.get(ai="01")
    if gtin is None:
        raise Gs1Error("This barcode has no GTIN (AI 01), so it does not name an item.")
    if gtin.gtin is None:
        raise Gs1Error(f"The GTIN in this barcode is invalid: {gtin.gtin_error}")
    lot = found.get(ai="10")
    expiry = found.get(ai="17")
    return Gs1Ref(
        gtin=gtin.gtin.as_gtin_14(),
        lot=lot.value if lot is not None else None,
        expires_on=expiry.date if expiry is not None else None,
    )


def _from_gs1(text: str) -> Gs1Ref | None:
    try:
        return parse_gs1(text)
    except Gs1Error:
        return None


def parse_scan(text: str) -> ScanResult:
    """Classify scanned text; never raises on any string."""
    if not isinstance(text, str):
        return Unknown("", reason="scan text must be a string")
    if len(text) > MAX_SCAN_LENGTH:
        return Unknown(_echo(text), reason=f"longer than {MAX_SCAN_LENGTH} characters")
    value = text.strip()
    if not value:
        return Unknown(text, reason="empty scan")

    prefix = _AIM_PREFIX.match(value)
    if prefix:
        if prefix.group(1) + prefix.group(2) in GS1_SYMBOLOGIES:
            return _from_gs1(value) or Unknown(_echo(text), reason="unreadable GS1 barcode")
        value = value[3:].strip()  # e.g. ]Q1 (plain QR): the payload follows

    if PACK_CODE.fullmatch(value):
        return PackRef(value.upper())
    if SET_CODE.fullmatch(value):
        return SetRef(value.upper())

    if "/" in value and "\x1d" not in value:
        if "://" in value:
            try:
                url = urlsplit(value)
            except ValueError:
                url = None
            if url is not None and url.scheme.lower() in _URL_SCHEMES:
                found = _from_path(url.path)
                if found:
                    return found
        elif ":" not in value or _HOST_PORT.match(value):  # not some other scheme
            found = _from_path(re.split(r"[?#]", value, maxsplit=1)[0])
            if found:
                return found

    return _from_gs1(value) or Unknown(_echo(text))
