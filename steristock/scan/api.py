"""`GET /api/v1/scan?code=...`: one endpoint for every label and barcode in the clinic."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.clock import Clock
from steristock.scan.resolver import ScanOut, resolve


@get(
    "/api/v1/scan",
    guards=[any_role],
    sync_to_thread=True,
    tags=["labels"],
    summary="Resolve scanned text to the pack, set, bin, item or HLD device it names",
    description=(
        "Accepts a label URL from any host (`https://old-host/p/PK-000123`, `/b/EXAM1/GLV-M`, "
        "`/s/ST-000004`, `/d/TEE-1`), a bare pack, set or HLD device code in any case, or a "
        "GS1 barcode (`]d2`/`]C1` with FNC1, `(01)...(17)...(10)...`, a bare GTIN). Answers "
        "`{type: pack|set|bin|item|device, ...}`; "
        "404 naming the text when nothing matches."
    ),
)
def resolve_scan(
    db_session: Session,
    clock: Clock,
    state: State,
    code: str = Parameter(description="The scanned text, as the scanner sent it"),
) -> ScanOut:
    return resolve(db_session, code, clock, state.settings.public_url)
