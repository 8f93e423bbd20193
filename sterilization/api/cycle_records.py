"""The sterilizer's own record (SPEC section 8): `POST /api/v1/cycle-records` imports a
machine's cycle record file; `/api/v1/cycles/{id}/attachments` keeps photos, scans and
PDFs of paper printouts. Both are kept in the database and never deleted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import RowId
from kernel.problems import InvalidInput
from sterilization import attachments, record_import
from sterilization.api.never_deleted import deletion_refused
from sterilization.attachments import MAX_ATTACHMENT_BYTES, AttachmentTooLarge
from sterilization.guards import ma_or_admin
from sterilization.record_schemas import AttachmentOut, CycleRecordImported, Discrepancy
from sterilization.responses import attachment_out

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# The multipart envelope around the file (boundaries, part headers) needs a little room.
MAX_REQUEST_BYTES = MAX_ATTACHMENT_BYTES + 64 * 1024
MEGABYTES = MAX_ATTACHMENT_BYTES // (1024 * 1024)


@dataclass
class RecordUpload:
    file: UploadFile
    sterilizer: str | None = None


def sterilizer_code(value: str | None) -> str | None:
    """The optional `sterilizer` form field: a sterilizer code or nothing (a multipart
    field's bounds are not in the schema, so they are checked here)."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > 40 or not CODE_PATTERN.fullmatch(value):
        raise InvalidInput.for_field(
            "sterilizer", "sterilizer must be a sterilizer code (letters, digits, . _ -).",
            message="not a sterilizer code",
        )  # fmt: skip
    return value


@dataclass
class AttachmentUpload:
    file: UploadFile


def read_upload(upload: UploadFile) -> bytes:
    content = upload.file.read(MAX_ATTACHMENT_BYTES + 1)
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise AttachmentTooLarge(f"The file is larger than {MEGABYTES} MB.", field="file")
    return content


def imported_out(result: record_import.ImportResult) -> CycleRecordImported:
    row = result.record
    return CycleRecordImported(
        sterilizer=result.sterilizer_code,
        cycle_number=row.machine_cycle_number,
        started_at=row.started_at,
        ended_at=row.ended_at,
        program=row.program,
        outcome=row.outcome,
        cycle_id=row.cycle_id,
        created=result.created,
        sha256=row.sha256,
        imported=result.imported,
        matched_by=result.matched_by,
        program_kind=row.program_kind,
        discrepancies=[Discrepancy(**d) for d in result.discrepancies],
    )


class CycleRecordController(Controller):
    path = "/api/v1/cycle-records"
    tags = ["sterilization"]

    @post(
        "/",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        request_max_body_size=MAX_REQUEST_BYTES,
        summary="Import a sterilizer's own cycle record (Tuttnauer Elara .txt, Sirona DAC)",
        description=(
            "Multipart: `file` (the machine's record), optional `sterilizer` (code; the "
            "record's serial number must be that sterilizer's). The record is attached to "
            "the cycle with its machine cycle number, else the one started within 15 "
            "minutes of it; typed values are never overwritten, differences are listed in "
            "`discrepancies`. Without such a cycle one is created from the record "
            "(`created: true`). The same bytes again write nothing (`imported: false`, "
            f"same `cycle_id`). Unknown content, a broken record or a wrong serial: 422. "
            f"At most {MEGABYTES} MB (413)."
        ),
        opt={"problems": [413]},
    )
    def import_cycle_record(
        self,
        data: Annotated[RecordUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> CycleRecordImported:
        result = record_import.import_record(
            db_session,
            read_upload(data.file),
            filename=data.file.filename,
            sterilizer_code=sterilizer_code(data.sterilizer),
            actor=me.username,
            zone=clock.zone,
            now=clock.now(),
        )
        return imported_out(result)


class CycleAttachmentController(Controller):
    path = "/api/v1/cycles/{cycle_id:int}/attachments"
    tags = ["sterilization"]

    @post(
        "/",
        guards=[ma_or_admin],
        sync_to_thread=True,
        request_max_body_size=MAX_REQUEST_BYTES,
        summary="Attach a photo, scan or PDF of the cycle's printout",
        description=(
            f"Multipart `file`: PDF, PNG, JPEG or plain text, at most {MEGABYTES} MB (413). "
            "The type is read from the content, not the name. Kept for good: never deleted."
        ),
        opt={"problems": [413]},
    )
    def upload_cycle_attachment(
        self,
        cycle_id: RowId,
        data: Annotated[AttachmentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> AttachmentOut:
        attachment = attachments.add_attachment(
            db_session,
            cycle_id,
            data=read_upload(data.file),
            filename=data.file.filename,
            actor=me.username,
            now=clock.now(),
        )
        return attachment_out(attachment)

    @get("/", guards=[any_role], sync_to_thread=True, summary="The cycle's attachments")
    def list_cycle_attachments(self, cycle_id: RowId, db_session: Session) -> list[AttachmentOut]:
        return [attachment_out(a) for a in attachments.list_attachments(db_session, cycle_id)]

    @get(
        "/{attachment_id:int}",
        guards=[any_role],
        sync_to_thread=True,
        media_type="application/octet-stream",
        summary="An attachment's bytes, as the type read from them",
    )
    def download_cycle_attachment(
        self, cycle_id: RowId, attachment_id: RowId, db_session: Session
    ) -> Response[bytes]:
        attachment = attachments.get_attachment(db_session, cycle_id, attachment_id)
        disposition = (
            "inline" if attachment.content_type != "application/octet-stream" else ("attachment")
        )
        media_type, _, charset = attachment.content_type.partition("; charset=")
        name = attachments.ascii_name(attachment)
        return Response(
            attachment.content,
            media_type=media_type,
            encoding=charset or "utf-8",
            headers={
                "Content-Disposition": f'{disposition}; filename="{name}"',
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, max-age=3600",
            },
        )

    @delete(
        "/{attachment_id:int}",
        guards=[any_role],
        include_in_schema=False,
        status_code=405,
        sync_to_thread=False,
    )
    def delete_cycle_attachment(self, cycle_id: RowId, attachment_id: RowId) -> None:
        raise deletion_refused("Cycle attachments")
