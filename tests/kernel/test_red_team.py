"""The red-team findings of the records issue: each attack, repeated, now fails."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest

from kernel.auth.models import Role

NESTED = "[" * 1000 + "]" * 1000


def test_deeply_nested_json_to_the_anonymous_token_endpoint_is_a_400_problem(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/api/v1/auth/token", content=NESTED, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in caplog.text


def test_audit_list_with_a_from_before_year_one_in_utc_is_a_422_naming_from(client, users):
    auditor = users.headers(Role.AUDITOR)
    response = client.get(
        "/api/v1/audit", params={"from": "0001-01-01T00:00:00+14:00"}, headers=auditor
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "from"


def test_audit_csv_with_a_far_future_to_downloads_whole(client, users):
    auditor = users.headers(Role.AUDITOR)
    response = client.get(
        "/api/v1/audit.csv", params={"to": "9999-12-31T23:59:59-14:00"}, headers=auditor
    )
    assert response.status_code in (200, 422), response.text


def test_audit_csv_defuses_a_login_username_formula(client, users):
    auditor = users.headers(Role.AUDITOR)
    client.post(
        "/api/v1/auth/token",
        json={"username": '=HYPERLINK("http://evil/","x")', "password": "wrong password"},
    )
    body = client.get("/api/v1/audit.csv", headers=auditor).text
    for row in csv.reader(io.StringIO(body)):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), row


def json_write_routes(app) -> list[tuple[str, str]]:
    """Every API route that reads a body: (method, path with 1 for each parameter)."""
    import re

    found = []
    for route in app.routes:
        if not route.path.startswith("/api/"):
            continue
        for method in sorted(set(route.methods) & {"POST", "PUT", "PATCH"}):
            found.append((method, re.sub(r"\{[^}]+\}", "1", route.path)))
    return found


def test_deeply_nested_json_to_every_api_endpoint_is_refused_without_a_traceback(
    app, client, users, caplog
):
    admin = users.headers(Role.ADMIN)
    routes = json_write_routes(app)
    assert len(routes) > 20
    with caplog.at_level(logging.ERROR):
        for method, path in routes:
            response = client.request(
                method,
                path,
                content=NESTED,
                headers={**admin, "Content-Type": "application/json"},
            )
            assert response.status_code < 500, (method, path, response.text)
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text


def test_a_page_session_token_does_not_open_the_api(client, users):
    from kernel.auth.sessions import SESSION_COOKIE
    from tests.factories import page_login

    username = users.create(Role.ADMIN)
    assert page_login(client, username).status_code == 303
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    client.cookies.clear()
    response = client.get("/api/v1/users", headers={"Authorization": f"Bearer {cookie}"})
    assert response.status_code == 401, response.text


def test_the_sqlite_file_and_its_backups_are_readable_by_their_owner_only(tmp_path):
    from click.testing import CliRunner

    from kernel.migrations import upgrade
    from steristock.cli import main as cli

    path = tmp_path / "data" / "steristock.db"
    upgrade(f"sqlite:///{path}")
    assert path.stat().st_mode & 0o777 == 0o600
    wal = path.with_name("steristock.db-wal")
    assert not wal.exists() or wal.stat().st_mode & 0o777 == 0o600
    backup = tmp_path / "b.db"
    env = {"DATABASE_URL": f"sqlite:///{path}", "STERISTOCK_DATA_DIR": str(path.parent)}
    result = CliRunner().invoke(cli, ["backup", str(backup)], env=env)
    assert result.exit_code == 0, result.output
    assert backup.stat().st_mode & 0o777 == 0o600
    restored = tmp_path / "restored" / "steristock.db"
    env["DATABASE_URL"] = f"sqlite:///{restored}"
    result = CliRunner().invoke(cli, ["restore", str(backup)], env=env)
    assert result.exit_code == 0, result.output
    assert restored.stat().st_mode & 0o777 == 0o600


def test_exports_and_api_answers_are_not_cached(client, users):
    auditor = users.headers(Role.AUDITOR)
    for path in ("/api/v1/audit.csv", "/api/v1/audit", "/api/v1/sterilization/log.csv"):
        response = client.get(path, headers=auditor)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "no-store", path


def test_a_one_minute_idle_session_in_use_slides_instead_of_expiring():
    import datetime as dt

    from kernel.auth.sessions import next_expiry

    start = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    idle, lifetime = dt.timedelta(minutes=1), dt.timedelta(hours=8)
    expires = start + idle
    for seconds in range(30, 600, 30):  # used every 30 s for ten minutes
        now = start + dt.timedelta(seconds=seconds)
        assert now < expires, f"expired at {seconds} s although used every 30 s"
        slid = next_expiry(
            now=now, created_at=start, expires_at=expires, idle=idle, lifetime=lifetime
        )
        expires = slid or expires


OUT_OF_RANGE = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31")


def date_parameters(client, headers) -> list[tuple[str, str]]:
    """(path, parameter) of every GET operation's date or date-time query parameter."""
    schema = client.get("/schema/openapi.json", headers=headers).json()
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get or "{" in path:
            continue
        for parameter in get.get("parameters", []):
            kinds = json.dumps(parameter.get("schema", {}))
            if parameter["in"] == "query" and (
                parameter["name"] in ("from", "to", "day", "date", "since", "until", "as_of")
                or '"date' in kinds
            ):
                found.append((path, parameter["name"]))
    return found


