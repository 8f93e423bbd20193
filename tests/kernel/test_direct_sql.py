"""`kernel.direct_sql`: a statement run on the driver's cursor stores and reads values
exactly as `Connection.execute` does, raises SQLAlchemy's errors, and marks a write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from kernel.db import Database, Money, UTCDateTime
from kernel.direct_sql import Direct, stream_tuples, writes_so_far

probe = Table(
    "direct_sql_probe",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("day", Date),
    Column("flag", Boolean, nullable=False),
    Column("name", String(20), nullable=False),
    Column("amount", Money),
    Column("reading", Float),  # PostgreSQL converts by the type code only a cursor has
)
_INSERT = Direct(insert(probe))
_BY_ID = Direct(select(probe).where(probe.c.id == bindparam("wanted")))
_RENAME = Direct(
    update(probe).where(probe.c.id == bindparam("wanted")).values(name=bindparam("new_name"))
)
ROW = {
    "id": 1,
    "at": dt.datetime(2026, 3, 8, 7, 59, 1, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-6))),
    "day": dt.date(2026, 12, 31),
    "flag": True,
    "name": "gloves",
    "amount": Decimal("0.0450"),
    "reading": 132.6,
}


@pytest.fixture
def table(database: Database) -> Iterator[Table]:
    probe.metadata.create_all(database.engine)
    yield probe
    probe.metadata.drop_all(database.engine)


def test_a_row_written_directly_reads_back_as_through_sqlalchemy(database, table):
    with database.session() as session:
        connection = session.connection()
        _INSERT.run(connection, ROW)
        assert writes_so_far(connection) == 1
        (direct,) = _BY_ID.run(connection, {"wanted": 1})
        through = connection.execute(select(table).where(table.c.id == 1)).one()
        assert direct == tuple(through)
        assert direct[1] == ROW["at"] and direct[1].tzinfo == dt.UTC
        assert direct[2:] == (ROW["day"], True, "gloves", Decimal("0.0450"), 132.6)


def test_a_row_written_through_sqlalchemy_reads_back_the_same_directly(database, table):
    with database.session() as session:
        connection = session.connection()
        connection.execute(insert(table), ROW)
        _RENAME.run(connection, {"wanted": 1, "new_name": "masks"})
        (direct,) = _BY_ID.run(connection, {"wanted": 1})
        assert direct == tuple(connection.execute(select(table)).one())
        assert direct[4] == "masks"


def test_many_rows_at_once(database, table):
    with database.session() as session:
        connection = session.connection()
        _INSERT.run_many(connection, [ROW | {"id": i, "name": f"n{i}"} for i in (1, 2, 3)])
        names = connection.execute(select(table.c.name).order_by(table.c.id)).scalars().all()
        assert names == ["n1", "n2", "n3"]


def test_a_driver_error_is_raised_as_sqlalchemys(database, table):
    with database.session() as session:
        connection = session.connection()
        _INSERT.run(connection, ROW)
        with pytest.raises(IntegrityError):
            _INSERT.run(connection, ROW)
        session.rollback()


def test_a_statement_with_an_expanding_parameter_is_refused(database):
    statement = Direct(select(probe).where(probe.c.id.in_(bindparam("ids", expanding=True))))
    with database.session() as session, pytest.raises(ValueError, match="expanding"):
        statement.run(session.connection(), {"ids": [1]})


def test_a_long_read_streams_in_batches_with_its_parameters_converted(database, table):
    """`stream_tuples`: one query read `size` rows at a time, its `IN` list and times bound
    as `Connection.execute` binds them, the rows as the driver returns them."""
    rows = [ROW | {"id": i, "at": ROW["at"] + dt.timedelta(hours=i)} for i in range(1, 8)]
    with database.session() as session:
        connection = session.connection()
        _INSERT.run_many(connection, rows)
        statement = (
            select(probe.c.id)
            .where(probe.c.id.in_([1, 2, 3, 5, 6, 7]), probe.c.at >= rows[1]["at"])
            .order_by(probe.c.id)
        )
        batches = list(stream_tuples(connection, statement, 2))
    assert [[tuple(r) for r in b] for b in batches] == [[(2,), (3,)], [(5,), (6,)], [(7,)]]


def test_a_long_read_stopped_early_leaves_the_connection_usable(database, table):
    with database.session() as session:
        connection = session.connection()
        _INSERT.run_many(connection, [ROW | {"id": i, "name": f"n{i}"} for i in range(1, 50)])
        session.commit()
    with database.session(write=False) as session:
        connection = session.connection()
        batches = stream_tuples(connection, select(probe.c.id).order_by(probe.c.id), 5)
        assert [r[0] for r in next(batches)] == [1, 2, 3, 4, 5]
        batches.close()
    with database.session(write=False) as session:
        assert (
            session.connection().execute(select(probe.c.name).where(probe.c.id == 9)).scalar()
            == "n9"
        )
