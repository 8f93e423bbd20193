"""`/api/v1/set-templates/{code}/photo`: a photo of the laid-out tray for the count sheet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, get, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import PathKey
from sterilization.guards import ma_or_admin
from sterilization.sets import photos
from sterilization.sets.models import SetTemplatePhoto
from sterilization.sets.schemas import PhotoOut

MAX_REQUEST_BYTES = photos.MAX_PHOTO_BYTES + 64 * 1024


@dataclass
class PhotoUpload:
    file: UploadFile


def photo_response(photo: SetTemplatePhoto) -> Response[bytes]:
    return Response(
        photo.data,
        media_type=photos.JPEG,
        headers={"Cache-Control": "private, max-age=300"},
    )


class SetTemplatePhotoController(Controller):
    path = "/api/v1/set-templates"
    tags = ["instrument sets"]

    @put(
        "/{code:str}/photo",
        guards=[ma_or_admin],
        sync_to_thread=True,
        request_max_body_size=MAX_REQUEST_BYTES,
        summary="Upload a photo of the laid-out tray (JPEG, PNG or WebP, up to 5 MB)",
        opt={"problems": [413]},
    )
    def upload_set_template_photo(
        self,
        code: PathKey,
        data: Annotated[PhotoUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
    ) -> PhotoOut:
        content = data.file.file.read(photos.MAX_PHOTO_BYTES + 1)
        photo = photos.upload_photo(
            db_session, code, data=content, actor=me.username, now=clock.now()
        )
        return PhotoOut(
            template=code, url=f"/api/v1/set-templates/{code}/photo", bytes=len(photo.data),
            uploaded_by=photo.uploaded_by, uploaded_at=photo.uploaded_at,
        )  # fmt: skip

    @get(
        "/{code:str}/photo",
        guards=[any_role],
        sync_to_thread=True,
        media_type=photos.JPEG,
        summary="The newest photo of the laid-out tray (JPEG)",
    )
    def download_set_template_photo(self, code: PathKey, db_session: Session) -> Response[bytes]:
        return photo_response(photos.latest_photo(db_session, code))
