"""Pack labels: `/api/v1/packs/{code}/label.png|svg` (one label) and
`/api/v1/labels/packs.pdf` (printable sheets by codes or cycle).

Every signed-in role may print (a label only repeats what the pack record says). Labels
print before sterilization (at assembly, with blanks to write in) and after.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.clock import Clock
from kernel.fields import PRINTABLE, PathKey
from kernel.labels import PackLabel, pack_label_png, pack_label_svg, pack_labels_pdf
from kernel.labels.responses import (
    PDF,
    PNG,
    SVG,
    LabelFormat,
    check_skip,
    filename,
    label_response,
    render,
)
from kernel.problems import InvalidInput
from sterilization import pack_labels
from sterilization.shelf_life import ShelfLife

FormatParam = Annotated[
    LabelFormat, Parameter(description="letter: an Avery 5160 cell; thermal: 2 x 1 in")
]
SkipParam = Annotated[
    int, Parameter(ge=0, le=29, description="Labels already used on the first Letter sheet")
]
CodesParam = Annotated[
    str | None,
    Parameter(
        max_length=20_000,
        pattern=PRINTABLE,
        description="Comma-separated pack codes, printed in this order",
    ),
]
CycleParam = Annotated[
    int | None, Parameter(ge=1, le=2_147_483_647, description="Every pack of this cycle")
]


def one_label(session: Session, code: str, clock: Clock, shelf_life: ShelfLife) -> PackLabel:
    label = pack_labels.label_for_code(
        session, code, zone=clock.zone, shelf_life=shelf_life, now=clock.now()
    )
    session.commit()  # the pool connection goes back before the CPU work
    return label


class PackLabelController(Controller):
    path = "/api/v1/packs"
    tags = ["labels"]

    @get(
        "/{code:str}/label.png",
        guards=[any_role],
        sync_to_thread=True,
        media_type=PNG,
        summary="A pack's label as PNG (300 dpi, the physical size of one label)",
    )
    def download_pack_label_png(
        self,
        code: PathKey,
        db_session: Session,
        state: State,
        clock: Clock,
        shelf_life: ShelfLife,
        format: FormatParam = "letter",
    ) -> Response[bytes]:
        label = one_label(db_session, code, clock, shelf_life)
        body = render(lambda: pack_label_png(label, state.settings.public_url, format=format))
        return label_response(body, PNG, filename(label.code, ext="png"))

    @get(
        "/{code:str}/label.svg",
        guards=[any_role],
        sync_to_thread=True,
        media_type=SVG,
        summary="A pack's label as SVG (sized in inches)",
    )
    def download_pack_label_svg(
        self,
        code: PathKey,
        db_session: Session,
        state: State,
        clock: Clock,
        shelf_life: ShelfLife,
        format: FormatParam = "letter",
    ) -> Response[bytes]:
        label = one_label(db_session, code, clock, shelf_life)
        body = render(lambda: pack_label_svg(label, state.settings.public_url, format=format))
        return label_response(body, SVG, filename(label.code, ext="svg"))


class PackLabelSheetController(Controller):
    path = "/api/v1/labels"
    tags = ["labels"]

    @get(
        "/packs.pdf",
        guards=[any_role],
        sync_to_thread=True,
        media_type=PDF,
        summary="Pack labels to print: Letter 30-up (Avery 5160) or thermal 2 x 1 in",
        description="Give `codes` (comma-separated, at most 1000) or `cycle` (an id).",
    )
    def download_pack_labels_pdf(
        self,
        db_session: Session,
        state: State,
        clock: Clock,
        shelf_life: ShelfLife,
        codes: CodesParam = None,
        cycle: CycleParam = None,
        format: FormatParam = "letter",
        skip: SkipParam = 0,
    ) -> Response[bytes]:
        check_skip(format, skip)
        if codes is not None and codes.strip() and cycle is not None:
            raise InvalidInput("Give either codes or cycle, not both.")
        zone, now = clock.zone, clock.now()
        if cycle is not None:
            labels = pack_labels.labels_for_cycle(
                db_session, cycle, zone=zone, shelf_life=shelf_life, now=now
            )
            name = filename("pack-labels-cycle", cycle, ext="pdf")
        else:
            labels = pack_labels.labels_for_codes(
                db_session, pack_labels.parse_code_list(codes or ""), zone=zone,
                shelf_life=shelf_life, now=now,
            )  # fmt: skip
            many = f"{len(labels)}-packs"
            name = filename("pack-labels", labels[0].code if len(labels) == 1 else many, ext="pdf")
        db_session.commit()
        body = render(lambda: pack_labels_pdf(labels, state.settings.public_url, format, skip=skip))
        return label_response(body, PDF, name)
