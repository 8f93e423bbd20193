"""HTTP handlers of the catalogue import and export (thin wrappers over
`inventory.catalogue_import`).

Roles: purchasing (and admin) import; ma, purchasing and auditor may download the CSVs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, Parameter
from sqlalchemy.orm import Session

from inventory import catalogue_import
from inventory.catalogue_import import (
    ITEM_COLUMNS,
    MAX_UPLOAD_BYTES,
    PAR_COLUMNS,
    ImportProblem,
    ImportReport,
    ImportRow,
    UploadTooLarge,
)
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser

can_read = requires_role(Role.MA, Role.PURCHASING, Role.AUDITOR)
can_import = requires_role(Role.PURCHASING)
# The multipart envelope around the file (boundaries, part headers) needs a little room.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


@dataclass
class CsvUpload:
    file: UploadFile


class ImportRejectedProblem(msgspec.Struct, kw_only=True):
    """The 422 body: problem details plus, when the file was read, the report (its
    `problems` list every problem with its spreadsheet row number and column; `rows` say
    what each row would do). A request without a file gets the plain problem with `errors`."""

    type: str | None = None
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
    file: str | None = None
    dry_run: bool | None = None
    accepted: bool | None = None
    created: int | None = None
    updated: int | None = None
    unchanged: int | None = None
    rejected: int | None = None
    suppliers_created: list[str] | None = None
    locations_created: list[str] | None = None
    rows: list[ImportRow] | None = None
    problems: list[ImportProblem] | None = None


DryRun = Annotated[
    bool, Parameter(description="Check the file and report what would change; write nothing")
]
IMPORT_RESPONSES = {
    422: ResponseSpec(
        data_container=ImportRejectedProblem,
        description="The file has problems (every one listed by row); nothing was written",
        media_type="application/problem+json",
    ),
}


def read_upload(upload: UploadFile) -> bytes:
    content = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    return content


def run_import(session: Session, me: CurrentUser, *, dry_run: bool, **files: bytes) -> ImportReport:
    result = catalogue_import.import_catalogue(session, actor=me.username, dry_run=dry_run, **files)
    report = result.items or result.par_levels
    assert report is not None
    if not result.accepted:
        raise catalogue_import.ImportRejected(report)
    return report


def csv_download(content: str, filename: str) -> Response[bytes]:
    return Response(
        content=content.encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


IMPORT_DESCRIPTION = (
    "Multipart upload, field `file`: a CSV (UTF-8, with or without BOM; comma or semicolon) "
    "with the columns `{columns}`. All or nothing: a file with any bad row is refused "
    "(422) with every problem and its spreadsheet row number (the header is row 1), and "
    "nothing is written. With `dry_run=true` the report says what would be created, updated "
    "and left unchanged, and nothing is written. At most 5 MB (413)."
)


@post(
    "/api/v1/items/import",
    guards=[can_import],
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=MAX_REQUEST_BYTES,
    tags=["inventory"],
    summary="Import the catalogue from a CSV file (items, suppliers by name)",
    description=IMPORT_DESCRIPTION.format(columns=",".join(ITEM_COLUMNS))
    + " Suppliers are matched by name (case-insensitive) and created if new; items by SKU.",
    responses=IMPORT_RESPONSES,
    opt={"problems": [413]},  # a file over 5 MB
)
def import_items(
    data: Annotated[CsvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    db_session: Session,
    me: CurrentUser,
    dry_run: DryRun = False,
) -> ImportReport:
    return run_import(db_session, me, dry_run=dry_run, items=read_upload(data.file))


@post(
    "/api/v1/par-levels/import",
    guards=[can_import],
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=MAX_REQUEST_BYTES,
    tags=["inventory"],
    summary="Import par levels from a CSV file (locations by code)",
    description=IMPORT_DESCRIPTION.format(columns=",".join(PAR_COLUMNS))
    + " Locations are matched by code and created if new; a blank reorder point is half "
    "the par level, rounded up.",
    responses=IMPORT_RESPONSES,
    opt={"problems": [413]},  # a file over 5 MB
)
def import_par_levels(
    data: Annotated[CsvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    db_session: Session,
    me: CurrentUser,
    dry_run: DryRun = False,
) -> ImportReport:
    return run_import(db_session, me, dry_run=dry_run, par_levels=read_upload(data.file))


@get(
    "/api/v1/items.csv",
    guards=[can_read],
    sync_to_thread=True,
    tags=["inventory"],
    media_type="text/csv",
    summary="The catalogue as CSV, in the import's format",
    description=f"Columns: {','.join(ITEM_COLUMNS)}. Money as a plain decimal, booleans "
    "as yes/no; cells a spreadsheet would run as formulas start with an apostrophe.",
)
def items_csv(db_session: Session) -> Response[bytes]:
    return csv_download(catalogue_import.items_csv(db_session), "items.csv")


@get(
    "/api/v1/par-levels.csv",
    guards=[can_read],
    sync_to_thread=True,
    tags=["inventory"],
    media_type="text/csv",
    summary="Par levels as CSV, in the import's format",
    description=f"Columns: {','.join(PAR_COLUMNS)}; one row per item and location with a "
    "par level.",
)
def par_levels_csv(db_session: Session) -> Response[bytes]:
    return csv_download(catalogue_import.par_levels_csv(db_session), "par-levels.csv")


route_handlers: list[Any] = [import_items, import_par_levels, items_csv, par_levels_csv]