def test_out_of_range_dates_on_every_date_parameter_are_4xx_naming_the_field(client, users):
    admin = users.headers(Role.ADMIN)
    parameters = date_parameters(client, admin)
    assert ("/api/v1/audit", "from") in parameters
    for path, name in parameters:
        for value in OUT_OF_RANGE:
            response = client.get(path, params={name: value}, headers=admin)
            assert response.status_code < 500, (path, name, value, response.text)
            if response.status_code == 422:
                fields = [e.get("field") for e in response.json().get("errors", [])]
                assert name in fields or not fields, (path, name, response.text)


def test_a_page_form_posted_from_another_site_is_refused_on_its_origin(client, users):
    from tests.factories import csrf_token_from

    username = users.create(Role.MA)
    form = client.get("/login")
    body = {"username": username, "password": users.password, "next": "/",
            "_csrf_token": csrf_token_from(form.text)}  # fmt: skip
    evil = client.post("/login", data=body, headers={"Origin": "https://evil.example"},
                       follow_redirects=False)  # fmt: skip
    assert evil.status_code == 403
    same = client.post("/login", data=body, headers={"Origin": "http://testserver.local"},
                       follow_redirects=False)  # fmt: skip
    assert same.status_code == 303, same.text


def test_a_page_form_is_judged_on_sec_fetch_site_where_the_browser_sends_it(client, users):
    """Under `Referrer-Policy: no-referrer` a browser's own same-origin form post carries
    `Origin: null`; `Sec-Fetch-Site` says where it really came from."""
    from tests.factories import csrf_token_from

    username = users.create(Role.MA)
    form = client.get("/login")
    body = {"username": username, "password": users.password, "next": "/",
            "_csrf_token": csrf_token_from(form.text)}  # fmt: skip
    for site in ("cross-site", "same-site"):
        evil = client.post("/login", data=body, follow_redirects=False,
                           headers={"Origin": "null", "Sec-Fetch-Site": site})  # fmt: skip
        assert evil.status_code == 403, site
    # Where the browser sends it, Sec-Fetch-Site decides over Origin.
    forged = client.post("/login", data=body, follow_redirects=False,
                         headers={"Origin": "http://testserver.local",
                                  "Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert forged.status_code == 403
    same = client.post("/login", data=body, follow_redirects=False,
                       headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})  # fmt: skip
    assert same.status_code == 303, same.text


def test_a_stranger_cannot_lock_the_admin_out_from_the_clinics_own_clients(database):
    import datetime as dt

    from kernel.auth.service import check_login_throttle, record_login_failure
    from kernel.problems import TooManyRequests

    limits = {"max_failures": 5, "client_max_failures": 50, "window": dt.timedelta(minutes=15)}
    with database.session() as session:
        for _ in range(5):
            record_login_failure(session, username="admin", client="203.0.113.9")
    with database.session() as session:
        with pytest.raises(TooManyRequests):  # the stranger is throttled
            check_login_throttle(session, username="admin", client="203.0.113.9", **limits)
        check_login_throttle(session, username="admin", client="10.0.0.7", **limits)
