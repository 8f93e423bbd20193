"""Records that prove themselves: seals over the evidence tables, append-only triggers.

- `record_seals` (the keyed seal chain), `record_seal_head` (its head, and the audit entry
  it last sealed), `record_changes` (what the triggers logged, emptied at each commit).
- On each evidence table: a trigger logging inserted rows (and updated rows of the tables
  whose status the product changes), triggers refusing DELETE, and UPDATE on the others;
  `audit_entries` and `record_seals` refuse UPDATE and DELETE.
- Every existing evidence row and the audit head are sealed with this deployment's key
  (`kernel.audit.keys`: `STERISTOCK_AUDIT_KEY` or `<data dir>/audit_key`). A database
  whose audit chain does not verify is not sealed: the migration stops and says so.

A later migration that registers another evidence table calls
`evidence.install_triggers` and `evidence.seal_existing_rows` for it; one that rebuilds an
evidence table (SQLite batch mode) installs its triggers again.

Revision ID: 0010_record_seals
Revises: 0009_restock_purchasing
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0010_record_seals"
down_revision: str | Sequence[str] | None = "0011_sites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# name -> the product updates its rows in place (a status column)
EVIDENCE = {
    "cycles": True,
    "cycle_parameters": False,
    "bi_results": False,
    "cycle_amendments": False,
    "packs": True,
    "pack_events": False,
    "recalls": True,
    "recall_packs": True,
    "stock_movements": False,
}


def upgrade() -> None:
    from kernel.audit import evidence
    from kernel.audit.service import verify_chain

    op.create_table(
        "record_seals",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_key", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_index("ix_record_seals_table_name", "record_seals", ["table_name"])
    op.create_table(
        "record_seal_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
    )
    op.execute(
        sa.text(
            "INSERT INTO record_seal_head (id, seq, mac, audit_seq) VALUES (1, 0, :g, 0)"
        ).bindparams(g="0" * 64)
    )
    op.create_table(
        "record_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_key", sa.String(128), nullable=False),
    )
    connection = op.get_bind()
    with Session(bind=connection) as session:
        report = verify_chain(session)
    if not report.ok:
        raise RuntimeError(
            f"the audit chain does not verify (entry {report.first_bad_entry}: "
            f"{report.problem}); it is not sealed. Restore a good backup first."
        )
    dialect = connection.dialect.name
    for statement in evidence.kernel_trigger_ddl(dialect):
        op.execute(statement)
    metadata = sa.MetaData()
    for name, updated in EVIDENCE.items():
        table = sa.Table(name, metadata, autoload_with=connection)
        item = evidence.EvidenceTable(table, updated)
        evidence.seal_existing_rows(connection, item)
        evidence.install_triggers(connection, item)
    head = connection.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
    if head is not None and head.seq:
        evidence._append_seals(connection, [], audit_head=(head.seq, head.hash))


def downgrade() -> None:
    from kernel.audit import evidence

    dialect = op.get_bind().dialect.name
    triggers = [
        (t, f"{t}_no_{verb}")
        for t in evidence.APPEND_ONLY_KERNEL_TABLES
        for verb in ("update", "delete")
    ]
    for name, updated in EVIDENCE.items():
        last = "log_update" if updated else "no_update"
        triggers += [(name, f"{name}_{suffix}") for suffix in ("log_insert", "no_delete", last)]
    for table, trigger in triggers:
        on = "" if dialect == "sqlite" else f" ON {table}"
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}{on}")
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS steristock_record_changed()")
        op.execute("DROP FUNCTION IF EXISTS steristock_refuse_change()")
    op.drop_table("record_changes")
    op.drop_table("record_seal_head")
    op.drop_index("ix_record_seals_table_name", table_name="record_seals")
    op.drop_table("record_seals")
