"""What an insider with a copy of the database does: the evidence triggers turned off, rows
changed with SQL (without the seal key), the triggers put back so the schema looks
untouched. Tests of tamper evidence use these."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager

from sqlalchemy import text

from kernel.audit.evidence import (
    evidence_tables,
    expected_triggers,
    kernel_trigger_ddl,
    trigger_ddl,
    verify_records,
)
from kernel.auth.models import Role
from kernel.db import Database
from tests.test_auditor_write_operations import World


def _all_trigger_ddl(dialect: str) -> list[str]:
    ddl = [d for d in kernel_trigger_ddl(dialect) if "CREATE OR REPLACE FUNCTION" not in d]
    for evidence in evidence_tables():
        ddl.extend(trigger_ddl(dialect, evidence))
    return ddl


def _drop_statements(dialect: str) -> list[str]:
    on = dialect != "sqlite"
    return [
        f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if on else "")
        for name, table in expected_triggers().items()
    ]


@contextmanager
def triggers_off(database: Database) -> Iterator[None]:
    """The evidence triggers dropped for the block, created again after it."""
    dialect = database.engine.dialect.name
    with database.engine.begin() as conn:
        for statement in _drop_statements(dialect):
            conn.execute(text(statement))
    try:
        yield
    finally:
        with database.engine.begin() as conn:
            for statement in _all_trigger_ddl(dialect):
                conn.execute(text(statement))


def reinstall_triggers(database: Database) -> None:
    """Every evidence trigger as the migrations make it (after a test dropped one)."""
    dialect = database.engine.dialect.name
    with database.engine.begin() as conn:
        for statement in [*_drop_statements(dialect), *_all_trigger_ddl(dialect)]:
            conn.execute(text(statement))


def tamper(database: Database, *statements: str) -> None:
    """Run SQL as the insider would (SQLite: the sqlite3 shell, foreign keys off;
    PostgreSQL: replication role, so neither triggers nor foreign keys fire)."""
    dialect = database.engine.dialect.name
    if dialect == "sqlite":
        path = database.engine.url.database
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            for statement in _drop_statements(dialect):
                conn.execute(statement)
            for statement in statements:
                conn.execute(statement)
            for statement in _all_trigger_ddl(dialect):
                conn.execute(statement)
        return
    with database.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement))


def build_clinic(client, users, database) -> dict[str, int]:
    """A small clinic through the API: stock received and used, a good cycle, a pack used
    on a patient, an amended cycle, and a positive BI whose recall is open."""
    world = World(client, users)
    location = world.location()
    sku = world.item(lot_tracked=False)
    world.receive(sku, location, quantity=20)
    world.post("/api/v1/stock/movements",
               {"kind": "consume", "sku": sku, "location": location, "quantity": 3})  # fmt: skip
    used = world.sterile_pack()
    world.post(f"/api/v1/packs/{used}/use", {"encounter_ref": "ENC-1"}, expect=200)
    cycle_id = world.completed_cycle([world.pack()], bi_lot="LOT-1")
    world.post(f"/api/v1/cycles/{cycle_id}/bi-result",
               {"result": "negative", "control_grew": True}, expect=200)  # fmt: skip
    world.post(f"/api/v1/cycles/{cycle_id}/amendments",
               {"field": "notes", "value": "load was light", "reason": "late note"})  # fmt: skip
    recall = world.open_recall()
    with database.session(write=False) as session:
        report = verify_records(session)
    assert report.ok, report.problems
    return {"cycle": cycle_id, "recall": recall}


def build_second_edition_logs(client, users, database) -> None:
    """One row in each of the second edition's evidence logs, through the API: equipment
    run and test, maintenance, HLD run and use, an invalid spore test, an imported
    sterilizer record and a printout photo."""
    from tests.test_auditor_write_operations import HLD_RUN, _png

    world = World(client, users)
    equipment = world.equipment()
    world.post(f"/api/v1/equipment/{equipment}/runs", {"result": "pass"})
    world.post(f"/api/v1/equipment/{equipment}/tests", {"kind": "foil", "result": "pass"})
    world.post("/api/v1/maintenance", {"device": equipment, "kind": "inspection",
               "performed_by": "Acme Service", "performed_on": "2026-01-05"})  # fmt: skip
    device = world.hld_device()
    world.post(f"/api/v1/hld-devices/{device}/runs", HLD_RUN)
    world.post(f"/api/v1/hld-devices/{device}/use", {"encounter_ref": "ENC-9"}, expect=200)
    cycle_id = world.completed_cycle(bi_lot="LOT-INV")
    world.post(f"/api/v1/cycles/{cycle_id}/bi-result",
               {"result": "negative", "control_grew": False})  # fmt: skip
    admin = users.headers(Role.ADMIN)
    photo = {"file": ("printout.png", _png(), "image/png")}
    response = client.post(f"/api/v1/cycles/{cycle_id}/attachments", files=photo, headers=admin)
    assert response.status_code == 201, response.text
    record = {"file": ("cycle_000259.txt", world.elara_record(), "text/plain")}
    response = client.post("/api/v1/cycle-records", files=record, headers=admin)
    assert response.status_code in (200, 201), response.text
    with database.session(write=False) as session:
        report = verify_records(session)
    assert report.ok, report.problems
