"""The schema comparison of a strict restore: SQLite table constraints written in another
order are the same table; a dropped, added, reordered or changed column, and a changed,
added or dropped constraint, are a different one."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from kernel.schema_check import differences, sqlite_schema

COLUMNS = [
    "id INTEGER NOT NULL",
    "code VARCHAR(20) NOT NULL",
    "status VARCHAR(20) NOT NULL",
    "short TEXT DEFAULT '[a, b]' NOT NULL",
    "cycle_id INTEGER",
]
CONSTRAINTS = [
    "PRIMARY KEY (id)",
    "CONSTRAINT ck_packs_status CHECK (status IN ('sterile','recalled'))",
    "CONSTRAINT uq_packs_code UNIQUE (code)",
    "FOREIGN KEY(cycle_id) REFERENCES cycles (id)",
]
TRIGGER = (
    "CREATE TRIGGER unrecall AFTER UPDATE ON packs WHEN NEW.status = 'recalled' "
    "BEGIN UPDATE packs SET status = 'sterile' WHERE id = NEW.id; END"
)


def create_table(columns: list[str], constraints: list[str]) -> str:
    return f'CREATE TABLE "packs" ({", ".join(columns + constraints)})'


def schema(path: Path, *sql: str) -> dict[str, str]:
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("CREATE TABLE cycles (id INTEGER NOT NULL, PRIMARY KEY (id))")
        for statement in sql:
            conn.execute(statement)
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return sqlite_schema(connection)
    finally:
        engine.dispose()


@pytest.fixture
def built(tmp_path) -> dict[str, str]:
    return schema(tmp_path / "built.db", create_table(COLUMNS, CONSTRAINTS))


def test_the_same_constraints_in_another_order_are_the_same_table(built, tmp_path):
    for n, order in enumerate([CONSTRAINTS[::-1], CONSTRAINTS[1:] + CONSTRAINTS[:1]]):
        restored = schema(tmp_path / f"r{n}.db", create_table(COLUMNS, order))
        assert differences(restored, built) == []


@pytest.mark.parametrize(
    ("columns", "constraints"),
    [
        pytest.param(COLUMNS[:-1], CONSTRAINTS[:-1], id="dropped column"),
        pytest.param([*COLUMNS, "note TEXT"], CONSTRAINTS, id="added column"),
        pytest.param([COLUMNS[1], COLUMNS[0], *COLUMNS[2:]], CONSTRAINTS, id="columns reordered"),
        pytest.param(
            [*COLUMNS[:2], "status VARCHAR(20)", *COLUMNS[3:]], CONSTRAINTS, id="nullable"
        ),
        pytest.param([*COLUMNS[:2], "status TEXT NOT NULL", *COLUMNS[3:]], CONSTRAINTS, id="type"),
        pytest.param(
            [*COLUMNS[:3], "short TEXT DEFAULT '[]' NOT NULL", *COLUMNS[4:]],
            CONSTRAINTS,
            id="default",
        ),
        pytest.param(
            COLUMNS,
            [
                CONSTRAINTS[0],
                "CONSTRAINT ck_packs_status CHECK (status IN ('sterile'))",
                *CONSTRAINTS[2:],
            ],
            id="changed check",
        ),
        pytest.param(COLUMNS, CONSTRAINTS[:1] + CONSTRAINTS[2:], id="dropped check"),
        pytest.param(COLUMNS, [*CONSTRAINTS, "CHECK (cycle_id > 0)"], id="added check"),
        pytest.param(COLUMNS, CONSTRAINTS[:-1], id="dropped foreign key"),
        pytest.param(COLUMNS, [*CONSTRAINTS, CONSTRAINTS[-1]], id="doubled foreign key"),
    ],
)
def test_an_altered_table_differs(built, tmp_path, columns, constraints):
    restored = schema(tmp_path / "r.db", create_table(columns, constraints))
    assert differences(restored, built) == [
        f"altered table packs (on packs): {restored['table packs (on packs)']!r}, "
        f"the migrations make {built['table packs (on packs)']!r}"
    ]


def test_an_added_trigger_or_view_differs(built, tmp_path):
    restored = schema(
        tmp_path / "r.db",
        create_table(COLUMNS, CONSTRAINTS[::-1]),
        TRIGGER,
        "CREATE VIEW sterile_now AS SELECT id FROM packs",
    )
    assert differences(restored, built) == [
        "extra trigger unrecall (on packs)",
        "extra view sterile_now (on sterile_now)",
    ]
