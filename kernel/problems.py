"""RFC 9457 problem details for every error the API returns.

Domain code raises the small exception classes here (``Conflict("only 3 on hand")``);
Litestar's ProblemDetails plugin turns them, and every framework HTTP error, into
``application/problem+json``. Anything unexpected becomes a generic 500 that names a
request id and is logged with it, never a traceback.
"""

from __future__ import annotations

import logging
import random
from http import HTTPStatus
from typing import Any, Self

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.routes import HTTPRoute
from litestar.types import Scope
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

log = logging.getLogger("steristock.errors")

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A rule said no. Subclasses carry the HTTP status that says how.

    `field` names the input the refusal is about (a form shows the message next to it);
    raise `InvalidInput.for_field("gtin", "A GTIN has 8, 12, 13 or 14 digits.")` rather
    than leaving a page to guess the field from the wording. A refusal built with
    `extra={"errors": [{"field": ...}]}` names its first field too.
    """

    status_code: int = HTTPStatus.BAD_REQUEST

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers
        self.field = field or _first_error_field(self.extra)

    @classmethod
    def for_field(
        cls,
        field: str,
        detail: str,
        *,
        message: str | None = None,
        source: str = "body",
        extra: dict[str, Any] | None = None,
    ) -> Self:
        """A refusal of one input: the problem's `errors` names it (`message`, default the
        detail, is the short reason there) and `field` carries it to the pages."""
        error = {"field": field, "message": message or detail, "source": source}
        return cls(detail, field=field, extra={**(extra or {}), "errors": [error]})

    def field_errors(self) -> dict[str, str]:
        """The message for each field the refusal names (the detail when it names one)."""
        found = [e for e in self.extra.get("errors", []) if isinstance(e, dict) and e.get("field")]
        if self.field and not any(e["field"] == self.field for e in found):
            found.insert(0, {"field": self.field})
        if len(found) == 1:  # the refusal's own sentence says more than a terse "invalid"
            return {str(found[0]["field"]): self.detail or str(found[0].get("message", ""))}
        return {str(e["field"]): str(e.get("message") or self.detail) for e in found}


def _first_error_field(extra: dict[str, Any]) -> str | None:
    errors = extra.get("errors")
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict) and error.get("field"):
                return str(error["field"])
    return None


class NotFound(DomainError):
    status_code = HTTPStatus.NOT_FOUND


class Conflict(DomainError):
    """The request is valid but the current state forbids it (e.g. not enough stock)."""

    status_code = HTTPStatus.CONFLICT


class InvalidInput(DomainError):
    """Well-formed JSON whose content a rule rejects (e.g. an unknown GTIN)."""

    status_code = HTTPStatus.UNPROCESSABLE_ENTITY


class NotAuthenticated(DomainError):
    status_code = HTTPStatus.UNAUTHORIZED

    def __init__(self, detail: str = "Authentication required", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="steristock"'})
        super().__init__(detail, **kwargs)


class PermissionDenied(DomainError):
    status_code = HTTPStatus.FORBIDDEN


class TooManyRequests(DomainError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS


def request_id(scope: Scope) -> str:
    """The id of this request, made on first use; echoed in `X-Request-ID`."""
    state = scope.setdefault("state", {})
    rid = state.get("request_id")
    if rid is None:
        # Not a secret, just unique: os.urandom costs ~0.5 ms a call in some sandboxes.
        rid = state["request_id"] = f"{random.getrandbits(128):032x}"
    return rid


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# The members RFC 9457 defines; a rule's extra member of the same name (a pack's "status")
# would overwrite them, so it is renamed ("current_status").
RESERVED_MEMBERS = frozenset({"status", "title", "detail", "type", "instance"})


def _extra_members(extra: dict[str, Any] | None) -> dict[str, Any] | None:
    if not extra:
        return None
    return {(f"current_{k}" if k in RESERVED_MEMBERS else k): v for k, v in extra.items()}


def _domain_to_problem(exc: DomainError) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=int(exc.status_code),
        title=_title(exc.status_code),
        detail=exc.detail,
        extra=_extra_members(exc.extra),
        headers=exc.headers,
    )


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            errors.append(
                {
                    "field": item.get("key") or item.get("field") or "",
                    "message": item.get("message", ""),
                    "source": item.get("source", "body"),
                }
            )
    return errors


def _http_to_problem(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    extra: dict[str, Any] | None = None
    detail = exc.detail or _title(status)
    if isinstance(exc, ValidationException) or (status == 400 and isinstance(exc.extra, list)):
        errors = _validation_errors(exc.extra)
        extra = {"errors": errors}
        if errors:
            detail = "; ".join(
                f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
            )
        status = 422 if errors and isinstance(exc, ValidationException) else status
    elif isinstance(exc.extra, dict):
        extra = _extra_members(exc.extra)
    return ProblemDetailsException(
        status_code=status, title=_title(status), detail=detail, extra=extra, headers=exc.headers
    )


def _integrity_to_problem(exc: IntegrityError) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=409,
        title=_title(409),
        detail="The change conflicts with existing data (a duplicate or a missing reference).",
    )


def _unstorable_to_problem(exc: DataError | OverflowError) -> ProblemDetailsException:
    """A value the database cannot hold (NUL in text, a number out of range). The input
    types in `kernel.fields` refuse these up front; this is the net behind them."""
    log.warning("database refused a value: %s", getattr(exc, "orig", exc))
    return ProblemDetailsException(
        status_code=422,
        title=_title(422),
        detail="A value cannot be stored: it is out of range or holds a control character.",
    )


def _operational_to_problem(exc: OperationalError) -> ProblemDetailsException:
    log.warning("database unavailable: %s", exc.orig)
    return ProblemDetailsException(
        status_code=503,
        title=_title(503),
        detail="The database is busy or unreachable; try again.",
        headers={"Retry-After": "1"},
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    rid = request_id(request.scope)
    log.error("unhandled error, request_id=%s", rid, exc_info=exc)
    return Response(
        {
            "status": 500,
            "title": _title(500),
            "detail": f"Something went wrong on our side. Quote request id {rid} to support.",
            "request_id": rid,
        },
        status_code=500,
        media_type=PROBLEM_JSON,
    )


def too_deep_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """A JSON body nested deeper than the decoder recurses (`[` x 1000: 2 KB) is the
    client's error, answered 400 with one log line, never a traceback per request. Any
    other RecursionError is our bug and goes to the internal error handler."""
    if "deserializ" not in str(exc):
        return internal_error_handler(request, exc)
    log.warning("refused a JSON body nested too deeply, request_id=%s", request_id(request.scope))
    return Response(
        {
            "status": 400,
            "title": _title(400),
            "detail": "The JSON body is nested too deeply.",
        },
        status_code=400,
        media_type=PROBLEM_JSON,
    )


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                HTTPException: _http_to_problem,
                DomainError: _domain_to_problem,
                IntegrityError: _integrity_to_problem,
                DataError: _unstorable_to_problem,
                OverflowError: _unstorable_to_problem,
                OperationalError: _operational_to_problem,
            }
        )
    )


# --- the OpenAPI documentation of the problems ------------------------------------------


class FieldError(msgspec.Struct):
    """One invalid input: which field, where it came from, and what is wrong with it.
    (msgspec stops at the first invalid field of a body, so a body error lists one.)"""

    field: str
    message: str
    source: str


class ProblemDetails(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details, the body of every API error. Some problems add members
    that say more (e.g. `on_hand` for a consume beyond stock, `reasons` for a pack)."""

    status: int
    title: str
    detail: str
    type: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request (e.g. a body that is not JSON)",
    401: "No valid bearer token (or, for the token endpoint, wrong credentials)",
    403: "The caller's role may not do this",
    404: "An object the request names does not exist",
    409: "The current state forbids this (e.g. not enough stock, a duplicate)",
    413: "The request body is too large",
    422: "Invalid input; `errors` names the field (validation stops at the first)",
    429: "Too many failed attempts; retry after `Retry-After` seconds",
    503: "The database is busy or unreachable; retry",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ALL_ROLES = frozenset({"admin", "purchasing", "ma", "auditor"})


