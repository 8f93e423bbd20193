"""Every error is RFC 9457 problem+json; nothing unexpected leaks a traceback."""

from __future__ import annotations

import logging

from litestar import get
from litestar.testing import TestClient

from kernel.auth.models import Role
from steristock.app import create_app

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


def test_unknown_route_is_404_problem(client, users):
    body = assert_problem(client.get("/api/v1/nowhere", headers=users.headers(Role.MA)), 404)
    assert body["title"] == "Not Found"


def test_wrong_method_is_405_problem(client, users):
    response = client.delete("/api/v1/users/me", headers=users.headers(Role.ADMIN))
    assert_problem(response, 405)
    assert "GET" in response.headers.get("allow", "")


def test_validation_error_is_422_listing_each_field(client, users):
    response = client.post(
        "/api/v1/users",
        json={"username": "xavier", "role": "ma", "password": 5},
        headers=users.headers(Role.ADMIN),
    )
    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert "password" in fields
    for error in body["errors"]:
        assert error["message"]


def test_malformed_json_is_a_4xx_problem(client, users):
    response = client.post(
        "/api/v1/users",
        content=b'{"username": "x", ',
        headers={**users.headers(Role.ADMIN), "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith(PROBLEM)


def test_unexpected_error_is_a_generic_500_with_request_id_and_is_logged(
    settings, database, caplog
):
    @get("/api/v1/boom", opt={"exclude_from_auth": True}, sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals")

    app = create_app(settings, database)
    app.register(boom)
    error_log = logging.getLogger("steristock.errors")
    error_log.addHandler(caplog.handler)  # the app's logging config replaces root handlers
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/api/v1/boom")
    finally:
        error_log.removeHandler(caplog.handler)
    body = assert_problem(response, 500)
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    request_id = body["request_id"]
    assert request_id in body["detail"]
    assert response.headers["x-request-id"] == request_id
    assert any(request_id in record.getMessage() for record in caplog.records)
