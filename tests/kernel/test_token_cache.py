"""Each worker remembers the bearer tokens it has looked up, and every request reads the
database's auth generation first: whatever ends or changes someone's access bumps it (a
database trigger), so the cache never outlives a logout, a deactivation, a role change or
a revocation written by any other process. Across two server processes:
tests/system/test_scale_out.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from sqlalchemy import select, text, update

from kernel.auth.models import ApiToken, AuthGeneration, Role, User
from kernel.auth.service import issue_token, token_digest
from kernel.auth.token_cache import token_cache
from kernel.db import Database


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def generation(database: Database) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(AuthGeneration.generation).where(AuthGeneration.id == 1))


def test_a_repeated_request_with_a_known_token_needs_no_token_lookup(client, users, statements):
    headers = bearer(users.token(users.create(Role.MA)))
    assert client.get("/api/v1/locations", headers=headers).status_code == 200
    statements.reset()
    assert client.get("/api/v1/locations", headers=headers).status_code == 200
    assert statements.count >= 1  # the handler's own query
    assert not [s for s in statements.statements if "api_tokens" in s]


def test_a_repeated_users_me_reads_nothing_but_the_generation(client, users, statements):
    """The profile is remembered under the generation (read on the cache's own connection)."""
    headers = bearer(users.token(users.create(Role.MA)))
    first = client.get("/api/v1/users/me", headers=headers).json()
    statements.reset()
    assert client.get("/api/v1/users/me", headers=headers).json() == first
    assert statements.statements == []


def test_a_repeated_request_reads_the_users_sites_once(client, users, statements):
    headers = bearer(users.token(users.create(Role.MA)))
    assert client.get("/api/v1/locations", headers=headers).status_code == 200
    statements.reset()
    assert client.get("/api/v1/locations", headers=headers).status_code == 200
    assert not [s for s in statements.statements if "user_sites" in s or "FROM sites" in s]


@pytest.mark.parametrize(
    ("column", "before", "after"),
    [
        ("email", None, "new@clinic.example"),  # from NULL too
        ("full_name", "Before", "Renamed Person"),
        ("all_sites", False, True),
    ],
)
def test_a_profile_change_written_by_another_process_shows_on_the_next_request(
    client, users, database, column, before, after
):
    """A hand-run UPDATE: the trigger bumps the generation, the cached profile goes."""
    username = users.create(Role.MA)
    headers = bearer(users.token(username))
    for value in (before, after):
        with database.engine.begin() as conn:
            conn.execute(update(User).where(User.username == username).values({column: value}))
        assert client.get("/api/v1/users/me", headers=headers).json()[column] == value


TOKYO = {"code": "TYO", "name": "Tokyo clinic", "timezone": "Asia/Tokyo"}


def tokyo_supply_room(client, users) -> None:
    admin = users.headers(Role.ADMIN)
    assert client.post("/api/v1/sites", json=TOKYO, headers=admin).status_code == 201
    room = {"code": "T-SUPPLY", "name": "Supply", "site": "TYO"}
    assert client.post("/api/v1/locations", json=room, headers=admin).status_code == 201


def test_a_site_taken_from_a_user_is_hidden_from_their_next_request(client, users, database):
    tokyo_supply_room(client, users)
    headers = bearer(users.token(users.create(Role.MA, "kenji", sites=["MAIN", "TYO"])))
    assert client.get("/api/v1/locations/T-SUPPLY", headers=headers).status_code == 200
    admin = users.headers(Role.ADMIN)
    assert client.patch("/api/v1/users/kenji", json={"sites": ["MAIN"]},
                        headers=admin).status_code == 200  # fmt: skip
    assert client.get("/api/v1/locations/T-SUPPLY", headers=headers).status_code == 404
    assert client.get("/api/v1/users/me", headers=headers).json()["sites"] == ["MAIN"]


def test_a_site_given_by_another_process_is_seen_on_the_next_request(client, users, database):
    tokyo_supply_room(client, users)
    headers = bearer(users.token(users.create(Role.MA, "kenji", sites=["MAIN"])))
    assert client.get("/api/v1/locations/T-SUPPLY", headers=headers).status_code == 404
    with database.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO user_sites (user_id, site_id) SELECT u.id, s.id FROM users u, sites s"
            " WHERE u.username = 'kenji' AND s.code = 'TYO'"
        ))  # fmt: skip
    assert client.get("/api/v1/locations/T-SUPPLY", headers=headers).status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).json()["sites"] == ["MAIN", "TYO"]
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM user_sites WHERE site_id = (SELECT id FROM sites"
                          " WHERE code = 'TYO')"))  # fmt: skip
    assert client.get("/api/v1/locations/T-SUPPLY", headers=headers).status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO sites (code, name, timezone, created_at)"
        " VALUES ('BER', 'Berlin', 'Europe/Berlin', CURRENT_TIMESTAMP)",
        "UPDATE sites SET timezone = 'Asia/Tokyo' WHERE code = 'TYO'",
        "UPDATE sites SET name = 'Tokyo, renamed' WHERE code = 'TYO'",
        "DELETE FROM user_sites",
    ],
)
def test_a_change_to_the_sites_or_who_sees_them_bumps_the_generation(
    client, users, database, change
):
    admin = users.headers(Role.ADMIN)
    tokyo = {**TOKYO, "timezone": "Europe/Berlin"}
    assert client.post("/api/v1/sites", json=tokyo, headers=admin).status_code == 201
    users.create(Role.MA)  # a user_sites row for the DELETE
    before = generation(database)
    with database.engine.begin() as conn:
        conn.execute(text(change))
    assert generation(database) > before


