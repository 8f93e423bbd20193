"""The administrator's user pages over real HTTP: the list, creating a user, changing a
role, deactivating / reactivating and resetting a password (tokens and sessions revoked),
errors next to the fields with the values kept (never the password), nothing written on
a refused form, the last active admin, roles and the login redirect."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from kernel.audit.models import AuditEntry
from kernel.auth.models import Role, User
from kernel.db import Database
from kernel.idempotency import IdempotencyRecord
from tests.factories import UserFactory, assert_csp_clean, csrf_token_from, form_post, page_login

SECRET = "a brand new secret"


def count_users(database: Database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def user_row(database: Database, username: str) -> User:
    with database.session(write=False) as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        session.expunge(user)
        return user


def field_error(html: str, field_id: str) -> str:
    """The message shown next to the field with this id ("" when none)."""
    found = re.search(rf'id="{re.escape(field_id)}-error">✖ ([^<]*)<', html)
    return found.group(1) if found else ""


def input_value(html: str, field_id: str) -> str | None:
    found = re.search(rf'<input id="{re.escape(field_id)}"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else None


@pytest.fixture
def admin(client: TestClient[Litestar], users: UserFactory) -> str:
    username = users.create(Role.ADMIN, full_name="Ada Admin")
    assert page_login(client, username).status_code == 303
    return username


def test_admin_sees_every_user_with_role_active_and_last_login(
    client: TestClient[Litestar], users: UserFactory, admin: str
) -> None:
    ma = users.create(Role.MA, full_name="Maria Lopez")
    users.token(ma)  # a login
    idle = users.create(Role.AUDITOR)
    page = client.get("/admin/users")
    assert page.status_code == 200
    row = re.search(rf'<tr id="user-{ma}">.*?</tr>', page.text, re.S)
    assert row and "Maria Lopez" in row.group(0) and "Medical assistant" in row.group(0)
    assert "active" in row.group(0) and "UTC" in row.group(0)
    idle_row = re.search(rf'<tr id="user-{idle}">.*?</tr>', page.text, re.S)
    assert idle_row and "never" in idle_row.group(0)
    assert 'href="/admin/users"' in page.text  # in the navigation
    assert 'id="create-user-form"' in page.text
    assert_csp_clean(page)


def test_admin_creates_a_user_who_can_log_in(
    client: TestClient[Litestar], users: UserFactory, admin: str, database: Database
) -> None:
    response = form_post(
        client, "/admin/users", "create-user-form", username="JDoe", full_name="Jo Doe",
        role="purchasing", password=SECRET, password_confirm=SECRET,
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/admin/users"
    page = client.get("/admin/users")
    assert "Created user jdoe." in page.text
    user = user_row(database, "jdoe")
    assert user.full_name == "Jo Doe" and user.role == "purchasing" and user.active
    assert users.token("jdoe", SECRET)
    with database.session(write=False) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.create")
            .where(AuditEntry.entity_id == "jdoe")
        ).one()  # fmt: skip
        assert entry.actor == admin and "argon2" not in (entry.after or "")
        # the form nonce's fingerprint holds no password
        keys = session.scalars(select(IdempotencyRecord)).all()
        assert keys and all(SECRET not in repr(k.__dict__) for k in keys)


def test_a_double_tap_creates_the_user_once(
    client: TestClient[Litestar], admin: str, database: Database
) -> None:
    html = client.get("/admin/users").text
    form = re.search(r'<form[^>]*id="create-user-form".*?</form>', html, re.S)
    assert form
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.group(0))
    assert nonce
    body = {"_csrf_token": csrf_token_from(html), "nonce": nonce.group(1), "username": "twice",
            "role": "ma", "password": SECRET, "password_confirm": SECRET}  # fmt: skip
    first = client.post("/admin/users", data=body, follow_redirects=False)
    second = client.post("/admin/users", data=body, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert "sent twice" in client.get("/admin/users").text
    assert user_row(database, "twice").role == "ma"


def test_rejected_user_form_shows_errors_next_to_fields_keeps_values_but_not_the_password(
    client: TestClient[Litestar], admin: str, database: Database
) -> None:
    before = count_users(database)
    response = form_post(
        client, "/admin/users", "create-user-form", username="bad name!", full_name="Jo Doe",
        role="janitor", password="short", password_confirm="short",
    )  # fmt: skip
    assert response.status_code == 422
    html = response.text
    assert "lower-case letters" in field_error(html, "field-username")
    assert field_error(html, "field-role") == "Choose one of the options."
    assert field_error(html, "field-password") == "At least 8 characters."
    assert input_value(html, "field-username") == "bad name!"
    assert input_value(html, "field-full_name") == "Jo Doe"
    assert input_value(html, "field-password") == ""
    assert "short" not in html
    assert count_users(database) == before
    assert_csp_clean(response)

    mismatch = form_post(
        client, "/admin/users", "create-user-form", username="jo", role="ma",
        password=SECRET, password_confirm=SECRET + "x",
    )  # fmt: skip
    assert mismatch.status_code == 422
    assert field_error(mismatch.text, "field-password_confirm") == "The two passwords differ."
    assert SECRET not in mismatch.text
    assert re.search(r'<option value="ma" selected>', mismatch.text)
    assert count_users(database) == before


def test_a_taken_username_is_shown_next_to_the_username(
    client: TestClient[Litestar], users: UserFactory, admin: str, database: Database
) -> None:
    taken = users.create(Role.MA)
    before = count_users(database)
    response = form_post(
        client, "/admin/users", "create-user-form", username=taken.upper(), role="auditor",
        password=SECRET, password_confirm=SECRET,
    )  # fmt: skip
    assert response.status_code == 409
    assert "already exists" in field_error(response.text, "field-username")
    assert input_value(response.text, "field-username") == taken.upper()
    assert count_users(database) == before


def test_admin_changes_a_role_and_name(
    client: TestClient[Litestar], users: UserFactory, admin: str, database: Database
) -> None:
    ma = users.create(Role.MA)
    path = f"/admin/users/{ma}"
    response = form_post(client, path, "role-form", role="purchasing", full_name="Pat Buyer")
    assert response.status_code == 303 and response.headers["location"] == path
    assert "is now Purchasing" in client.get(path).text
    user = user_row(database, ma)
    assert user.role == "purchasing" and user.full_name == "Pat Buyer"

    refused = form_post(client, path, "role-form", role="boss", full_name="Kept Name")
    assert refused.status_code == 422
    assert field_error(refused.text, "field-role") == "Choose one of the options."
    assert input_value(refused.text, "field-full_name") == "Kept Name"
    assert user_row(database, ma).role == "purchasing"


def test_deactivating_revokes_tokens_and_sessions_and_reactivating_lets_them_back(
    client: TestClient[Litestar], users: UserFactory, admin: str, app: Litestar
) -> None:
    ma = users.create(Role.MA)
    token = users.token(ma)
    with TestClient(app) as tablet:
        page_login(tablet, ma)
        assert tablet.get("/scan").status_code == 200
        path = f"/admin/users/{ma}"
        response = form_post(client, path, "active-form")
        assert response.status_code == 303
        assert "Deactivated" in client.get(path).text
        api = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 401
        gone = tablet.get("/scan", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert page_login(tablet, ma).status_code == 401
        assert form_post(client, path, "active-form").status_code == 303  # reactivate
        assert page_login(tablet, ma).status_code == 303


def test_reset_password_revokes_every_token_and_the_old_password(
    client: TestClient[Litestar], users: UserFactory, admin: str, app: Litestar, database: Database
) -> None:
    ma = users.create(Role.MA)
    token = users.token(ma)
    path = f"/admin/users/{ma}"
    with TestClient(app) as tablet:
        page_login(tablet, ma)
        short = form_post(client, path, "password-form", password="short", password_confirm="")
        assert short.status_code == 422
        assert field_error(short.text, "field-password") == "At least 8 characters."
        assert users.token(ma)  # nothing changed: the old password still works
        response = form_post(
            client, path, "password-form", password=SECRET, password_confirm=SECRET
        )
        assert response.status_code == 303
        assert "New password set" in client.get(path).text
        api = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 401
        assert tablet.get("/scan", follow_redirects=False).status_code == 303
    old = client.post("/api/v1/auth/token", json={"username": ma, "password": users.password})
    assert old.status_code == 401
    assert users.token(ma, SECRET)
    with database.session(write=False) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "user.update")
            .where(AuditEntry.entity_id == ma)
        ).one()  # fmt: skip
        assert '"password_changed":true' in (entry.after or "") and "argon2" not in entry.after


def test_the_last_active_admin_cannot_deactivate_or_demote_themself_on_the_page(
    client: TestClient[Litestar], admin: str, database: Database
) -> None:
    path = f"/admin/users/{admin}"
    demote = form_post(client, path, "role-form", role="ma", full_name="Ada Admin")
    assert demote.status_code == 409
    assert "last active administrator" in field_error(demote.text, "field-role")
    deactivate = form_post(client, path, "active-form")
    assert deactivate.status_code == 409
    assert "last active administrator" in deactivate.text
    user = user_row(database, admin)
    assert user.role == "admin" and user.active


def test_an_admin_may_step_down_while_another_admin_remains(
    client: TestClient[Litestar], users: UserFactory, admin: str, database: Database
) -> None:
    users.create(Role.ADMIN)
    response = form_post(client, f"/admin/users/{admin}", "role-form", role="ma", full_name="")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert user_row(database, admin).role == "ma"
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize("role", [Role.MA, Role.PURCHASING, Role.AUDITOR])
def test_other_roles_get_the_403_page_and_change_nothing(
    client: TestClient[Litestar], users: UserFactory, database: Database, role: Role
) -> None:
    victim = users.create(Role.MA)
    page_login(client, users.create(role))
    page = client.get("/admin/users")
    assert page.status_code == 403 and "Not allowed" in page.text
    assert 'href="/admin/users"' not in page.text
    token = csrf_token_from(page.text)
    before = count_users(database)
    refused = client.post(
        "/admin/users",
        data={"_csrf_token": token, "username": "sneaky", "role": "admin",
              "password": SECRET, "password_confirm": SECRET},
    )  # fmt: skip
    assert refused.status_code == 403
    active = client.post(f"/admin/users/{victim}/active", data={"_csrf_token": token,
                                                              "active": "false"})  # fmt: skip
    assert active.status_code == 403
    assert count_users(database) == before and user_row(database, victim).active


def test_anonymous_visitors_are_sent_to_log_in(client: TestClient[Litestar]) -> None:
    for path in ("/admin/users", "/admin/users/anyone"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=/admin/users")


def test_an_unknown_user_is_a_404_page(client: TestClient[Litestar], admin: str) -> None:
    response = client.get("/admin/users/nobody-here")
    assert response.status_code == 404 and "No user named" in response.text
