"""SQL is built only through the ORM / SQLAlchemy Core with bound parameters.

The app's source is parsed with `ast`: every `text(...)`, `exec_driver_sql(...)` and
`execute(...)` whose SQL argument is built from non-constant pieces (an f-string,
`%`-formatting, `.format()`, `+` concatenation, or a variable assigned from one of those)
fails the test with file:line, unless it is in ALLOWED with the reason it is safe. (Ruff's
S608 catches some of these too and stays enabled; this also covers `text()` and
variables.)
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["kernel", "steristock", "inventory", "sterilization", "equipment"]
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executescript", "literal_column"}

# (file, unparsed SQL argument) -> why the interpolated value cannot carry input.
ALLOWED = {
    ("kernel/db.py", "f'PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}'"): (
        "an int constant of the module"
    ),
    ("kernel/db.py", "f'PRAGMA synchronous={synchronous}'"): (
        "checked against the fixed SQLITE_SYNCHRONOUS_MODES just before (a ValueError otherwise)"
    ),
    ("kernel/backup.py", "f'CREATE DATABASE \"{name}\"'"): (
        "the operator's own DATABASE_URL database name plus a fixed suffix (a scratch database "
        "for checking a backup); identifiers cannot be bound parameters"
    ),
}


def is_dynamic(node: ast.AST, assigned: dict[str, ast.AST], depth: int = 0) -> bool:
    """True when the expression builds a string from something other than literals."""
    if depth > 5:
        return False
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(value, ast.FormattedValue) for value in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        stringy = is_string(node.left, assigned) or is_string(node.right, assigned)
        return stringy and not (is_literal(node.left) and is_literal(node.right))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
        and is_string(node.func.value, assigned)
    ):
        return True
    if isinstance(node, ast.Name) and node.id in assigned:
        return is_dynamic(assigned[node.id], assigned, depth + 1)
    return False


def is_string(node: ast.AST, assigned: dict[str, ast.AST]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return is_string(node.left, assigned) or is_string(node.right, assigned)
    return False


def is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.BinOp):
        return is_literal(node.left) and is_literal(node.right)
    return False


def call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def assignments(tree: ast.AST) -> dict[str, ast.AST]:
    """Every simple `name = value` in the file (any scope): conservative, a name built
    dynamically anywhere counts as dynamic everywhere."""
    found: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and not (
                target.id in found and is_dynamic(found[target.id], {})
            ):
                found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id] = node.value
    return found


def dynamic_sql_calls(source: str, filename: str) -> list[tuple[int, str]]:
    tree = ast.parse(source, filename=filename)
    assigned = assignments(tree)
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or call_name(node) not in SQL_CALLS or not node.args:
            continue
        argument = node.args[0]
        if is_dynamic(argument, assigned):
            hits.append((node.lineno, ast.unparse(argument)))
    return hits


def source_files() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_sql_is_never_built_from_interpolated_strings() -> None:
    offenders = []
    allowed_seen = set()
    for path in source_files():
        relative = path.relative_to(ROOT).as_posix()
        for line, argument in dynamic_sql_calls(path.read_text(), relative):
            if (relative, argument) in ALLOWED:
                allowed_seen.add((relative, argument))
                continue
            offenders.append(f"{relative}:{line}: {argument}")
    assert offenders == [], "SQL built from strings; use the ORM or bound parameters"
    assert allowed_seen == set(ALLOWED), "stale ALLOWED entries: remove them"


def test_the_scanner_catches_each_way_of_building_sql() -> None:
    source = """
from sqlalchemy import text
def bad(session, name, table):
    session.execute(text(f"SELECT * FROM users WHERE name = '{name}'"))
    session.execute(text("SELECT * FROM %s" % table))
    session.execute(text("SELECT * FROM {}".format(table)))
    session.execute(text("SELECT * FROM " + table))
    query = "DELETE FROM " + table
    session.execute(text(query))
    session.connection().exec_driver_sql(f"DROP TABLE {table}")
def good(session, name):
    session.execute(text("SELECT * FROM users WHERE name = :name"), {"name": name})
    session.execute(text("SELECT " "1" + " AS one"))
    statement = "SELECT 1"
    session.execute(text(statement))
"""
    lines = sorted(line for line, _ in dynamic_sql_calls(source, "example.py"))
    assert lines == [4, 5, 6, 7, 9, 10]


def test_ruff_keeps_the_sql_injection_rule_on() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in config["select"] or "S608" in config["select"]
    ignored = set(config.get("ignore", []))
    for pattern, rules in config.get("per-file-ignores", {}).items():
        if any(pattern.startswith(package) for package in PACKAGES):
            ignored |= set(rules)
    assert not ignored & {"S", "S608"}
