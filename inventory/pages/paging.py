"""Reading a list page's query string: trimmed text without control characters (PostgreSQL
refuses NUL), page numbers that fall back to the first page, and the page count."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_QUERY_LENGTH = 100
MAX_ROW_ID = 2_147_483_647
T = TypeVar("T")


def clean_text(text: str) -> str:
    return CONTROL.sub("", text).strip()[:MAX_QUERY_LENGTH]


def query_text(request: Request[Any, Any, Any], name: str) -> str:
    """A query parameter, cleaned; "" when missing."""
    return clean_text(request.query_params.get(name) or "")


def page_number(text: str) -> int:
    return int(text) if text.isdigit() and 0 < len(text) < 7 else 1


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def fetch_page(
    fetch: Callable[[int, int], tuple[list[T], int]], page: int, per_page: int
) -> tuple[list[T], int, int]:
    """`fetch(limit, offset)` for page `page`: its rows, the total and the page number; a
    page past the end shows the last page instead."""
    rows, total = fetch(per_page, (page - 1) * per_page)
    if not rows and page > page_count(total, per_page):
        page = page_count(total, per_page)
        rows, total = fetch(per_page, (page - 1) * per_page)
    return rows, total, page
