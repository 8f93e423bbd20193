"""Photos of laid-out trays, shown on the count sheet beside the instrument rows.

Only JPEG, PNG and WebP images (checked by decoding them, not by the name or the type the
client claims), at most 5 MB. Each is stored as a JPEG at most 1600 px on its long side,
turned upright and without its metadata (a phone photo's EXIF can carry the place it was
taken). A new photo does not replace the old one in the record: the newest is shown,
earlier ones stay.
"""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import InvalidInput, NotFound
from sterilization.sets.models import SetTemplate, SetTemplatePhoto

MAX_PHOTO_BYTES = 5 * 1024 * 1024
FORMATS = {"JPEG", "PNG", "WEBP"}
LONG_SIDE = 1600
JPEG = "image/jpeg"


def normalized_photo(data: bytes) -> bytes:
    """The photo as the JPEG stored and shown, or a 422 saying why it is not a photo."""
    if not data:
        raise InvalidInput.for_field("file", "The photo is empty.", message="empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput.for_field(
            "file", f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB.",
            message="too large",
        )  # fmt: skip
    unreadable = InvalidInput.for_field(
        "file", "Not a readable JPEG, PNG or WebP image.", message="not an image"
    )
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind not in FORMATS:
                raise InvalidInput.for_field(
                    "file", f"A {kind or 'unknown'} image: send a JPEG, PNG or WebP photo.",
                    message="not JPEG, PNG or WebP",
                )  # fmt: skip
            upright = ImageOps.exif_transpose(image).convert("RGB")
            upright.thumbnail((LONG_SIDE, LONG_SIDE))
            out = io.BytesIO()
            upright.save(out, format="JPEG", quality=85)
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError) as exc:  # fmt: skip
        raise unreadable from exc
    return out.getvalue()


def upload_photo(
    session: Session, code: str, *, data: bytes, actor: str, now: dt.datetime
) -> SetTemplatePhoto:
    template = session.scalar(select(SetTemplate).where(SetTemplate.code == code.strip()))
    if template is None:
        raise NotFound(f"No set template with code {code!r}.")
    stored = normalized_photo(data)
    photo = SetTemplatePhoto(
        template_id=template.id, content_type=JPEG, data=stored, uploaded_by=actor,
        uploaded_at=now,
    )  # fmt: skip
    session.add(photo)
    session.flush()
    audit.record(
        session, actor=actor, action="set_template.photo", entity="set_template",
        entity_id=template.code,
        after={"photo_id": photo.id, "bytes": len(stored)},
    )  # fmt: skip
    return photo


def latest_photo(session: Session, code: str) -> SetTemplatePhoto:
    photo = session.scalar(
        select(SetTemplatePhoto)
        .join(SetTemplate, SetTemplate.id == SetTemplatePhoto.template_id)
        .where(SetTemplate.code == code.strip())
        .order_by(SetTemplatePhoto.id.desc())
        .limit(1)
    )
    if photo is None:
        raise NotFound(f"No photo of set template {code!r}.")
    return photo
