"""`/api/v1/labels/bins.pdf`: a room's bin labels as a printable sheet.

Every signed-in role may print. The QR holds ``{STERISTOCK_PUBLIC_URL}/b/{location}/{sku}``.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy.orm import Session

from inventory.bins import bin_labels
from kernel.auth.guards import any_role
from kernel.fields import PRINTABLE
from kernel.labels import bin_labels_pdf
from kernel.labels.responses import PDF, LabelFormat, check_skip, filename, label_response, render


class BinLabelController(Controller):
    path = "/api/v1/labels"
    tags = ["labels"]

    @get(
        "/bins.pdf",
        guards=[any_role],
        sync_to_thread=True,
        media_type=PDF,
        summary="A room's bin labels, by SKU: Letter 30-up (Avery 5160) or thermal 2 x 1 in",
        description="Every active item stocked at the location or with a par level there.",
    )
    def download_bin_labels_pdf(
        self,
        db_session: Session,
        state: State,
        location: Annotated[str, Parameter(min_length=1, max_length=20, pattern=PRINTABLE)],
        format: Annotated[LabelFormat, Parameter(description="letter or thermal")] = "letter",
        skip: Annotated[int, Parameter(ge=0, le=29, description="Used labels on sheet 1")] = 0,
    ) -> Response[bytes]:
        check_skip(format, skip)
        labels = bin_labels(db_session, location)
        db_session.commit()  # the pool connection goes back before the CPU work
        body = render(lambda: bin_labels_pdf(labels, state.settings.public_url, format, skip=skip))
        return label_response(body, PDF, filename("bin-labels", labels[0].location_code, ext="pdf"))
