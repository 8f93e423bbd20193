"""`kernel.reads.PreparedRead`: a statement compiled once and run on a pooled DBAPI
connection gives the values SQLAlchemy would (aware UTC datetimes, booleans, NULLs), binds
its parameters by name in any order, and hands its connection back to the pool."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, literal_column, select

from kernel.auth.models import Role, User
from kernel.db import Database
from kernel.reads import PreparedRead, read_connections
from kernel.sites.models import Site

_users = User.__table__  # type: ignore[attr-defined]


def test_a_prepared_read_gives_the_rows_sqlalchemy_gives(database, users):
    users.create(Role.MA, "mia", full_name="Mia", email="mia@clinic.example")
    users.create(Role.AUDITOR, "aud")
    statement = (
        select(_users, Site.__table__.c.code.label("site"))  # type: ignore[attr-defined]
        .select_from(_users.join(Site.__table__, Site.__table__.c.code == "MAIN"))  # type: ignore[attr-defined]
        .where(_users.c.role != bindparam("not_role"), _users.c.username >= bindparam("from"))
        .order_by(_users.c.username)
    )
    params = {"from": "a", "not_role": "admin"}  # not in the order the SQL uses them
    read = PreparedRead(statement)
    with database.engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(statement, params)]
    got = read.all(database, params)
    assert [u for u in expected if u[1] in ("aud", "mia")] and got == expected
    mia = next(r for r in got if r.username == "mia")
    assert mia.active is True and mia.email == "mia@clinic.example" and mia.site == "MAIN"
    assert mia.created_at.tzinfo is not None and mia.created_at.utcoffset().total_seconds() == 0
    assert next(r for r in got if r.username == "aud").email is None
    assert read.first(database, {"from": "zzz", "not_role": "admin"}) is None
    assert database.engine.pool.checkedout() == 0


def test_a_prepared_read_hands_no_autocommit_connection_to_the_pool_even_when_it_fails(
    database,
):
    """On PostgreSQL the reads run in autocommit on connections of their own; the engine's
    pool (which serves writers) never gets one back, after a failed statement either."""
    good = PreparedRead(select(_users.c.id).where(_users.c.username == bindparam("name")))
    bad = PreparedRead(select(literal_column("no_such_column")).select_from(_users))
    assert good.first(database, {"name": "nobody"}) is None
    with pytest.raises(Exception, match="no_such_column"):
        bad.all(database, {})
    assert good.first(database, {"name": "nobody"}) is None  # still reads after a failure
    assert database.engine.pool.checkedout() == 0
    idle = [database.engine.raw_connection() for _ in range(database.engine.pool.checkedin())]
    try:
        if not database.is_sqlite:
            assert all(raw.driver_connection.autocommit is False for raw in idle)
    finally:
        for raw in idle:
            raw.close()


def test_a_kept_read_connection_found_broken_is_replaced(database, users):
    """PostgreSQL: a connection that died while idle (a server restart) costs no failed
    request: the read runs again on a new connection; disposing closes what is kept."""
    if database.is_sqlite:
        pytest.skip("SQLite reads take the engine's pool (no kept connections)")
    users.create(Role.MA, "mia")
    read = PreparedRead(select(_users.c.username).where(_users.c.username == bindparam("name")))
    assert read.first(database, {"name": "mia"}).username == "mia"
    kept = read_connections(database)
    [idle] = kept._idle
    idle.close()  # as if the server had dropped it
    assert read.first(database, {"name": "mia"}).username == "mia"
    [fresh] = kept._idle
    assert fresh is not idle and fresh.autocommit is True
    kept.close()
    assert fresh.closed and not kept._idle


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("sqlite:///data/steristock.db", True),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/steristock", True),
        ("postgresql+psycopg://postgres@localhost/steristock", True),
        ("postgresql+psycopg://postgres@/steristock?host=/var/run/postgresql", True),
        ("postgresql+psycopg://postgres@db.clinic.example:5432/steristock", False),
        ("postgresql+psycopg://postgres@10.0.0.7/steristock", False),
    ],
)
def test_reads_run_on_the_event_loop_only_when_the_database_is_on_this_machine(
    url, local, tmp_path
):
    """A round trip over loopback costs less than a worker thread's hop; one over the
    network must not hold the event loop (`kernel.reads.run_read`)."""
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'steristock.db'}"
    db = Database(url)
    try:
        assert db.is_local is local
    finally:
        db.dispose()
