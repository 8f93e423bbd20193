"""The catalogue as CSV files: `POST /api/v1/items/import`, `POST /api/v1/par-levels/import`,
`POST /api/v1/packagings/import` (all or nothing, with a row-by-row report) and
`GET /api/v1/items.csv`, `GET /api/v1/par-levels.csv`, `GET /api/v1/packagings.csv` in the
same formats (`inventory.catalogue_import`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, Parameter
from sqlalchemy.orm import Session

from inventory import catalogue_import
from inventory.api.downloads import csv_attachment
from inventory.catalogue_import import (
    ITEM_COLUMNS,
    MAX_UPLOAD_BYTES,
    PACKAGING_COLUMNS,
    PAR_COLUMNS,
    ImportRejected,
    UploadTooLarge,
)
from inventory.roles import can_purchase, can_read
from inventory.schemas.catalogue_import import ImportRejectedProblem, ImportReport
from kernel.auth.service import CurrentUser

# The multipart envelope around the file (boundaries, part headers) needs a little room.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 64 * 1024


@dataclass
class CsvUpload:
    file: UploadFile


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
    report = result.items or result.par_levels or result.packagings
    assert report is not None
    if not result.accepted:
        raise ImportRejected(report)
    return report


IMPORT_DESCRIPTION = (
    "Multipart upload, field `file`: a CSV (UTF-8, with or without BOM; comma or semicolon) "
    "with the columns `{columns}`. All or nothing: a file with any bad row is refused "
    "(422) with every problem and its spreadsheet row number (the header is row 1), and "
    "nothing is written. With `dry_run=true` the report says what would be created, updated "
    "and left unchanged, and nothing is written. At most 5 MB (413)."
)


@post(
    "/api/v1/items/import",
    guards=[can_purchase],
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
    guards=[can_purchase],
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


@post(
    "/api/v1/packagings/import",
    guards=[can_purchase],
    sync_to_thread=True,
    status_code=200,
    request_max_body_size=MAX_REQUEST_BYTES,
    tags=["inventory"],
    summary="Import packaging levels from a CSV file (box, case: their GTINs and units)",
    description=IMPORT_DESCRIPTION.format(columns=",".join(PACKAGING_COLUMNS))
    + " Rows are matched by GTIN: a new GTIN adds a level to the SKU's item, a known one "
    "changes its units (only while no receipt was counted in it) and name. GTINs are unique "
    "across items' own GTINs and every level. An import never removes a level.",
    responses=IMPORT_RESPONSES,
    opt={"problems": [413]},  # a file over 5 MB
)
def import_packagings(
    data: Annotated[CsvUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    db_session: Session,
    me: CurrentUser,
    dry_run: DryRun = False,
) -> ImportReport:
    return run_import(db_session, me, dry_run=dry_run, packagings=read_upload(data.file))


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
def download_items_csv(db_session: Session) -> Response[bytes]:
    return csv_attachment(catalogue_import.items_csv(db_session), "items.csv")


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
def download_par_levels_csv(db_session: Session) -> Response[bytes]:
    return csv_attachment(catalogue_import.par_levels_csv(db_session), "par-levels.csv")


@get(
    "/api/v1/packagings.csv",
    guards=[can_read],
    sync_to_thread=True,
    tags=["inventory"],
    media_type="text/csv",
    summary="Packaging levels as CSV, in the import's format",
    description=f"Columns: {','.join(PACKAGING_COLUMNS)}; one row per packaging level, by SKU "
    "and size.",
)
def download_packagings_csv(db_session: Session) -> Response[bytes]:
    return csv_attachment(catalogue_import.packagings_csv(db_session), "packagings.csv")
