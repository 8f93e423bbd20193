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


# Errors next to the fields -------------------------------------------------------------
# msgspec stops at the first bad field; a form shows every bad field at once, each in
# words for the person filling it in.

_NUMBER = r"Expected `(?:int|float|decimal)`"
_MESSAGES = [
    (re.compile(r"Expected `str` of length >= 1\b"), "Required."),
    (re.compile(r"Expected `str` of length >= (\d+)"), "At least {0} characters."),
    (re.compile(r"Expected `str` of length <= (\d+)"), "At most {0} characters."),
    (re.compile(r"Expected `str` matching regex"), "Contains characters that are not allowed."),
    (re.compile(r"Invalid enum value"), "Choose one of the options."),
    (re.compile(_NUMBER + r" >= (-?[\d.]+)"), "Must be at least {0}."),
    (re.compile(_NUMBER + r" <= (-?[\d.]+)"), "Must be at most {0}."),
    (re.compile(_NUMBER + r" > (-?[\d.]+)"), "Must be more than {0}."),
    (re.compile(_NUMBER + r" < (-?[\d.]+)"), "Must be less than {0}."),
    (re.compile(r"Expected `int`"), "Must be a whole number."),
    (re.compile(r"Expected `decimal`|Invalid decimal"), "Enter a number, like 7.50."),
    (re.compile(r"Expected `date`|encoded date"), "Must be a date (YYYY-MM-DD)."),
    (re.compile(r"Expected `bool`"), "Must be yes or no."),
]
_INT_ABOVE = re.compile(r"Expected `int` > (-?\d+)")  # an int above N is at least N + 1
# Refusals a field's own hint ("A GTIN has 8, 12, 13 or 14 digits.") explains better.
_FORMAT_REFUSALS = ("matching regex", "of length >= ")


def friendly_message(message: str, hint: str | None = None) -> str:
    """A msgspec validation message in words for the person filling in the form."""
    reason = message.split(" - at ")[0].replace(" | null`", "`")
    if hint and any(word in reason for word in _FORMAT_REFUSALS):
        return hint
    if above := _INT_ABOVE.search(reason):
        return f"Must be at least {int(above.group(1)) + 1}."
    for pattern, text in _MESSAGES:
        if found := pattern.search(reason):
            return text.format(*found.groups())
    return hint or reason.rstrip(".") + "."


def convert_form_fields(
    values: dict[str, Any],
    schema: type[Any],
    *,
    required: Collection[str] = (),
    hints: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check each form value against the type its field has in a domain schema, so every
    bad field gets its own message. A blank value is "Required." when the field is in
    `required`, else None. Returns (converted values, errors by field name); build the
    schema from the values when there are no errors."""
    hints = hints or {}
    fields = {f.encode_name: f for f in msgspec.structs.fields(schema)}
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
            errors[name] = friendly_message(str(exc), hints.get(name))
    return converted, errors


def field_errors(values: dict[str, Any], schema: type[Any]) -> dict[str, str]:
    """Every field of `values` the request schema refuses; a field the schema requires
    that is missing or blank is "Required."."""
    required = {f.encode_name for f in msgspec.structs.fields(schema) if f.required}
    missing = {name: "Required." for name in required if name not in values}
    return {**missing, **convert_form_fields(values, schema, required=required)[1]}


def domain_field_errors(exc: Exception) -> dict[str, str]:
    """The `errors` a domain rule attached to its refusal (`{"field": ..., "message": ...}`),
    by field, so a page can show them next to the fields."""
    extra = getattr(exc, "extra", None) or {}
    found = [e for e in extra.get("errors", []) if isinstance(e, dict) and e.get("field")]
    detail = str(getattr(exc, "detail", ""))
    if len(found) == 1:  # the refusal's own sentence says more than a terse "invalid"
        return {str(found[0]["field"]): detail or str(found[0].get("message", ""))}
    return {str(e["field"]): str(e.get("message") or detail) for e in found}


def error_field(exc: Exception) -> str | None:
    """The first field a domain error names in its problem's `errors`, if any."""
    return next(iter(domain_field_errors(exc)), None)
