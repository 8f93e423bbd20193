"""CSV files as downloads: the API and the pages answer with the same bytes and name."""

from __future__ import annotations

from litestar import Response

from kernel.csv_export import MEDIA_TYPE


def csv_attachment(text: str, filename: str) -> Response[bytes]:
    return Response(
        content=text.encode(),
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
