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
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.types import Scope
from sqlalchemy.exc import IntegrityError, OperationalError

log = logging.getLogger("steristock.errors")

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """A rule said no. Subclasses carry the HTTP status that says how."""

    status_code: int = HTTPStatus.BAD_REQUEST

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers


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


def _domain_to_problem(exc: DomainError) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=int(exc.status_code),
        title=_title(exc.status_code),
        detail=exc.detail,
        extra=exc.extra or None,
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
        extra = exc.extra
    return ProblemDetailsException(
        status_code=status, title=_title(status), detail=detail, extra=extra, headers=exc.headers
    )


def _integrity_to_problem(exc: IntegrityError) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=409,
        title=_title(409),
        detail="The change conflicts with existing data (a duplicate or a missing reference).",
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


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            exception_to_problem_detail_map={
                HTTPException: _http_to_problem,
                DomainError: _domain_to_problem,
                IntegrityError: _integrity_to_problem,
                OperationalError: _operational_to_problem,
            }
        )
    )
