"""The list envelope every collection endpoint returns: items, total, limit, offset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import Parameter

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def provide_page_params(
    limit: Annotated[
        int, Parameter(ge=1, le=MAX_LIMIT, description="Rows per page")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Parameter(ge=0, description="Rows to skip")] = 0,
) -> PageParams:
    """Litestar dependency for `limit`/`offset` query parameters, validated."""
    return PageParams(limit=limit, offset=offset)
