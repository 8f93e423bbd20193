"""`/health` answers without auth and reports the migration state."""

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
