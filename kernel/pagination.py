"""The list envelope every collection endpoint returns: items, total, limit, offset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import Parameter
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kernel.fields import MAX_OFFSET

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
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> PageParams:
    """Litestar dependency for `limit`/`offset` query parameters, validated."""
    return PageParams(limit=limit, offset=offset)


def paginate(
    session: Session, statement: Select[Any], page: PageParams, to_out: Callable[[Any], T]
) -> Page[T]:
    """One page of an ordered ORM select, with the total of the whole (filtered) result."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.limit(page.limit).offset(page.offset))
    return Page(
        items=[to_out(row) for row in rows], total=total or 0, limit=page.limit, offset=page.offset
    )
