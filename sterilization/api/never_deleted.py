"""`DELETE` on the sterilization record: always 405. Cycles and packs are evidence kept
for years; a cycle is corrected with an amendment, a pack taken out of use with compromise."""

from __future__ import annotations

from litestar.exceptions import MethodNotAllowedException


def deletion_refused(what: str) -> MethodNotAllowedException:
    return MethodNotAllowedException(
        detail=f"{what} are never deleted: the sterilization record is kept for years. "
        "Correct a cycle with an amendment; take a pack out of use with compromise.",
        headers={"Allow": "GET, POST"},
    )
