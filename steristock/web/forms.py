"""Reading HTML form posts in domain pages, and the per-form nonce against double taps.

A form post arrives as a dict of strings (a repeated field, like ticked checkboxes, as a
list). These helpers pick fields out of it; the domain's own schemas and service
functions still validate the values.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from typing import Annotated, Any

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import Body

from steristock import idempotency
from steristock.problems import InvalidInput

# Handlers take `data: FormData`: the url-encoded body as a dict.
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]

# Longer than any field of the domain schemas: refused before validation.
MAX_FIELD_LENGTH = 4000


def form_text(data: dict[str, Any], name: str) -> str:
    """A single text field, stripped; "" when missing (the last value if repeated)."""
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    text = str(value).strip()
    if len(text) > MAX_FIELD_LENGTH:
        raise InvalidInput(f"The field {name!r} is too long.")
    return text


def form_list(data: dict[str, Any], name: str) -> list[str]:
    """Every value of a repeated field (ticked checkboxes), stripped, blanks dropped."""
    value = data.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def form_checked(data: dict[str, Any], name: str) -> bool:
    """A checkbox: present (any value but "false"/"no"/"0") means ticked."""
    return form_text(data, name).lower() not in ("", "false", "no", "0", "off")


def convert_form(values: dict[str, Any], schema: type[Any], labels: dict[str, str]) -> Any:
    """Validate form values against a domain's request schema (strings are converted:
    "3" to 3, "2027-01-31" to a date); a bad value becomes a 422 naming the field the way
    the form labels it."""
    try:
        return msgspec.convert(values, schema, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        for field, label in labels.items():
            if f"`$.{field}`" in message:
                reason = message.split(" - at ")[0]
                raise InvalidInput(f"{label}: {reason.rstrip('.').lower()}.") from exc
        raise InvalidInput(f"Check the form: {message}") from exc


def new_nonce() -> str:
    """A fresh key for one rendering of a form: a double tap sends the same one twice."""
    return uuid.uuid4().hex


def run_once(
    session: Any,
    *,
    me: Any,
    nonce: str,
    scope: str,
    payload: dict[str, Any],
    action: Any,
) -> tuple[bool, Any]:
    """Run `action` once per form nonce (the `Idempotency-Key` machinery of the API), so
    a double tap or a resent form writes nothing more. Returns (repeated, result): the
    action's result (JSON-decoded), or on a repeat the result stored by the first post."""
    if not nonce:
        return False, msgspec.json.decode(msgspec.json.encode(action()))
    response = idempotency.respond(
        session, me=me, key=nonce, scope=scope, payload=payload, status_code=200, action=action
    )
    repeated = response.headers.get(idempotency.REPLAY_HEADER) == "true"
    return repeated, msgspec.json.decode(response.content)


# Per-field validation, for forms that show each error next to its field ---------------

_BOUND = re.compile(r"Expected `(?:int|float|decimal)` (>=|<=|>|<) (-?[\d.]+)")
_LENGTH = re.compile(r"Expected `str` of length (>=|<=) (\d+)")


def _plain_reason(message: str, name: str, hints: dict[str, str]) -> str:
    """A msgspec complaint in words a clinic user reads ("Must be at most 365.")."""
    reason = message.split(" - at ")[0].replace(" | null`", "`")
    if bound := _BOUND.match(reason):
        op, limit = bound.groups()
        words = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}[op]
        return f"Must be {words} {limit}."
    if length := _LENGTH.match(reason):
        op, limit = length.groups()
        return f"Use at most {limit} characters." if op == "<=" else hints.get(name, "Required.")
    if "matching regex" in reason:
        return hints.get(name, "Not a valid value here.")
    if reason.startswith("Expected `int`"):
        return "Enter a whole number."
    if reason.startswith(("Expected `decimal`", "Invalid decimal")):
        return "Enter a number, like 7.50."
    if reason.startswith("Expected `bool`"):
        return "Tick or untick the box."
    return hints.get(name, reason)


def convert_form_fields(
    values: dict[str, Any],
    schema: type[Any],
    *,
    required: Collection[str] = (),
    hints: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check each form value against the type its field has in a domain schema, so every
    bad field gets its own message (msgspec stops at the first). A blank value is
    "Required." when the field is in `required`, else None. Returns (converted values,
    errors by field name); build the schema from the values when there are no errors."""
    hints = hints or {}
    fields = {f.name: f for f in msgspec.structs.fields(schema)}
    converted: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            if name in required:
                errors[name] = "Required."
            else:
                converted[name] = None
            continue
        try:
            converted[name] = msgspec.convert(value, fields[name].type, strict=False)
        except msgspec.ValidationError as exc:
            errors[name] = _plain_reason(str(exc), name, hints)
    return converted, errors


def error_field(exc: Exception) -> str | None:
    """The field a domain error names in its problem's `errors` (`field_error`), if any."""
    for error in getattr(exc, "extra", {}).get("errors", []):
        if isinstance(error, dict) and error.get("field"):
            return str(error["field"])
    return None
