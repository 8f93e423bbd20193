"""Recording and verifying the audit trail.

Domain code calls :func:`record` next to each change. Entries are held on the session and
chained when the transaction commits: the chain head row is locked, each entry's SHA-256
covers its content and the previous hash, and the rows are inserted in that same
transaction, so a change and its audit entry are committed together or not at all. Holding
the head lock only for the commit keeps concurrent writers from queueing behind each other
for longer than they must.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session, SessionTransaction

from kernel.audit.models import GENESIS_HASH, AuditEntry, AuditHead
from kernel.db import utcnow

_PENDING = PENDING_KEY = "audit_pending"
_MARK = "steristock_audit_mark"  # on a savepoint: how many entries were pending at its start


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot audit a value of type {type(value).__name__}")


def _dump(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def snapshot(obj: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The column values of a table row, for an entry's before/after."""
    skip = set(exclude)
    return {
        column.key: getattr(obj, column.key)
        for column in obj.__table__.columns
        if column.key not in skip
    }


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Append an audit entry to the current transaction (written when it commits)."""
    session.info.setdefault(_PENDING, []).append(
        {
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "before": _dump(before),
            "after": _dump(after),
        }
    )


def entry_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: str | None,
    after: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 over an entry's content and its predecessor's hash."""
    payload = json.dumps(
        [
            seq,
            at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            actor,
            action,
            entity,
            entity_id,
            before,
            after,
            prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


# Built once (Core, bind parameters): every write request runs these at commit, and
# profiling the inventory consume path showed ORM statement building and bulk-insert
# bookkeeping here costing more than the rest of the request's database work.
_entries_t = AuditEntry.__table__  # type: ignore[attr-defined]
_head_t = AuditHead.__table__  # type: ignore[attr-defined]
_LOCK_HEAD = select(_head_t.c.seq, _head_t.c.hash).where(_head_t.c.id == 1).with_for_update()
_INSERT_ENTRIES = insert(_entries_t)
_SET_HEAD = (
    update(_head_t)
    .where(_head_t.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def take_pending(session: Session) -> list[dict[str, Any]]:
    """The entries recorded in this transaction, taken off the session."""
    return session.info.pop(_PENDING, None) or []


def chain_entries(
    pending: list[dict[str, Any]], seq: int, prev: str, at: dt.datetime
) -> tuple[list[dict[str, Any]], int, str]:
    """The audit rows for `pending` after the head (seq, prev); the new head."""
    rows = []
    for entry in pending:
        seq += 1
        digest = entry_hash(seq=seq, at=at, prev_hash=prev, **entry)
        rows.append({"seq": seq, "at": at, "prev_hash": prev, "hash": digest, **entry})
        prev = digest
    return rows, seq, prev


# The commit hook that writes the entries: `kernel.audit.sealing` installs its own (the
# entries and the record seals under one lock window); without it, `_write_entries`.
COMMIT_HOOK: list[Callable[[Session], None]] = []


def _write_entries(session: Session) -> None:
    session.flush()
    pending = take_pending(session)
    if not pending:
        return
    connection = session.connection()
    head = connection.execute(_LOCK_HEAD).one()
    rows, seq, prev = chain_entries(pending, head.seq, head.hash, utcnow())
    connection.execute(_INSERT_ENTRIES, rows)
    connection.execute(_SET_HEAD, {"new_seq": seq, "new_hash": prev})


@event.listens_for(Session, "before_commit")
def _write_pending_entries(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the outermost commit writes (and seals) it all
    (COMMIT_HOOK[-1] if COMMIT_HOOK else _write_entries)(session)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        setattr(transaction, _MARK, len(session.info.get(_PENDING) or ()))


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending_entries(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back savepoint takes only the entries recorded inside it; a rollback of
    the transaction takes them all."""
    mark = getattr(previous_transaction, _MARK, None) if previous_transaction.nested else None
    pending = session.info.get(_PENDING)
    if mark is None or pending is None:
        session.info.pop(_PENDING, None)
    else:
        del pending[mark:]


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    head: str
    first_bad_entry: int | None = None
    problem: str | None = None


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first entry that does not match."""
    expected_seq, prev = 0, GENESIS_HASH
    result = session.execute(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    ).scalars()
    for entry in result:
        expected_seq += 1
        problem = None
        if entry.seq != expected_seq:
            problem = f"entry {expected_seq} is missing"
        elif entry.prev_hash != prev:
            problem = "previous-hash link does not match"
        else:
            digest = entry_hash(
                seq=entry.seq,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                entity=entry.entity,
                entity_id=entry.entity_id,
                before=entry.before,
                after=entry.after,
                prev_hash=entry.prev_hash,
            )
            if digest != entry.hash:
                problem = "content does not match its hash"
        if problem:
            result.close()
            return ChainReport(False, expected_seq - 1, prev, expected_seq, problem)
        prev = entry.hash
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if head.seq != expected_seq or head.hash != prev:
        return ChainReport(
            False,
            expected_seq,
            prev,
            expected_seq + 1 if head.seq > expected_seq else expected_seq,
            "chain head does not match the last entry (entries removed from the end?)",
        )
    return ChainReport(True, expected_seq, prev)
