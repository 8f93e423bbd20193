"""The record seals: a keyed chain over every row of the evidence tables and the audit head.

`record_changes` is the to-do list the database triggers fill (which evidence rows this
transaction inserted or updated); the commit turns it into `record_seals` rows and empties
it, so a committed row in it is a change made outside the application.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from kernel.audit.models import GENESIS_HASH


class RecordSeal(SQLModel, table=True):
    """One link: row `row_key` of `table_name` had content digest `digest` when sealed;
    `mac` = HMAC(key, [seq, table_name, row_key, digest, previous mac])."""

    __tablename__ = "record_seals"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    table_name: str = Field(max_length=64, index=True)
    row_key: str = Field(max_length=128)
    digest: str = Field(max_length=64)
    mac: str = Field(max_length=64)


class RecordSealHead(SQLModel, table=True):
    """The newest seal (locked by each sealing commit) and the audit entry it last sealed."""

    __tablename__ = "record_seal_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)
    mac: str = Field(default=GENESIS_HASH, max_length=64)
    audit_seq: int = Field(default=0, sa_type=BigInteger)


class RecordChange(SQLModel, table=True):
    """Filled by the evidence tables' triggers, emptied by the sealing commit."""

    __tablename__ = "record_changes"

    id: int | None = Field(default=None, primary_key=True)
    table_name: str = Field(max_length=64)
    row_key: str = Field(max_length=128)
