"""Constrained input types shared by every API schema and parameter.

Every string a client sends is bounded and refuses control characters: PostgreSQL cannot
store NUL in text (it would be a 500, not a 4xx), none belongs on a label or in a CSV, and
an unbounded string is a free memory and disk sink. Every integer id fits PostgreSQL's
32-bit `integer`, so an id of 10**30 is a 4xx, not an overflow inside the driver.
`tests/security/test_fuzz_openapi.py::test_every_request_string_is_bounded_and_printable` walks the
OpenAPI schema and fails on any request string or id that escapes these rules.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar.params import Parameter, QueryParameter

MAX_ID = 2_147_483_647  # PostgreSQL `integer`
# Offsets are bounded too: a 100-digit offset overflows SQLite's and PostgreSQL's bigint.
MAX_OFFSET = 2_147_483_647

# No C0 control characters and no DEL; names and lots need something besides spaces.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
NOT_BLANK = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
# Notes may run over several lines: tab, LF and CR are allowed, other controls are not.
MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

# Scanners send GS1's FNC1 as ASCII 29 (group separator); no other control character.
SCANNED = r"^[^\x00-\x1c\x1e\x1f\x7f]*$"

# Path and query parameters. A body field is `Text(200, min_length=1)`.
RowId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
# A SKU, pack or location code, username or encounter reference in a path.
PathKey = Annotated[str, Parameter(min_length=1, max_length=100, pattern=PRINTABLE)]


def Text(max_length: int, *, min_length: int = 0, pattern: str = PRINTABLE) -> Any:
    """A bounded, printable body string (a msgspec-constrained `str`)."""
    return Annotated[
        str, msgspec.Meta(min_length=min_length, max_length=max_length, pattern=pattern)
    ]


def QueryText(max_length: int, **kwargs: Any) -> Any:
    """An optional, bounded, printable query parameter."""
    kwargs.setdefault("pattern", PRINTABLE)
    return Annotated[str | None, Parameter(max_length=max_length, **kwargs)]


# `?from=` (a Python keyword): a date or date-time with offset, parsed by the handler.
# An e-mail address (users, notifications): one @, no spaces or control characters.
Email = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
]
FromParam = Annotated[str | None, QueryParameter(name="from", max_length=40, pattern=PRINTABLE)]
