"""Attachments of a cycle: a photo, scan or PDF of the machine's paper printout, kept in the
database (backups carry it) and never deleted. The content type is read from the bytes,
never taken from the upload's claim: a file is served as what it is."""

from __future__ import annotations

import datetime as dt
import hashlib
from http import HTTPStatus

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from kernel import audit
from kernel.problems import DomainError, InvalidInput, NotFound
from sterilization.cycle_queries import get_cycle
from sterilization.models import CycleAttachment

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ACCEPTED = "PDF, PNG, JPEG or plain text"
_TEXT_CONTROLS = set(range(0x20)) - {0x09, 0x0A, 0x0C, 0x0D}


class AttachmentTooLarge(DomainError):
    status_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def sniff_content_type(data: bytes) -> str | None:
    """The type the bytes are (PDF, PNG, JPEG or plain text), or None for anything else."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if not data or any(b in _TEXT_CONTROLS for b in data[:65536]):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "text/plain; charset=iso-8859-1"
    return "text/plain; charset=utf-8"


def clean_filename(filename: str | None, fallback: str) -> str:
    """The upload's base name without path or control characters, at most 255 long."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"').strip()
    return name[-255:] or fallback


def check_size(data: bytes) -> None:
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentTooLarge(
            f"The file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB.", field="file"
        )


def add_attachment(
    session: Session,
    cycle_id: int,
    *,
    data: bytes,
    filename: str | None,
    actor: str,
    now: dt.datetime,
) -> CycleAttachment:
    """Keep a file with the cycle. Refused: over 10 MB, empty, or not PDF/PNG/JPEG/text."""
    cycle = get_cycle(session, cycle_id)
    check_size(data)
    content_type = sniff_content_type(data)
    if content_type is None:
        raise InvalidInput.for_field(
            "file",
            f"The file is not a {ACCEPTED} file (read from its content, not its name).",
            message=f"not a {ACCEPTED} file",
        )
    attachment = CycleAttachment(
        cycle_id=cycle.id,
        filename=clean_filename(filename, "attachment"),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
        uploaded_by=actor,
        at=now,
    )
    session.add(attachment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="cycle.attach",
        entity="cycle",
        entity_id=cycle.id,
        after=audit.snapshot(attachment, exclude=("content",)),
    )
    return attachment


def list_attachments(session: Session, cycle_id: int) -> list[CycleAttachment]:
    """The cycle's attachments, oldest first, without their bytes."""
    get_cycle(session, cycle_id)
    return list(
        session.scalars(
            select(CycleAttachment)
            .options(defer(CycleAttachment.content))  # type: ignore[arg-type]
            .where(CycleAttachment.cycle_id == cycle_id)
            .order_by(CycleAttachment.at, CycleAttachment.id)
        )
    )


def get_attachment(session: Session, cycle_id: int, attachment_id: int) -> CycleAttachment:
    attachment = session.get(CycleAttachment, attachment_id)
    if attachment is None or attachment.cycle_id != cycle_id:
        raise NotFound(f"Cycle {cycle_id} has no attachment {attachment_id}.")
    return attachment


def ascii_name(attachment: CycleAttachment) -> str:
    """The file name for a `Content-Disposition` header: printable ASCII, no quotes."""
    return "".join(
        ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in attachment.filename
    )
