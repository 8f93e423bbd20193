"""Auth rules: bearer tokens with expiry, 401/403, throttled logins, instant revocation."""

from __future__ import annotations

import datetime as dt

from litestar.testing import TestClient
from sqlalchemy import func, select, update

from kernel.audit.models import AuditEntry
from kernel.auth.models import ApiToken, LoginFailure, Role
from kernel.auth.service import token_digest
from steristock.app import create_app

PROBLEM = "application/problem+json"


def login(client, username, password):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_token_is_issued_for_correct_credentials_with_expiry_and_user(client, users):
    username = users.create(Role.MA)
    response = login(client, username, users.password)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert len(body["access_token"]) >= 40
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires.tzinfo is not None
    assert dt.timedelta(hours=11) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=12)
    assert body["user"] == {"username": username, "role": "ma"}


def test_token_is_stored_only_as_a_hash(client, users, database):
    token = users.token(users.create(Role.MA))
    with database.session(write=False) as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored
    assert token_digest(token) in stored


def test_wrong_password_is_401_problem(client, users):
    username = users.create(Role.MA)
    response = login(client, username, "not the password")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["detail"] == "Wrong username or password."


def test_unknown_user_gets_the_same_401_as_a_wrong_password(client):
    response = login(client, "nobody", "whatever-password")
    assert response.status_code == 401
    assert response.json()["detail"] == "Wrong username or password."


def test_request_without_token_is_401_with_challenge(client):
    response = client.get("/api/v1/users/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"


def test_bad_token_is_401(client):
    for header in ("Bearer not-a-token", "Basic abc", "Bearer " + "x" * 500, "Bearer"):
        response = client.get("/api/v1/users/me", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_expired_token_is_401(client, users, database):
    token = users.token(users.create(Role.MA))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    with database.session() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_digest(token))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_logout_revokes_the_token_at_once(client, users):
    token = users.token(users.create(Role.MA))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_deactivated_user_loses_access_at_once(client, users):
    username = users.create(Role.MA)
    headers = {"Authorization": f"Bearer {users.token(username)}"}
    admin = users.headers(Role.ADMIN)
    response = client.patch(f"/api/v1/users/{username}", json={"active": False}, headers=admin)
    assert response.status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert login(client, username, users.password).status_code == 401


def test_password_change_revokes_existing_tokens(client, users):
    username = users.create(Role.MA)
    headers = {"Authorization": f"Bearer {users.token(username)}"}
    admin = users.headers(Role.ADMIN)
    response = client.patch(
        f"/api/v1/users/{username}", json={"password": "a brand new one"}, headers=admin
    )
    assert response.status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert login(client, username, "a brand new one").status_code == 200


def test_repeated_failures_for_a_username_are_throttled_with_429(client, users, settings):
    username = users.create(Role.MA)
    for _ in range(settings.login_max_failures):
        assert login(client, username, "wrong password").status_code == 401
    response = login(client, username, users.password)  # even the right password now waits
    assert response.status_code == 429
    assert response.headers["content-type"].startswith(PROBLEM)
    assert int(response.headers["retry-after"]) > 0
    assert "Too many failed logins" in response.json()["detail"]


def test_repeated_failures_from_one_client_are_throttled(settings, database, users):
    strict = settings.model_copy(update={"login_client_max_failures": 3})
    with TestClient(create_app(strict, database)) as client:
        for name in ("a1", "a2", "a3"):
            assert login(client, name, "guess-guess").status_code == 401
        assert login(client, "a4", "guess-guess").status_code == 429


def test_successful_login_clears_the_failure_count(client, users, database, settings):
    username = users.create(Role.MA)
    for _ in range(settings.login_max_failures - 1):
        login(client, username, "wrong password")
    assert login(client, username, users.password).status_code == 200
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    assert login(client, username, "wrong password").status_code == 401
    assert login(client, username, users.password).status_code == 200


def test_logins_and_failures_are_audited_without_secrets(client, users, database):
    username = users.create(Role.MA)
    login(client, username, "wrong password")
    login(client, username, users.password)
    with database.session(write=False) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == username).order_by(AuditEntry.seq)
        ).all()
    actions = [e.action for e in entries]
    assert actions == ["user.create", "auth.login_failed", "auth.login"]
    for entry in entries:
        assert users.password not in (entry.after or "")
        assert "wrong password" not in (entry.after or "")
        assert "argon2" not in (entry.after or "")


def test_non_admin_roles_get_403_on_user_management(client, users):
    for role in (Role.MA, Role.PURCHASING, Role.AUDITOR):
        headers = users.headers(role)
        body = {"username": "newbie", "role": "ma", "password": "long enough pw"}
        response = client.post("/api/v1/users", json=body, headers=headers)
        assert response.status_code == 403, role
        assert response.headers["content-type"].startswith(PROBLEM)
        assert role.value in response.json()["detail"]
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        assert client.patch("/api/v1/users/x", json={}, headers=headers).status_code == 403


def test_only_admin_and_auditor_read_the_audit_trail(client, users):
    assert client.get("/api/v1/audit", headers=users.headers(Role.AUDITOR)).status_code == 200
    assert client.get("/api/v1/audit", headers=users.headers(Role.ADMIN)).status_code == 200
    for role in (Role.MA, Role.PURCHASING):
        assert client.get("/api/v1/audit", headers=users.headers(role)).status_code == 403
        assert client.get("/api/v1/audit/verify", headers=users.headers(role)).status_code == 403
