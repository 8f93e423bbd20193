"""The sterilizer's own record on the tablet (SPEC section 8): "Attach the machine's record"
on a cycle's page (a record file, or a photo of the paper printout taken with the tablet's
camera), an attachment's bytes, and "Import records" for several files at once with a
result per file.

Handlers are thin: the rules are `record_import` and `attachments` (the API's functions,
audited). An upload is read whole (at most 10 MB a file) before anything is written.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.problems import DomainError
from kernel.web.templating import redirect_with_flash, render_page
from sterilization import attachments, record_import, sterilizers
from sterilization.attachments import MAX_ATTACHMENT_BYTES
from sterilization.guards import ma_or_admin
from sterilization.models import Sterilizer
from sterilization.pages.cycles import known_cycle
from sterilization.record_import import FileOutcome

IMPORT_PAGE = "/records/import"
MAX_FILES = 500
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
MEGABYTES = MAX_ATTACHMENT_BYTES // (1024 * 1024)
STATUS_TAGS = {"imported": "ok", "already imported": "info", "refused": "stop"}


def _uploads(value: Any) -> list[UploadFile]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, UploadFile) and (v.filename or "").strip()]


def _read(upload: UploadFile) -> bytes | None:
    """The file's bytes, or None when it is over the limit (never read further)."""
    content = upload.file.read(MAX_ATTACHMENT_BYTES + 1)
    return None if len(content) > MAX_ATTACHMENT_BYTES else content


# One cycle: attach the machine's record ----------------------------------------------


@post(
    "/cycles/{cycle_id:int}/attachments",
    guards=[ma_or_admin],
    sync_to_thread=True,
    request_max_body_size=MAX_ATTACHMENT_BYTES + 64 * 1024,
)
def attach_to_cycle(
    request: Request[Any, Any, Any],
    cycle_id: int,
    data: MultipartForm,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Redirect:
    """A record file is imported (it finds its cycle by the machine's number or start);
    anything else (a photo, a scan, a PDF) is attached to this cycle."""
    cycle = known_cycle(db_session, cycle_id)
    path = f"/cycles/{cycle.id}"
    files = _uploads(data.get("file"))
    if not files:
        return redirect_with_flash(request, path, "Choose a file or take a photo.", "error")
    upload = files[0]
    content = _read(upload)
    if content is None:
        return redirect_with_flash(
            request, path, f"{upload.filename} is larger than {MEGABYTES} MB.", "error"
        )
    try:
        if record_import.is_record(content, upload.filename):
            sterilizer = db_session.get(Sterilizer, cycle.sterilizer_id)
            assert sterilizer is not None
            result = record_import.import_record(
                db_session, content, filename=upload.filename, sterilizer_code=sterilizer.code,
                actor=me.username, zone=clock.zone, now=clock.now(),
            )  # fmt: skip
            outcome = FileOutcome(upload.filename or "record", result=result)
            target = result.record.cycle_id or cycle.id
            db_session.commit()
            level = "warning" if result.discrepancies or target != cycle.id else "success"
            return redirect_with_flash(request, f"/cycles/{target}", outcome.line, level)
        attachments.add_attachment(
            db_session, cycle.id, data=content, filename=upload.filename, actor=me.username,
            now=clock.now(),
        )  # fmt: skip
    except DomainError as error:
        db_session.rollback()
        return redirect_with_flash(request, path, error.detail, "error")
    db_session.commit()
    return redirect_with_flash(request, path, f"Attached {upload.filename}.")


@get(
    "/cycles/{cycle_id:int}/attachments/{attachment_id:int}",
    guards=[any_role],
    sync_to_thread=True,
)
def attachment_file(cycle_id: int, attachment_id: int, db_session: Session) -> Response[bytes]:
    known_cycle(db_session, cycle_id)
    attachment = attachments.get_attachment(db_session, cycle_id, attachment_id)
    media_type, _, charset = attachment.content_type.partition("; charset=")
    return Response(
        attachment.content,
        media_type=media_type,
        encoding=charset or "utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{attachments.ascii_name(attachment)}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


# Several records at once -------------------------------------------------------------


def render_import(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    outcomes: list[FileOutcome] | None = None,
    error: str | None = None,
    sterilizer: str = "",
    status_code: int = 200,
) -> Template:
    return render_page(
        request,
        "sterilization/records_import.html",
        status_code=status_code,
        outcomes=outcomes,
        error=error,
        sterilizer=sterilizer,
        sterilizer_options=[
            (s.code, f"{s.name} ({s.code})") for s in sterilizers.list_sterilizers(session)
        ],
        status_tags=STATUS_TAGS,
        max_megabytes=MEGABYTES,
    )


@get(IMPORT_PAGE, guards=[ma_or_admin], sync_to_thread=True)
def records_import_page(request: Request[Any, Any, Any], db_session: Session) -> Template:
    return render_import(request, db_session)


@post(
    IMPORT_PAGE,
    guards=[ma_or_admin],
    sync_to_thread=True,
    request_max_body_size=50 * 1024 * 1024,
)
def import_records(
    request: Request[Any, Any, Any],
    data: MultipartForm,
    db_session: Session,
    me: CurrentUser,
    clock: Clock,
) -> Template:
    """Each file imported on its own; the table says what became of every one."""
    sterilizer = str(data.get("sterilizer") or "").strip()
    files = _uploads(data.get("files"))
    if not files:
        return render_import(
            request, db_session, error="Choose the record files.", sterilizer=sterilizer,
            status_code=422,
        )  # fmt: skip
    if len(files) > MAX_FILES:
        return render_import(
            request, db_session, error=f"At most {MAX_FILES} files at once.",
            sterilizer=sterilizer, status_code=422,
        )  # fmt: skip
    readable: list[tuple[str, bytes]] = []
    too_large: list[FileOutcome] = []
    for upload in files:
        name = upload.filename or "record"
        content = _read(upload)
        if content is None:
            too_large.append(FileOutcome(name, error=f"larger than {MEGABYTES} MB"))
        else:
            readable.append((name, content))
    outcomes = record_import.import_files(
        db_session, readable, sterilizer_code=sterilizer or None, actor=me.username,
        zone=clock.zone, now=clock.now(),
    )  # fmt: skip
    db_session.commit()
    return render_import(
        request, db_session, outcomes=[*outcomes, *too_large], sterilizer=sterilizer
    )


page_handlers: list[Any] = [
    attach_to_cycle,
    attachment_file,
    records_import_page,
    import_records,
]
