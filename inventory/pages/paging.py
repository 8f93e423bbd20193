"""Reading a list page's query string: trimmed text without control characters (PostgreSQL
refuses NUL), page numbers that fall back to the first page, and the page count."""

from __future__ import annotations

import math
import re
from typing import Any

from litestar import Request

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_QUERY_LENGTH = 100
MAX_ROW_ID = 2_147_483_647


def clean_text(text: str) -> str:
    return CONTROL.sub("", text).strip()[:MAX_QUERY_LENGTH]


def query_text(request: Request[Any, Any, Any], name: str) -> str:
    """A query parameter, cleaned; "" when missing."""
    return clean_text(request.query_params.get(name) or "")


def page_number(text: str) -> int:
    return int(text) if text.isdigit() and 0 < len(text) < 7 else 1


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))