def problem_response(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        description=PROBLEM_DESCRIPTIONS[status],
        media_type=PROBLEM_JSON,
        generate_examples=False,
    )


def _role_restricted(handler: Any) -> bool:
    for guard in handler.resolve_guards():
        guard = getattr(guard, "value", guard)  # Litestar wraps guards in AsyncCallable
        allowed = getattr(getattr(guard, "func", guard), "allowed_roles", None)
        if allowed is not None and {getattr(r, "value", r) for r in allowed} != ALL_ROLES:
            return True
    return False


def problem_statuses(method: str, path: str, handler: Any, kwargs_model: Any) -> set[int]:
    """The problem statuses an API operation can really answer, from what it takes."""
    statuses = {401, 503}  # every API call needs a token and the database
    takes_data = "data" in handler.parsed_fn_signature.parameters
    params = (
        kwargs_model.expected_path_params
        | kwargs_model.expected_query_params
        | kwargs_model.expected_header_params
    )
    if takes_data or params:
        statuses |= {400, 404, 422}  # invalid input, or input naming a missing object
    if takes_data:
        statuses.add(413)
    if method in WRITE_METHODS:
        statuses.add(409)
    if _role_restricted(handler):
        statuses.add(403)
    statuses |= set(handler.opt.get("problems", ()))  # e.g. 429 on the token endpoint
    return statuses


def document_route_problems(route: Any, prefix: str = "/api/") -> None:
    """Document the problem+json responses of one API route's operations.

    The kernel plugin calls this for every route as it is registered (Litestar's
    `receive_route`), so a new route gets its error responses without saying anything; a
    handler's own `responses` win, and `opt={"problems": [429]}` adds statuses the rules
    above cannot infer.
    """
    if not isinstance(route, HTTPRoute) or not route.path.startswith(prefix):
        return
    for method, (handler, kwargs_model) in route.route_handler_map.items():
        if method == "OPTIONS" or kwargs_model is None:
            continue
        documented = {
            status: problem_response(status)
            for status in sorted(problem_statuses(method, route.path, handler, kwargs_model))
            if status != handler.status_code
        }
        handler.responses = {**documented, **(handler.responses or {})}
