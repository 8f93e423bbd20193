"""User management rules: admins manage accounts, the last admin stays, nothing half-written."""

from __future__ import annotations

from sqlalchemy import func, select

from kernel.audit.models import AuditEntry
from kernel.auth.models import Role, User
from kernel.auth.service import PRODUCTION_HASHER

NEW_USER = {"username": "Jdoe", "full_name": "Jo Doe", "role": "ma", "password": "long enough pw"}


def count_users(database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def test_admin_creates_a_user_who_can_log_in(client, users):
    admin = users.headers(Role.ADMIN)
    response = client.post("/api/v1/users", json=NEW_USER, headers=admin)
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "jdoe"  # usernames are case-insensitive, kept lower-case
    assert body["role"] == "ma" and body["active"] is True and body["full_name"] == "Jo Doe"
    assert "password" not in body and "password_hash" not in body
    token = client.post(
        "/api/v1/auth/token", json={"username": "JDOE", "password": NEW_USER["password"]}
    )
    assert token.status_code == 200


def test_user_creation_is_audited_without_the_password_hash(client, users, database):
    client.post("/api/v1/users", json=NEW_USER, headers=users.headers(Role.ADMIN))
    with database.session(write=False) as session:
        entry = session.scalars(
            select(AuditEntry).where(
                AuditEntry.entity_id == "jdoe", AuditEntry.action == "user.create"
            )
        ).one()
    assert '"role":"ma"' in entry.after
    assert "password" not in entry.after and "argon2" not in entry.after


def test_duplicate_username_is_409_and_writes_nothing(client, users, database):
    admin = users.headers(Role.ADMIN)
    assert client.post("/api/v1/users", json=NEW_USER, headers=admin).status_code == 201
    before = count_users(database)
    response = client.post("/api/v1/users", json={**NEW_USER, "username": "jdoe"}, headers=admin)
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]
    assert count_users(database) == before


def test_invalid_user_input_is_422_naming_the_field_and_writes_nothing(client, users, database):
    admin = users.headers(Role.ADMIN)
    before = count_users(database)
    cases = [
        ({**NEW_USER, "password": "short"}, "password"),
        ({**NEW_USER, "role": "janitor"}, "role"),
        ({**NEW_USER, "username": "has space"}, "username"),
        ({**NEW_USER, "is_superuser": True}, "is_superuser"),
        ({k: v for k, v in NEW_USER.items() if k != "role"}, "role"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/users", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        named = {e["field"] for e in problem.get("errors", [])}
        assert field in named or field in problem["detail"], problem
        assert problem["errors"], problem
    assert count_users(database) == before


def test_users_list_is_paged(client, users):
    admin = users.headers(Role.ADMIN)
    for n in range(3):
        users.create(Role.MA, username=f"list{n}")
    response = client.get("/api/v1/users", params={"limit": 2, "offset": 1}, headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 4 and body["limit"] == 2 and body["offset"] == 1
    assert len(body["items"]) == 2
    for bad in ({"limit": 0}, {"limit": 5000}, {"offset": -1}, {"limit": "many"}):
        assert client.get("/api/v1/users", params=bad, headers=admin).status_code in (400, 422)


def test_admin_changes_role_and_name(client, users):
    username = users.create(Role.MA)
    admin = users.headers(Role.ADMIN)
    response = client.patch(
        f"/api/v1/users/{username}", json={"role": "purchasing", "full_name": "P"}, headers=admin
    )
    assert response.status_code == 200
    assert response.json()["role"] == "purchasing"
    me = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {users.token(username)}"}
    )
    assert me.json()["role"] == "purchasing"


def test_patching_an_unknown_user_is_404(client, users):
    response = client.patch(
        "/api/v1/users/ghost", json={"active": False}, headers=users.headers(Role.ADMIN)
    )
    assert response.status_code == 404
    assert "ghost" in response.json()["detail"]


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, users, database):
    admin_name = users.create(Role.ADMIN, username="onlyadmin")
    headers = {"Authorization": f"Bearer {users.token(admin_name)}"}
    for change in ({"active": False}, {"role": "ma"}):
        response = client.patch(f"/api/v1/users/{admin_name}", json=change, headers=headers)
        assert response.status_code == 409
        assert "last active administrator" in response.json()["detail"]
    users.create(Role.ADMIN, username="second")
    response = client.patch(f"/api/v1/users/{admin_name}", json={"role": "ma"}, headers=headers)
    assert response.status_code == 200


def test_me_returns_the_calling_user(client, users):
    username = users.create(Role.AUDITOR, full_name="Alex")
    response = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {users.token(username)}"}
    )
    assert response.status_code == 200
    assert response.json()["username"] == username
    assert response.json()["role"] == "auditor"


def test_passwords_are_hashed_with_argon2id_at_production_cost():
    digest = PRODUCTION_HASHER.hash("some password")
    assert digest.startswith("$argon2id$")
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024
    assert PRODUCTION_HASHER.time_cost >= 2