def test_a_cached_token_is_refused_on_the_next_request_after_logout(client, users):
    headers = bearer(users.token(users.create(Role.MA)))
    for _ in range(2):  # cached now
        assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_a_cached_token_of_a_deactivated_user_is_refused_on_the_next_request(client, users):
    username = users.create(Role.MA)
    headers = bearer(users.token(username))
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    admin = users.headers(Role.ADMIN)
    patched = client.patch(f"/api/v1/users/{username}", json={"active": False}, headers=admin)
    assert patched.status_code == 200
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_a_role_change_applies_to_a_cached_token_on_the_next_request(client, users):
    username = users.create(Role.ADMIN)
    headers = bearer(users.token(username))
    assert client.get("/api/v1/users", headers=headers).status_code == 200  # admin only
    other_admin = users.headers(Role.ADMIN)
    patched = client.patch(f"/api/v1/users/{username}", json={"role": "ma"}, headers=other_admin)
    assert patched.status_code == 200
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    assert client.get("/api/v1/users/me", headers=headers).json()["role"] == "ma"


def test_a_revocation_written_by_another_process_is_honoured_on_the_next_request(
    client, users, database
):
    """The CLI, a second worker or a hand-run UPDATE: the trigger bumps the generation."""
    token = users.token(users.create(Role.MA))
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    before = generation(database)
    with database.engine.begin() as conn:  # not through the app or its services
        conn.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_digest(token))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
    assert generation(database) == before + 1
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 401


def test_a_user_deactivated_straight_in_the_database_is_refused_on_the_next_request(
    client, users, database
):
    username = users.create(Role.MA)
    headers = bearer(users.token(username))
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    with database.engine.begin() as conn:
        conn.execute(update(User).where(User.username == username).values(active=False))
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_a_cached_token_is_refused_once_it_expires(client, users, database):
    username = users.create(Role.MA)
    with database.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        token, _ = issue_token(session, user, ttl=dt.timedelta(seconds=1.5), client="test")
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    time.sleep(1.6)  # nothing in the database changed: only the expiry ends it
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 401


def test_sliding_a_page_session_forward_does_not_empty_the_cache(client, users, database):
    token = users.token(users.create(Role.MA))
    before = generation(database)
    with database.engine.begin() as conn:
        conn.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_digest(token))
            .values(expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        )
    assert generation(database) == before


def test_logging_in_does_not_empty_the_cache(client, users, database):
    username = users.create(Role.MA)
    before = generation(database)
    users.token(username)
    assert generation(database) == before


def test_the_token_cache_belongs_to_its_database_not_to_the_app(client, users, database, tmp_path):
    """Tests share one app; each brings its own database and so its own cache."""
    token = users.token(users.create(Role.MA))
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    cache = token_cache(database)
    assert cache.get(token_digest(token), cache.generation()) is not None
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert token_cache(other) is not cache
        assert token_cache(other).get(token_digest(token), 0) is None
    finally:
        other.dispose()


def test_without_a_generation_row_every_request_looks_its_token_up(client, users, database):
    """A database whose counter row is gone is never trusted from the cache."""
    headers = bearer(users.token(users.create(Role.MA)))
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM auth_generation"))
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert token_cache(database).generation() is None
    with database.engine.begin() as conn:
        conn.execute(update(User).values(active=False))
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_a_dropped_generation_connection_is_replaced_and_nothing_is_trusted_meanwhile(
    client, users, database, backend
):
    """The server ends the connection the counter is read on (a restart, an idle timeout):
    that read trusts nothing from the cache, the next one reads on a new connection (on
    PostgreSQL re-preparing its statement), and a logout meanwhile is still honoured."""
    if backend != "postgres":
        pytest.skip("a SQLite connection cannot be ended from outside")
    token = users.token(users.create(Role.MA))
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    cache = token_cache(database)
    before = cache.generation()
    assert before is not None
    pid = cache._driver.info.backend_pid
    with database.engine.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert cache.generation() is None
    assert cache.generation() == before
    assert cache._driver.info.backend_pid != pid
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 401


def test_requests_arriving_while_a_generation_read_is_in_flight_share_the_next_one(
    database, backend
):
    """PostgreSQL: ten requests at once send two reads, not ten: the first request's, and
    one for the nine that arrived after it was sent (so sent after they arrived, and as
    fresh as reads of their own)."""
    if backend != "postgres":
        pytest.skip("SQLite reads the counter inline, in microseconds")
    cache = token_cache(database)

    async def ten_at_once() -> tuple[list[int | None], int]:
        results = await asyncio.gather(*(cache.generation_now() for _ in range(10)))
        (reads,) = cache._shared.values()
        return results, reads.sent

    results, sent = asyncio.run(ten_at_once())
    assert sent == 2
    assert results == [cache.generation()] * 10


def test_a_dropped_shared_read_connection_trusts_nothing_and_is_replaced(
    client, users, database, backend
):
    """The server ends the connection the requests' shared reads use: the request that
    finds it dropped looks its token up, the next read is sent on a new connection, and a
    logout is honoured on the next request."""
    if backend != "postgres":
        pytest.skip("SQLite reads the counter inline")
    token = users.token(users.create(Role.MA))
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    (reads,) = token_cache(database)._shared.values()
    pid = reads._driver.info.backend_pid
    with database.engine.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 200
    assert reads._driver.info.backend_pid != pid
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/users/me", headers=bearer(token)).status_code == 401
