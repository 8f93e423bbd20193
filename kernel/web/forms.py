"""Page forms: reading the post, checking it against the API's schema, and `submit_form`.

A form post arrives as a dict of strings (a repeated field, like ticked checkboxes, as a
list). These helpers pick fields out of it; the domain's own schemas and service
functions still validate the values. Every page form then goes the same way, which
`submit_form` does once:

    values = {k: form_text(data, k) for k in ("name", "kind")}
    converted, errors = convert_form_fields(values, SterilizerCreate, required={"name"})
    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /admin/sterilizers",
        errors=errors,                       # the schema's refusals, by field
        action=lambda: sterilizers.create(db_session, ...).code,   # runs once per nonce
        rerender=lambda refusal: render_sterilizers(request, db_session, values=values,
                                                    errors=refusal.errors, error=refusal.message,
                                                    status_code=refusal.status_code),
        done=lambda code: (f"/admin/sterilizers/{code}", f"Added {code}."),
    )

A refused form comes back (422 for the schema, the rule's status for a `DomainError`,
after a rollback) with each message next to the field the error names
(`DomainError.field`, never guessed from its wording); a double tap writes nothing more
and says so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body

from kernel import idempotency
from kernel.problems import DomainError, InvalidInput
from kernel.web.templating import redirect_with_flash

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
    """The fields a domain refusal names (`DomainError.field` / its problem's `errors`),
    with their messages, so a page can show them next to the fields."""
    if isinstance(exc, DomainError):
        return exc.field_errors()
    return {}


def error_field(exc: Exception) -> str | None:
    """The first field a domain error names, if any."""
    return next(iter(domain_field_errors(exc)), None)


# The whole post -------------------------------------------------------------------------

T = TypeVar("T")
ALREADY_DONE = "Already done: that form was sent twice; nothing more changed."
NOT_FINGERPRINTED = ("_csrf_token", "nonce")


@dataclass(frozen=True)
class FormRefusal:
    """Why a form is shown again: messages by field, one above the form, the status, and
    the rule's refusal itself (`error`, None for the schema's), whose structured details
    (`extra`) a form with rows or lines maps onto its own fields."""

    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    status_code: int = 422
    error: DomainError | None = None


def form_fingerprint(
    data: Mapping[str, Any], secret_fields: Collection[str] = ()
) -> dict[str, Any]:
    """The post as stored against double taps: without the CSRF token, the nonce, and any
    secret (a fingerprint of a password must not end up in the database)."""
    skip = {*NOT_FINGERPRINTED, *secret_fields}
    return {k: v for k, v in data.items() if k not in skip}


def refusal_for(
    exc: DomainError, *, fallback_field: str | None = None, only_field: str | None = None
) -> FormRefusal:
    """How a page shows a rule's refusal: next to the field it names; else next to
    `fallback_field`, else above the form. `only_field`: a one-field form, where the
    refusal is always shown at that field (the rule's message for it when it has one)."""
    errors = exc.field_errors()
    if only_field is not None:
        errors = {only_field: errors.get(only_field) or exc.detail}
    elif not errors and fallback_field is not None:
        errors = {fallback_field: exc.detail}
    return FormRefusal(errors, None if errors else exc.detail, int(exc.status_code), exc)


def submit_form(
    request: Request[Any, Any, Any],
    session: Any,
    *,
    me: Any,
    data: Mapping[str, Any],
    scope: str,
    action: Callable[[], T],
    rerender: Callable[[FormRefusal], Response[Any]],
    done: Callable[[T], tuple[str, str] | tuple[str, str, str]],
    errors: Mapping[str, str] | None = None,
    again: str | Callable[[T], str] = ALREADY_DONE,
    fallback_field: str | None = None,
    only_field: str | None = None,
    secret_fields: Collection[str] = (),
) -> Response[Any]:
    """One page form post, start to finish.

    - `errors` (from `convert_form_fields` / `field_errors`): when any, the form comes
      back with them (422) and nothing runs;
    - `action` runs once per form nonce (`run_once`); its result must be JSON-able (a code,
      an id), because a repeated post gets the first post's result back;
    - a `DomainError` from it rolls the session back and the form comes back with the
      refusal (`refusal_for`: at the field the error names);
    - `done(result)` gives (path, flash text[, flash level]) for the 303; a repeated post
      flashes `again`.
    """
    if errors:
        return rerender(FormRefusal(dict(errors), None, 422))
    try:
        repeated, result = run_once(
            session,
            me=me,
            nonce=form_text(dict(data), "nonce"),
            scope=scope,
            payload=form_fingerprint(data, secret_fields),
            action=action,
        )
    except DomainError as exc:
        session.rollback()
        return rerender(refusal_for(exc, fallback_field=fallback_field, only_field=only_field))
    path, text, *level = done(result)
    if repeated:
        return redirect_with_flash(
            request, path, again(result) if callable(again) else again, "info"
        )
    return redirect_with_flash(request, path, text, *level)
