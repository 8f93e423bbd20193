"""`submit_form`, the one page-form flow: schema errors come back (422, nothing runs); the
action runs once per nonce; a rule's refusal is rolled back and shown at the field the
error names (`DomainError.field`); success is a 303 with a flash."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Request, Response, post
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.auth import service
from kernel.auth.models import Role, User
from kernel.auth.service import CurrentUser
from kernel.db import Database
from kernel.plugin import KernelPlugin
from kernel.plugins import DomainPlugin
from kernel.problems import Conflict, DomainError, InvalidInput
from kernel.settings import Settings
from kernel.web.forms import (
    FormData,
    FormRefusal,
    field_errors,
    form_text,
    refusal_for,
    submit_form,
)
from kernel.web.templating import FLASH_COOKIE, decode_flashes
from tests.factories import UserFactory, csrf_token_from, page_login

RUNS: list[str] = []


def run(session: Session, me: CurrentUser, username: str) -> str:
    """Writes a user, then refuses some names after writing (to prove the rollback)."""
    RUNS.append(username)
    service.create_user(
        session, actor=me.username, username=username, role=Role.MA, password="long enough pw"
    )
    if username == "field-refused":
        raise InvalidInput.for_field("username", "That name is reserved.", message="reserved")
    if username == "plain-refused":
        raise Conflict("The clinic is closed for new users today.")
    return username


@post("/test/form", sync_to_thread=True)
def form_handler(
    request: Request[Any, Any, Any], data: FormData, db_session: Session, me: CurrentUser
) -> Response[Any]:
    values = {"username": form_text(data, "username")}
    errors = {"username": "Required."} if not values["username"] else {}

    def rerender(refusal: FormRefusal) -> Response[Any]:
        body = {"errors": refusal.errors, "message": refusal.message}
        return Response(body, status_code=refusal.status_code)

    return submit_form(
        request, db_session, me=me, data=data, scope="page POST /test/form", errors=errors,
        action=lambda: run(db_session, me, values["username"]),
        rerender=rerender,
        done=lambda name: (
            (f"/test/users/{name}", f"Added {name}, on probation.", "warning")
            if name.startswith("probation-")
            else (f"/test/users/{name}", f"Added {name}.")
        ),
        fallback_field=form_text(data, "fallback") or None,
    )  # fmt: skip


class FormPlugin(DomainPlugin):
    name = "form-test"

    def page_handlers(self) -> list[Any]:
        return [form_handler]


@pytest.fixture
def form_client(settings: Settings, database: Database) -> Any:
    app = Litestar(plugins=[KernelPlugin(settings, database), FormPlugin()])
    RUNS.clear()
    with TestClient(app) as client:
        UserFactory(database, client).create(Role.ADMIN, "boss")
        page_login(client, "boss")
        token = csrf_token_from(client.get("/login").text)

        def send(**fields: str) -> Any:
            return client.post(
                "/test/form", data={"_csrf_token": token, **fields}, follow_redirects=False
            )

        yield send


def usernames(database: Database) -> set[str]:
    with database.session(write=False) as session:
        return set(session.scalars(select(User.username)))


def flash(response: Any) -> str:
    cookie = response.cookies[FLASH_COOKIE].strip('"')
    return decode_flashes("test-secret-key", cookie)[0].text


def test_schema_errors_come_back_and_nothing_runs(form_client: Any) -> None:
    response = form_client(username="", nonce="n1")
    assert response.status_code == 422
    assert response.json() == {"errors": {"username": "Required."}, "message": None}
    assert RUNS == []


def test_success_redirects_with_a_flash_and_a_double_tap_runs_nothing_more(
    form_client: Any, database: Database
) -> None:
    first = form_client(username="nurse1", nonce="n2")
    assert first.status_code == 303 and first.headers["location"] == "/test/users/nurse1"
    assert flash(first) == "Added nurse1."
    again = form_client(username="nurse1", nonce="n2")
    assert again.status_code == 303 and again.headers["location"] == "/test/users/nurse1"
    assert "sent twice" in flash(again)
    assert RUNS == ["nurse1"]
    assert "nurse1" in usernames(database)


def test_an_outcome_that_is_not_a_plain_success_flashes_its_level(form_client: Any) -> None:
    response = form_client(username="probation-1", nonce="n9")
    cookie = response.cookies[FLASH_COOKIE].strip('"')
    [shown] = decode_flashes("test-secret-key", cookie)
    assert (shown.level, shown.text) == ("warning", "Added probation-1, on probation.")


def test_a_refusal_naming_a_field_is_shown_there_and_rolled_back(
    form_client: Any, database: Database
) -> None:
    response = form_client(username="field-refused", nonce="n3")
    assert response.status_code == 422
    assert response.json() == {"errors": {"username": "That name is reserved."}, "message": None}
    assert "field-refused" not in usernames(database)


def test_a_refusal_naming_no_field_goes_above_the_form_or_to_the_fallback(
    form_client: Any, database: Database
) -> None:
    above = form_client(username="plain-refused", nonce="n4")
    assert above.status_code == 409
    assert above.json() == {"errors": {}, "message": "The clinic is closed for new users today."}
    at_field = form_client(username="plain-refused", nonce="n5", fallback="username")
    assert at_field.json()["errors"] == {"username": "The clinic is closed for new users today."}
    assert "plain-refused" not in usernames(database)


def test_a_domain_error_carries_its_field() -> None:
    exc = InvalidInput.for_field("gtin", "A GTIN has 8, 12, 13 or 14 digits.", message="invalid")
    assert exc.field == "gtin"
    assert exc.extra["errors"] == [{"field": "gtin", "message": "invalid", "source": "body"}]
    assert exc.field_errors() == {"gtin": "A GTIN has 8, 12, 13 or 14 digits."}
    assert Conflict("taken", field="sku").field_errors() == {"sku": "taken"}
    assert DomainError("no").field is None and DomainError("no").field_errors() == {}


def test_a_legacy_errors_extra_names_its_field() -> None:
    exc = InvalidInput("Too short.", extra={"errors": [{"field": "password", "message": "x"}]})
    assert exc.field == "password"


def test_a_refusal_keeps_the_rule_s_refusal_for_forms_with_rows() -> None:
    exc = Conflict("Over-receipt on PO-000001.", extra={"lines": [{"sku": "GLV"}]})
    assert refusal_for(exc).error is exc
    assert FormRefusal({"username": "Required."}).error is None


def test_refusal_for_a_one_field_form_always_uses_that_field() -> None:
    exc = Conflict("This is the last active administrator.", field="active")
    assert refusal_for(exc, only_field="role").errors == {
        "role": "This is the last active administrator."
    }
    assert refusal_for(exc).errors == {"active": "This is the last active administrator."}


def test_field_errors_check_values_against_the_schema() -> None:
    import msgspec

    class Schema(msgspec.Struct):
        name: str
        quantity: int

    assert field_errors({"quantity": "many"}, Schema) == {
        "name": "Required.",
        "quantity": "Must be a whole number.",
    }
