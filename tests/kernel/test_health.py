"""`/health` answers without auth and reports the migration state."""

from sqlalchemy import text

from kernel.db import Database
from kernel.health import check_health
from kernel.migrations import script_heads


def test_health_reports_database_and_migration_head(client, backend):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == ("sqlite" if backend == "sqlite" else "postgresql")
    assert body["migrations"]["current"] == sorted(script_heads())
    assert body["migrations"]["up_to_date"] is True


def test_health_sets_security_headers_and_request_id(client):
    response = client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert len(response.headers["x-request-id"]) == 32


def test_health_of_a_database_never_migrated_says_so_and_is_not_ok(backend, database_url, tmp_path):
    """The version table is looked for only when reading it fails: a database without it
    answers 'no revisions', on both databases (PostgreSQL after its failed statement)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with Database(database_url).engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS health_never_migrated"))
        url = database_url + "?options=-csearch_path%3Dhealth_never_migrated"
    db = Database(url)
    try:
        health = check_health(db)
    finally:
        db.dispose()
        if backend != "sqlite":  # a schema left behind would be in every later backup
            with Database(database_url).engine.begin() as conn:
                conn.execute(text("DROP SCHEMA health_never_migrated"))
    assert health.status == "error" and health.database == db.engine.dialect.name
    assert health.migrations is not None
    assert health.migrations.current == [] and health.migrations.up_to_date is False
