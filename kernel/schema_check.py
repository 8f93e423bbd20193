"""The schema a database has, compared with the one the migrations build: a restore refuses
a backup with an extra trigger (one turning recalled packs back to `sterile`), an extra
view or index, or a missing or altered table, naming the difference.

SQLite: every `sqlite_master` entry (type, name, table, SQL with whitespace collapsed). A
table's SQL is compared by its structure: the same column definitions in the same order and
the same table constraints in any order -- SQLite batch migrations rebuild a table from a set
of constraints, so two runs of the same migrations write them in different orders.
PostgreSQL: tables and columns (type, nullability, default), indexes (definition),
triggers (definition, enabled), views, sequences and functions of the `public` schema.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

_SPACE = re.compile(r"\s+")


def _norm(sql: str | None) -> str:
    return _SPACE.sub(" ", sql or "").strip().replace("( ", "(").replace(" )", ")")


_CLOSING = {"'": "'", '"': '"', "`": "`", "[": "]"}
_TABLE_CONSTRAINT = re.compile(r"(CONSTRAINT|PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY)\b", re.I)


def _split_body(sql: str) -> tuple[str, list[str], str] | None:
    """`CREATE TABLE t (a, b, ...) tail` as ("CREATE TABLE t", [a, b, ...], "tail"), split at
    the commas outside parentheses and quotes; None when the text does not parse so."""
    start = sql.find("(")
    if start < 0:
        return None
    items: list[str] = []
    depth, quote, item_start = 0, "", start + 1
    for index in range(start + 1, len(sql)):
        char = sql[index]
        if quote:
            if char == _CLOSING[quote]:
                quote = ""
        elif char in "'\"`[":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                items.append(sql[item_start:index].strip())
                return sql[:start].strip(), items, sql[index + 1 :].strip()
            depth -= 1
        elif char == "," and depth == 0:
            items.append(sql[item_start:index].strip())
            item_start = index + 1
    return None


def _table_structure(sql: str) -> str:
    """A table's SQL with its table constraints sorted: the columns keep their order (a
    column's type, nullability, default and inline constraints are its text), the table
    constraints (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY, named or not) are compared as a
    set. Text that does not parse as a table is kept as it is, so it differs."""
    parts = _split_body(sql)
    if parts is None or not parts[0].upper().startswith("CREATE TABLE"):
        return sql
    head, items, tail = parts
    columns = [item for item in items if not _TABLE_CONSTRAINT.match(item)]
    constraints = sorted(item for item in items if _TABLE_CONSTRAINT.match(item))
    return f"{head} ({', '.join(columns + constraints)}) {tail}".strip()


def sqlite_schema(connection: Connection) -> dict[str, str]:
    rows = connection.execute(
        text("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    ).all()
    return {
        f"{kind} {name} (on {table})": (
            _table_structure(_norm(sql)) if kind == "table" else _norm(sql)
        )
        for kind, name, table, sql in rows
    }


_POSTGRES_QUERIES = {
    "column": """
        SELECT table_name || '.' || column_name,
               data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
        FROM information_schema.columns WHERE table_schema = 'public'
    """,
    "table": """
        SELECT table_name, table_type FROM information_schema.tables
        WHERE table_schema = 'public'
    """,
    "index": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "trigger": """
        SELECT t.tgname || ' on ' || c.relname, pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname = 'public'
    """,
    "function": """
        SELECT p.proname, md5(p.prosrc) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    """,
    "sequence": """
        SELECT sequence_name, data_type FROM information_schema.sequences
        WHERE sequence_schema = 'public'
    """,
    "rule": "SELECT rulename || ' on ' || tablename, definition FROM pg_rules "
    "WHERE schemaname = 'public'",
    "policy": "SELECT policyname || ' on ' || tablename, qual FROM pg_policies "
    "WHERE schemaname = 'public'",
}


def postgres_schema(connection: Connection) -> dict[str, str]:
    found: dict[str, str] = {}
    for kind, query in _POSTGRES_QUERIES.items():
        for name, definition in connection.execute(text(query)).all():
            found[f"{kind} {name}"] = _norm(str(definition))
    return found


def schema_of(connection: Connection) -> dict[str, str]:
    if connection.dialect.name == "sqlite":
        return sqlite_schema(connection)
    return postgres_schema(connection)


def differences(actual: dict[str, str], expected: dict[str, str]) -> list[str]:
    """What `actual` has that `expected` does not, lacks, or defines otherwise."""
    found = [f"extra {name}" for name in sorted(actual.keys() - expected.keys())]
    found += [f"missing {name}" for name in sorted(expected.keys() - actual.keys())]
    found += [
        f"altered {name}: {actual[name]!r}, the migrations make {expected[name]!r}"
        for name in sorted(actual.keys() & expected.keys())
        if actual[name] != expected[name]
    ]
    return found


def migrated_sqlite_schema() -> dict[str, str]:
    """The schema a fresh SQLite database has after every migration."""
    from kernel.db import make_engine
    from kernel.migrations import upgrade

    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{Path(directory) / 'fresh.db'}"
        upgrade(url)
        engine = make_engine(url, pool_size=1)
        try:
            with engine.connect() as connection:
                return sqlite_schema(connection)
        finally:
            engine.dispose()
