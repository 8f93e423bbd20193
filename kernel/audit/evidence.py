"""Records that prove themselves: the evidence-table registry, the database triggers, the
seals written at commit, and the verification of every row against its seal.

A domain names its evidence tables (rows an auditor relies on) where it defines them:

    evidence.register(PackEvent.__table__)                 # append-only
    evidence.register(Cycle.__table__, updated=True)       # status column changes

and its migration installs the triggers (`install_triggers(op.get_bind(), table)`).
For each table the database then logs every inserted (and, for `updated` tables, updated)
row in `record_changes`, and refuses UPDATE (append-only tables) and DELETE (all). At
commit, `kernel.audit.sealing` digests each logged row as stored, appends a seal to the keyed
chain `record_seals` (HMAC with a key kept outside the database, `kernel.audit.keys`),
seals the audit chain's new head the same way, and empties the log.

`verify_records` recomputes it all: the seal chain's MACs, every row's digest against its
newest seal (a changed row, a row without a seal, a sealed row gone), the audit entries
against their sealed hashes, and the unsealed log. docs/tamper_evidence.md says what this
proves and against whom.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kernel.audit.keys import mac, seal_key
from kernel.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from kernel.audit.seal_models import RecordChange, RecordSeal, RecordSealHead

AUDIT_TABLE = "audit_entries"
DELETED = "deleted"
DIGEST_BATCH = 5000  # rows read back per statement when sealing (a 5,000-pack recall: few)


@dataclass(frozen=True)
class EvidenceTable:
    """A table whose rows are evidence. `updated`: the product changes some rows in place
    (a status column), so UPDATE is allowed and each change is sealed again."""

    table: Table
    updated: bool = False

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def key_columns(self) -> list[str]:
        return [c.name for c in self.table.primary_key.columns]


_REGISTRY: dict[str, EvidenceTable] = {}


def register(table: Table, *, updated: bool = False) -> None:
    """Name `table` as evidence (call where the table is defined)."""
    _REGISTRY[table.name] = EvidenceTable(table, updated)


def evidence_tables() -> list[EvidenceTable]:
    return sorted(_REGISTRY.values(), key=lambda t: t.name)


def row_key(values: Iterable[Any]) -> str:
    return ",".join(str(v) for v in values)


_AS_IS = frozenset({str, int, bool, type(None)})  # most columns: no conversion


def _plain(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "value"):  # an enum
        return value.value
    return value


def row_digest(table: str, row: Any) -> str:
    """SHA-256 of a row as stored (every column, by name)."""
    return values_digest(table, row._mapping)


def values_digest(table: str, mapping: Mapping[str, Any]) -> str:
    """SHA-256 of a row's column values (column name -> value as read back)."""
    payload = json.dumps(
        [table, sorted((str(k), _plain(v)) for k, v in mapping.items())],
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def seal_mac(key: bytes, seq: int, table: str, key_text: str, digest: str, prev: str) -> str:
    return mac(key, json.dumps([seq, table, key_text, digest, prev], separators=(",", ":")))


# --- triggers ------------------------------------------------------------------------


def _sqlite_key(evidence: EvidenceTable) -> str:
    return " || ',' || ".join(f"CAST(NEW.{c} AS TEXT)" for c in evidence.key_columns)


def trigger_names(evidence: EvidenceTable) -> list[str]:
    t = evidence.name
    names = [f"{t}_log_insert", f"{t}_no_delete"]
    names.append(f"{t}_log_update" if evidence.updated else f"{t}_no_update")
    return names


def trigger_ddl(dialect: str, evidence: EvidenceTable) -> list[str]:
    """The statements creating `evidence`'s triggers on this dialect."""
    t = evidence.name
    if dialect == "sqlite":
        # Table and column names come from the registry (code), never from input.
        log = (
            f"INSERT INTO record_changes (table_name, row_key) VALUES ('{t}', "  # noqa: S608
            f"{_sqlite_key(evidence)});"
        )
        refuse = "SELECT RAISE(ABORT, '{t} rows are evidence: {what} refused');"
        ddl = [
            f"CREATE TRIGGER {t}_log_insert AFTER INSERT ON {t} BEGIN {log} END",
            f"CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} BEGIN "
            + refuse.format(t=t, what="DELETE")
            + " END",
        ]
        if evidence.updated:
            ddl.append(f"CREATE TRIGGER {t}_log_update AFTER UPDATE ON {t} BEGIN {log} END")
        else:
            ddl.append(
                f"CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} BEGIN "
                + refuse.format(t=t, what="UPDATE")
                + " END"
            )
        return ddl
    keys = ", ".join(f"'{c}'" for c in evidence.key_columns)
    ddl = [
        f"CREATE TRIGGER {t}_log_insert AFTER INSERT ON {t} FOR EACH ROW "
        f"EXECUTE FUNCTION steristock_record_changed({keys})",
        f"CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} FOR EACH ROW "
        "EXECUTE FUNCTION steristock_refuse_change()",
    ]
    if evidence.updated:
        ddl.append(
            f"CREATE TRIGGER {t}_log_update AFTER UPDATE ON {t} FOR EACH ROW "
            f"EXECUTE FUNCTION steristock_record_changed({keys})"
        )
    else:
        ddl.append(
            f"CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} FOR EACH ROW "
            "EXECUTE FUNCTION steristock_refuse_change()"
        )
    return ddl


POSTGRES_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION steristock_record_changed() RETURNS trigger AS $$
    DECLARE
        k text := '';
        i int;
    BEGIN
        FOR i IN 0 .. TG_NARGS - 1 LOOP
            IF i > 0 THEN k := k || ','; END IF;
            k := k || (to_jsonb(NEW) ->> TG_ARGV[i]);
        END LOOP;
        INSERT INTO record_changes (table_name, row_key) VALUES (TG_TABLE_NAME, k);
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION steristock_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '% rows are evidence: % refused', TG_TABLE_NAME, TG_OP;
    END
    $$ LANGUAGE plpgsql
    """,
]
APPEND_ONLY_KERNEL_TABLES = (AUDIT_TABLE, "record_seals")


def kernel_trigger_ddl(dialect: str) -> list[str]:
    """The audit entries and the seals themselves: never updated nor deleted."""
    ddl = list(POSTGRES_FUNCTIONS) if dialect == "postgresql" else []
    for t in APPEND_ONLY_KERNEL_TABLES:
        if dialect == "sqlite":
            for op in ("UPDATE", "DELETE"):
                ddl.append(
                    f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} BEGIN "
                    f"SELECT RAISE(ABORT, '{t} rows are evidence: {op} refused'); END"
                )
        else:
            for op in ("UPDATE", "DELETE"):
                ddl.append(
                    f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} FOR EACH ROW "
                    "EXECUTE FUNCTION steristock_refuse_change()"
                )
    return ddl


def install_triggers(connection: Connection, evidence: EvidenceTable) -> None:
    for statement in trigger_ddl(connection.dialect.name, evidence):
        connection.execute(text(statement))


def seal_existing_rows(connection: Connection, evidence: EvidenceTable) -> int:
    """Seal every row already in `evidence` (the migration that registers a table)."""
    rows = connection.execute(select(evidence.table)).all()
    key_columns = evidence.key_columns
    pending = [
        (evidence.name, row_key(getattr(r, c) for c in key_columns), row_digest(evidence.name, r))
        for r in rows
    ]
    _append_seals(connection, pending, audit_head=None)
    return len(pending)


def expected_triggers() -> dict[str, str]:
    """trigger name -> its table, for the kernel's tables and every registered one."""
    found = {
        f"{t}_no_{verb}": t for t in APPEND_ONLY_KERNEL_TABLES for verb in ("update", "delete")
    }
    for evidence in evidence_tables():
        found.update(dict.fromkeys(trigger_names(evidence), evidence.name))
    return found


def missing_triggers(connection: Connection) -> list[str]:
    """The evidence triggers that are absent (or disabled, on PostgreSQL)."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        present = {name: table for name, table in rows}
    else:
        rows = connection.execute(
            text(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c "
                "ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'"
            )
        ).all()
        present = {name: table for name, table in rows}
    return [
        f"{table}: trigger {name} is missing or disabled"
        for name, table in expected_triggers().items()
        if present.get(name) != table
    ]


# --- sealing ------------------------------------------------------------------------
# The commit hook that seals each write is `kernel.audit.sealing` (imported at the end).

_seals_t = RecordSeal.__table__  # type: ignore[attr-defined]
_head_t = RecordSealHead.__table__  # type: ignore[attr-defined]
_changes_t = RecordChange.__table__  # type: ignore[attr-defined]
_audit_head_t = AuditHead.__table__  # type: ignore[attr-defined]

_LOCK_SEAL_HEAD = (
    select(_head_t.c.seq, _head_t.c.mac, _head_t.c.audit_seq)
    .where(_head_t.c.id == 1)
    .with_for_update()
)
_INSERT_SEALS = insert(_seals_t)
_SET_SEAL_HEAD = (
    update(_head_t)
    .where(_head_t.c.id == 1)
    .values(seq=bindparam("new_seq"), mac=bindparam("new_mac"), audit_seq=bindparam("new_audit"))
)


def chain_seals(
    items: Iterable[tuple[str, str, str]], seq: int, prev: str
) -> tuple[list[dict[str, Any]], int, str]:
    """The seal rows for (table, key, digest) items after the seal (seq, prev); the new
    head's (seq, mac)."""
    key = seal_key()
    rows = []
    for table, key_text, digest in items:
        seq += 1
        prev = seal_mac(key, seq, table, key_text, digest, prev)
        rows.append(
            {"seq": seq, "table_name": table, "row_key": key_text, "digest": digest, "mac": prev}
        )
    return rows, seq, prev


def _append_seals(
    connection: Connection,
    pending: list[tuple[str, str, str]],
    *,
    audit_head: tuple[int, str] | None,
) -> None:
    """Seal `pending` and the audit head (if newer than the last sealed), outside a
    request's commit (migrations)."""
    head = connection.execute(_LOCK_SEAL_HEAD).one()
    items = list(pending)
    audit_seq = head.audit_seq
    if audit_head is not None and audit_head[0] != head.audit_seq:
        items.append((AUDIT_TABLE, str(audit_head[0]), audit_head[1]))
        audit_seq = audit_head[0]
    if not items:
        return
    rows, seq, prev = chain_seals(items, head.seq, head.mac)
    connection.execute(_INSERT_SEALS, rows)
    connection.execute(_SET_SEAL_HEAD, {"new_seq": seq, "new_mac": prev, "new_audit": audit_seq})


# --- verification ----------------------------------------------------------------------


@dataclass
class RecordsReport:
    """What verify found over the seals; `problems` name the table and row."""

    seals: int = 0
    rows: int = 0
    head_mac: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


MAX_PROBLEMS = 200


def verify_records(session: Session, *, key: bytes | None = None) -> RecordsReport:
    """Every seal's MAC, every evidence row against its newest seal, the audit entries
    against their sealed hashes, and nothing left unsealed."""
    key = key or seal_key()
    report = RecordsReport()
    problems = report.problems
    latest: dict[str, dict[str, str]] = {}
    audit_seals: dict[int, str] = {}
    prev, expected = GENESIS_HASH, 0
    broken = False
    result = session.execute(
        select(_seals_t).order_by(_seals_t.c.seq).execution_options(yield_per=5000)
    )
    for seal in result:
        expected += 1
        if broken:
            continue
        if seal.seq != expected:
            problems.append(f"record_seals: seal {expected} is missing")
            broken = True
            continue
        if seal_mac(key, seal.seq, seal.table_name, seal.row_key, seal.digest, prev) != seal.mac:
            problems.append(
                f"record_seals: seal {seal.seq} ({seal.table_name} row {seal.row_key}) does not "
                "match its MAC (altered, or sealed with another key)"
            )
            broken = True
            continue
        prev = seal.mac
        if seal.table_name == AUDIT_TABLE:
            audit_seals[int(seal.row_key)] = seal.digest
        else:
            latest.setdefault(seal.table_name, {})[seal.row_key] = seal.digest
    report.seals = expected
    report.head_mac = prev
    head = session.execute(select(_head_t.c.seq, _head_t.c.mac, _head_t.c.audit_seq)).first()
    if not broken and (head is None or head.seq != expected or head.mac != prev):
        problems.append(
            "record_seals: the seal head does not match the last seal (seals removed from the end?)"
        )
    for change in session.execute(select(_changes_t.c.table_name, _changes_t.c.row_key)):
        problems.append(
            f"{change.table_name} row {change.row_key}: changed outside the application "
            "(logged by the trigger, never sealed)"
        )
    problems.extend(missing_triggers(session.connection()))
    _check_audit(session, audit_seals, problems)
    present = set(inspect(session.connection()).get_table_names())
    for evidence in evidence_tables():
        if evidence.name not in present:
            problems.append(f"{evidence.name}: the table is missing")
            continue
        report.rows += _check_table(session, evidence, latest.pop(evidence.name, {}), problems)
    del problems[MAX_PROBLEMS:]
    return report


def _check_audit(session: Session, sealed: dict[int, str], problems: list[str]) -> None:
    audit_head = session.execute(select(_audit_head_t.c.seq)).scalar() or 0
    last_sealed = max(sealed, default=0)
    if audit_head > last_sealed:
        problems.append(
            f"audit_entries: entries {last_sealed + 1}..{audit_head} carry no seal "
            "(written outside the application)"
        )
    seqs = sorted(sealed)
    for start in range(0, len(seqs), 1000):
        chunk = seqs[start : start + 1000]
        found = dict(
            session.execute(
                select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.in_(chunk))  # type: ignore[attr-defined]
            ).all()
        )
        for seq in chunk:
            if seq not in found:
                problems.append(f"audit_entries row {seq}: sealed, but missing")
            elif found[seq] != sealed[seq]:
                problems.append(
                    f"audit_entries row {seq}: its hash differs from the sealed one (the chain "
                    "was recomputed)"
                )


def _check_table(
    session: Session, evidence: EvidenceTable, sealed: dict[str, str], problems: list[str]
) -> int:
    count = 0
    key_columns = evidence.key_columns
    rows = session.execute(select(evidence.table).execution_options(yield_per=5000))
    for row in rows:
        count += 1
        key_text = row_key(getattr(row, c) for c in key_columns)
        digest = sealed.pop(key_text, None)
        if digest is None:
            problems.append(
                f"{evidence.name} row {key_text}: not sealed (inserted outside the application)"
            )
        elif digest != row_digest(evidence.name, row):
            problems.append(f"{evidence.name} row {key_text}: changed since it was sealed")
    for key_text, digest in sealed.items():
        if digest != DELETED:
            problems.append(f"{evidence.name} row {key_text}: sealed, but deleted")
    return count


# The commit hook (it needs the registry above).
import kernel.audit.sealing  # noqa: E402, F401
