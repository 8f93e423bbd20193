"""Label bytes as HTTP responses: content types, download names, and rendering errors as
422 problems. Shared by the sterilization and inventory label endpoints."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal, TypeVar

from litestar import Response

from kernel.problems import InvalidInput

LabelFormat = Literal["letter", "thermal"]

PNG = "image/png"
SVG = "image/svg+xml"
PDF = "application/pdf"

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
T = TypeVar("T")


def filename(*parts: str | int, ext: str) -> str:
    """A download name safe in a header on every OS: ``PK-000123.png``."""
    stem = "-".join(_UNSAFE_FILENAME.sub("_", str(p)).strip("_") for p in parts if str(p))
    return f"{stem[:100] or 'labels'}.{ext}"


def label_response(body: bytes | str, media_type: str, name: str) -> Response[bytes]:
    """`inline`, so a tablet opens it in its viewer and prints from there."""
    content = body.encode() if isinstance(body, str) else body
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "no-store",  # a reprint must show the pack's current facts
        },
    )


def render(make: Callable[[], T]) -> T:
    """Run a label renderer; a payload too dense to scan or a bad argument is a 422."""
    try:
        return make()
    except ValueError as exc:  # LabelTooDenseError is a ValueError
        raise InvalidInput(f"Cannot print this label: {exc}") from exc


def check_skip(format: str, skip: int) -> None:
    """`skip` leaves used labels of a Letter sheet empty; a thermal roll has none."""
    if skip and format != "letter":
        raise InvalidInput(
            "skip only applies to Letter sheets; thermal rolls print one label per page.",
            extra={"errors": [{"field": "skip", "message": "Letter only", "source": "query"}]},
        )
