"""What the QR codes hold: a URL any tablet camera can open.

Path parts are percent-quoted with nothing left "safe", so a SKU such as ``GLV/M`` or a
location with a space still makes one path segment that :func:`parse_scan` can split.
"""

from __future__ import annotations

from urllib.parse import quote


def _base(public_url: str) -> str:
    return public_url.strip().rstrip("/")


def _segment(part: str) -> str:
    if not part:
        raise ValueError("a QR path part may not be empty")
    return quote(part, safe="")


def pack_url(public_url: str, code: str) -> str:
    """``{public_url}/p/{code}``, the payload of a pack label."""
    return f"{_base(public_url)}/p/{_segment(code)}"


def bin_url(public_url: str, location_code: str, sku: str) -> str:
    """``{public_url}/b/{location}/{sku}``, the payload of a bin label."""
    return f"{_base(public_url)}/b/{_segment(location_code)}/{_segment(sku)}"


def set_url(public_url: str, code: str) -> str:
    """``{public_url}/s/{code}``, the payload of a reusable tray's permanent label."""
    return f"{_base(public_url)}/s/{_segment(code)}"
