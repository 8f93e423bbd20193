"""`/catalogue/import`: upload the items, par-levels and/or packagings CSV, read the
dry-run report as a table, then confirm to import the same files.

The checked files wait in `catalogue_uploads` under a random token (any app worker can
serve the confirm; nothing lives in one process's memory). The confirm checks them again,
in the transaction that writes them, so a catalogue changed in between is caught; it
deletes the upload, so a double click imports once. Purchasing and admin only.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inventory import catalogue_import
from inventory.api.downloads import csv_attachment
from inventory.catalogue_import import MAX_UPLOAD_BYTES, UploadTooLarge
from inventory.models import CatalogueUpload
from inventory.roles import can_purchase
from inventory.schemas.catalogue_import import CatalogueImport
from kernel.auth.service import CurrentUser
from kernel.db import utcnow
from kernel.web.forms import form_text
from kernel.web.templating import redirect_with_flash, render_page

PAGE = "/catalogue/import"
UPLOAD_LIFETIME = dt.timedelta(days=1)
MAX_ROWS_SHOWN = 1000  # per file; unchanged rows are only counted
ACTION_TAGS = {"create": ("ok", "create"), "update": ("warn", "update"),
               "unchanged": ("info", "unchanged"), "rejected": ("stop", "rejected")}  # fmt: skip
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def render_import(
    request: Request[Any, Any, Any],
    *,
    result: CatalogueImport | None = None,
    token: str | None = None,
    names: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    reports = (
        [r for r in (result.items, result.par_levels, result.packagings) if r] if result else []
    )
    return render_page(
        request,
        "inventory/catalogue_import.html",
        status_code=status_code,
        result=result,
        reports=reports,
        token=token,
        names=names or {},
        error=error,
        action_tags=ACTION_TAGS,
        max_rows_shown=MAX_ROWS_SHOWN,
        max_megabytes=MAX_UPLOAD_BYTES // (1024 * 1024),
    )


@get(PAGE, guards=[can_purchase], sync_to_thread=False)
def import_page(request: Request[Any, Any, Any]) -> Template:
    return render_import(request)


def _uploaded(value: Any) -> tuple[str, bytes] | None:
    """(file name, content) of a file input; None when the input was left empty."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if not isinstance(value, UploadFile):
        return None
    content = value.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(
            f"{value.filename} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
        )
    if not content and not value.filename:
        return None
    return (value.filename or "upload.csv")[:200], content


@post(
    PAGE,
    guards=[can_purchase],
    sync_to_thread=True,
    request_max_body_size=3 * MAX_UPLOAD_BYTES + 64 * 1024,
)
def check_upload(
    request: Request[Any, Any, Any], data: MultipartForm, db_session: Session, me: CurrentUser
) -> Template:
    """The dry run: the report, and (if every row is fine) the files kept for the confirm."""
    try:
        items = _uploaded(data.get("items_file"))
        par_levels = _uploaded(data.get("par_levels_file"))
        packagings = _uploaded(data.get("packagings_file"))
    except UploadTooLarge as exc:
        return render_import(request, error=exc.detail, status_code=413)
    if items is None and par_levels is None and packagings is None:
        return render_import(
            request,
            error="Choose an items file, a par-levels file or a packagings file.",
            status_code=422,
        )
    result = catalogue_import.import_catalogue(
        db_session,
        actor=me.username,
        items=items[1] if items else None,
        par_levels=par_levels[1] if par_levels else None,
        packagings=packagings[1] if packagings else None,
        dry_run=True,
    )
    names = {
        "items": items[0] if items else "",
        "par_levels": par_levels[0] if par_levels else "",
        "packagings": packagings[0] if packagings else "",
    }
    if not result.accepted:
        return render_import(request, result=result, names=names, status_code=422)
    db_session.execute(
        delete(CatalogueUpload).where(CatalogueUpload.created_at < utcnow() - UPLOAD_LIFETIME)
    )
    token = secrets.token_urlsafe(32)
    db_session.add(
        CatalogueUpload(
            token=token,
            username=me.username,
            items_name=items[0] if items else None,
            items_csv=items[1].decode("utf-8-sig") if items else None,
            par_levels_name=par_levels[0] if par_levels else None,
            par_levels_csv=par_levels[1].decode("utf-8-sig") if par_levels else None,
            packagings_name=packagings[0] if packagings else None,
            packagings_csv=packagings[1].decode("utf-8-sig") if packagings else None,
        )
    )
    return render_import(request, result=result, token=token, names=names)


def _summary(result: CatalogueImport) -> str:
    parts = []
    for label, report in (
        ("items", result.items),
        ("par levels", result.par_levels),
        ("packaging levels", result.packagings),
    ):
        if report is not None:
            parts.append(
                f"{label}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged"
            )
    return "Imported " + "; ".join(parts) + "."


@post(f"{PAGE}/confirm", guards=[can_purchase], sync_to_thread=True)
def confirm_import(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    db_session: Session,
    me: CurrentUser,
) -> Response[Any]:
    token = form_text(data, "token")
    upload = db_session.scalar(
        select(CatalogueUpload).where(
            CatalogueUpload.token == token,
            CatalogueUpload.username == me.username,
            CatalogueUpload.created_at >= utcnow() - UPLOAD_LIFETIME,
        )
    )
    # Deleted first: a second click (or a second worker) finds it gone and imports nothing.
    taken = (
        upload is not None
        and db_session.execute(
            delete(CatalogueUpload).where(CatalogueUpload.id == upload.id)
        ).rowcount
    )
    if upload is None or not taken:
        return redirect_with_flash(
            request, PAGE,
            "That upload was already imported or has expired; upload the files again.", "info",
        )  # fmt: skip
    result = catalogue_import.import_catalogue(
        db_session,
        actor=me.username,
        items=upload.items_csv.encode() if upload.items_csv is not None else None,
        par_levels=upload.par_levels_csv.encode() if upload.par_levels_csv is not None else None,
        packagings=upload.packagings_csv.encode() if upload.packagings_csv is not None else None,
    )
    if not result.accepted:  # the catalogue changed since the dry run
        db_session.rollback()
        names = {
            "items": upload.items_name or "",
            "par_levels": upload.par_levels_name or "",
            "packagings": upload.packagings_name or "",
        }
        return render_import(
            request, result=result, names=names, status_code=422,
            error="The catalogue changed since the check: these rows no longer import. "
            "Nothing was written.",
        )  # fmt: skip
    return redirect_with_flash(request, PAGE, _summary(result))


@get(f"{PAGE}/items.csv", guards=[can_purchase], sync_to_thread=True, media_type="text/csv")
def download_items_csv_page(db_session: Session) -> Response[bytes]:
    """The API's export, with the session cookie: a starting point to edit."""
    return csv_attachment(catalogue_import.items_csv(db_session), "items.csv")


@get(f"{PAGE}/par-levels.csv", guards=[can_purchase], sync_to_thread=True, media_type="text/csv")
def download_par_levels_csv_page(db_session: Session) -> Response[bytes]:
    return csv_attachment(catalogue_import.par_levels_csv(db_session), "par-levels.csv")


@get(f"{PAGE}/packagings.csv", guards=[can_purchase], sync_to_thread=True, media_type="text/csv")
def download_packagings_csv_page(db_session: Session) -> Response[bytes]:
    return csv_attachment(catalogue_import.packagings_csv(db_session), "packagings.csv")


page_handlers: list[Any] = [
    import_page,
    check_upload,
    confirm_import,
    download_items_csv_page,
    download_par_levels_csv_page,
    download_packagings_csv_page,
]
