"""The cycle log, one row per cycle, and its CSV export.

The log is one query, read in batches as it streams inside one read transaction
(`kernel.direct_sql.stream_tuples`), so an export of any range runs in constant memory
and never re-reads or skips a row. The CSV is written with `kernel.csv_export`'s rules
(free text defused), a chunk per batch, for a `Stream`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from typing import Any, Protocol

from sqlalchemy import String, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from kernel.audit.models import AuditHead
from kernel.clock import ClinicTime
from kernel.csv_export import LINE_END, csv_text, defuse
from kernel.db import Database
from kernel.direct_sql import stream_tuples
from kernel.periods import Period
from kernel.read_ahead import read_ahead
from kernel.sites.query_scope import visible_site_ids
from sterilization.models import (
    BiProduct,
    BiResult,
    Cycle,
    CycleLoad,
    CycleParameters,
    InvalidBiTest,
    Sterilizer,
)

LOG_COLUMNS = (
    "sterilizer",
    "cycle_number",
    "cycle_type",
    "started_at",
    "ended_at",
    "operator",
    "temperature_c",
    "pressure_kpa",
    "exposure_minutes",
    "mechanical_ok",
    "chemical_ok",
    "bi_lot",
    "bi_result",
    "implants",
    "status",
    "pack_count",
    "pack_codes",
    # Second edition: what was in the load, the integrator, the BI's product and read time,
    # the IUSS reason, and when implants were released before their BI.
    "contents",
    "integrator",
    "bi_product",
    "bi_read_at",
    "iuss_reason",
    "early_release",
)
LOG_BATCH = 5000


def audit_head(session: Session) -> tuple[int, str]:
    """The audit chain's head (entries, hash): printed on exports so a paper copy can be
    matched to the system (`GET /api/v1/audit/verify` recomputes it)."""
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    return row.seq, row.hash


class LogRow(Protocol):
    """A row of the log as `iter_log` yields it (a SQLAlchemy Row with these labels)."""

    cycle_id: int
    sterilizer: str
    number: int
    cycle_type: str
    started_at: Any  # UTC text: see UtcText
    ended_at: Any
    operator: str
    temperature_c: float | None
    pressure_kpa: float | None
    exposure_minutes: float | None
    mechanical_ok: bool | None
    chemical_ok: bool | None
    bi_lot: str | None
    bi_result: str | None
    implants: bool
    status: str
    pack_count: int | None  # None only for a cycle without its load list
    pack_codes: str | None  # separated by spaces, in pack order
    pack_descriptions: str | None  # separated by "; "
    failure_reasons: str | None  # JSON list
    integrator: str | None
    bi_product: str | None
    bi_read_at: Any
    iuss_reason: str | None
    early_released_at: Any
    site_id: int


class UtcText(FunctionElement[str]):
    """A timestamp column as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]": SQLite's
    stored form as is; PostgreSQL formats it so (`to_char`), where the driver would build
    an aware datetime per value. :class:`LocalTimeText` turns either into clinic time."""

    type = String()
    inherit_cache = True
    name = "utc_text"


@compiles(UtcText)
def _utc_text_as_stored(element: UtcText, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(UtcText, "postgresql")
def _utc_text_postgresql(element: UtcText, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


def _log_select(*columns: Any) -> Any:
    """A cycle's packs come from its load list (`CycleLoad`, written when it started): one
    look-up by key, where aggregating the packs of every cycle took half the export's time.
    Times come as UTC text (:class:`UtcText`) and are converted by :class:`LocalTimeText`
    (much cheaper than the generic type processor)."""
    return (
        select(*columns)
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .outerjoin(CycleParameters, CycleParameters.cycle_id == Cycle.id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .outerjoin(BiProduct, BiProduct.id == Cycle.bi_product_id)
        .outerjoin(CycleLoad, CycleLoad.cycle_id == Cycle.id)
    )


def _bi_result() -> Any:
    """The BI's reading, or "invalid" for a test declared invalid and not read again."""
    invalid = (
        select(literal_column("'invalid'"))
        .where(InvalidBiTest.cycle_id == Cycle.id)
        .correlate(Cycle)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(BiResult.result, invalid).label("bi_result")


_LOG_SELECT = _log_select(
    Cycle.id.label("cycle_id"),
    Sterilizer.code.label("sterilizer"),
    Cycle.number,
    Cycle.cycle_type,
    UtcText(Cycle.started_at).label("started_at"),
    UtcText(Cycle.ended_at).label("ended_at"),
    Cycle.operator,
    CycleParameters.temperature_c,
    CycleParameters.pressure_kpa,
    CycleParameters.exposure_minutes,
    CycleParameters.mechanical_ok,
    CycleParameters.chemical_ok,
    Cycle.bi_lot,
    _bi_result(),
    Cycle.implants,
    Cycle.status,
    CycleLoad.pack_count,
    CycleLoad.pack_codes,
    CycleLoad.pack_descriptions,
    CycleParameters.failure_reasons,
    CycleParameters.integrator,
    BiProduct.code.label("bi_product"),
    UtcText(BiResult.read_at).label("bi_read_at"),
    Cycle.iuss_reason,
    UtcText(Cycle.early_released_at).label("early_released_at"),
    Cycle.site_id,
)
# The CSV's cells in `LOG_COLUMNS` order, then the cycle's site: only what the file shows,
# since each column read costs a conversion to a Python object on every row (SQLite: about
# 0.1 s per column over 500,000 cycles).
_CSV_SELECT = _LOG_SELECT.with_only_columns(
    *(c for c in _LOG_SELECT.selected_columns if c.key not in ("cycle_id", "failure_reasons"))
)


class LocalTimeText:
    """UTC instants as clinic wall-clock text with offset ("2026-10-05T08:00:00-05:00"),
    from naive UTC text (SQLite's stored form, `UtcText` on PostgreSQL) or aware
    datetimes. A log of 500,000 cycles would otherwise spend most of its time in zone
    arithmetic, so the local text of each UTC hour is kept: when the zone's offset is whole
    hours and does not change inside that hour, minutes and seconds are the UTC ones
    (true of every hour of most zones). A new hour of a day whose offset holds all day is
    found by adding hours to the text. Other instants are converted one by one."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self._hours: dict[Any, tuple[str, str] | None] = {}
        self._days: dict[str, tuple[int, str] | None] = {}

    @staticmethod
    def utc(value: Any) -> dt.datetime:
        """The instant as a naive UTC datetime."""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    @staticmethod
    def aware(value: Any) -> dt.datetime:
        return LocalTimeText.utc(value).replace(tzinfo=dt.UTC)

    def _offset(self, utc: dt.datetime) -> tuple[dt.timedelta, str]:
        offset = utc.replace(tzinfo=dt.UTC).astimezone(self.tz).utcoffset() or dt.timedelta()
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        return offset, f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def _whole_hours(
        self, start: dt.datetime, last: dt.timedelta
    ) -> tuple[dt.timedelta, str] | None:
        """The offset and its text from `start` to `start + last` when it is whole hours and
        does not change in between, else None."""
        offset, suffix = self._offset(start)
        if offset % dt.timedelta(hours=1) or self._offset(start + last)[0] != offset:
            return None
        return offset, suffix

    def _hour(self, start: dt.datetime) -> tuple[str, str] | None:
        """The local "YYYY-MM-DDTHH" and offset text of the UTC hour from `start`, or None
        when minutes and seconds would not carry over unchanged."""
        steady = self._whole_hours(start, _LAST_SECOND)
        if steady is None:
            return None
        return (start + steady[0]).isoformat()[:13], steady[1]

    def _whole_day(self, day: str) -> tuple[int, str] | None:
        """The offset in whole hours and its text of a UTC day ("YYYY-MM-DD") when the
        zone keeps it all day, else None."""
        steady = self._whole_hours(dt.datetime.fromisoformat(day), _LAST_DAY_SECOND)
        if steady is None:
            return None
        return int(steady[0].total_seconds()) // 3600, steady[1]

    def _hour_of_text(self, key: str) -> tuple[str, str] | None:
        """`_hour` of the UTC hour "YYYY-MM-DD HH" (SQLite's text, `UtcText`)."""
        day = key[:10]
        whole = self._days.get(day, _UNSEEN)
        if whole is _UNSEEN:
            whole = self._days[day] = self._whole_day(day)
        if whole is not None and 0 <= (hour := int(key[11:13]) + whole[0]) < 24:
            return f"{day}T{hour:02d}", whole[1]
        return self._hour(dt.datetime.fromisoformat(key + ":00"))

    def text(self, value: Any) -> str:
        if value is None:
            return ""
        if value.__class__ is str and len(value) in _NAIVE_TEXT_LENGTHS:
            key: Any = value[:13]
            hour = self._hours.get(key, _UNSEEN)
            if hour is _UNSEEN:
                hour = self._hours[key] = self._hour_of_text(key)
            if hour is not None:
                return hour[0] + value[13:19] + hour[1]
        elif value.__class__ is dt.datetime and value.utcoffset() == _ZERO:
            key = (value.year, value.month, value.day, value.hour)
            hour = self._hours.get(key, _UNSEEN)
            if hour is _UNSEEN:
                hour = self._hours[key] = self._hour(dt.datetime(*key))
            if hour is not None:
                return f"{hour[0]}:{value.minute:02d}:{value.second:02d}{hour[1]}"
        utc = self.utc(value)
        offset, suffix = self._offset(utc)
        return (utc + offset).isoformat(timespec="seconds") + suffix


_UNSEEN: Any = object()
_ZERO = dt.timedelta()
_LAST_SECOND = dt.timedelta(minutes=59, seconds=59)
_LAST_DAY_SECOND = dt.timedelta(hours=23, minutes=59, seconds=59)
# SQLite's stored UTC text: "YYYY-MM-DD HH:MM:SS", with ".ffffff" when written by the app.
_NAIVE_TEXT_LENGTHS = frozenset((19, 26))


def iter_log(
    session: Session,
    period: Period,
    *,
    sterilizer_id: int | None = None,
    batch: int = LOG_BATCH,
    csv_cells: bool = False,
    site_ids: Sequence[int] | None = None,
) -> Iterator[Sequence[LogRow]]:
    """The cycles started in the period, oldest first, `batch` at a time with their pack
    codes: one query, streamed. `csv_cells` yields the driver's plain tuples of the CSV's
    cells instead (`LOG_COLUMNS`, then the site's id; booleans may be 0/1 on SQLite),
    skipping result-row construction for the export."""
    base = [*period.where(Cycle.started_at)]
    if sterilizer_id is not None:
        base.append(Cycle.sterilizer_id == sterilizer_id)
    if site_ids is None:  # connection-level SQL: the user's sites by hand (kernel.sites)
        site_ids = visible_site_ids(session)
    if site_ids is not None:
        base.append(Cycle.site_id.in_(site_ids))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The planner's cost for the whole range turns JIT compilation on: 40 ms spent
        # compiling a query that runs in about as long.
        connection.exec_driver_sql("SET LOCAL jit = off")
    order = (Cycle.started_at, Cycle.id)
    if csv_cells:
        yield from stream_tuples(connection, _CSV_SELECT.where(*base).order_by(*order), batch)
        return
    statement = _LOG_SELECT.where(*base).order_by(*order)
    result = connection.execute(statement.execution_options(yield_per=batch))
    try:
        yield from result.partitions()
    finally:
        result.close()


_FLAGS = {None: "", True: "true", False: "false"}


class _ReadingTexts(dict[float | None, str]):
    """The text of a cycle's readings (temperature, pressure, exposure), kept: a
    sterilizer's readings repeat from cycle to cycle (132.6 °C, 205 kPa), and a look-up
    costs 0.04 µs where writing a float costs 0.2, three times on every row. Bounded, for
    a log whose readings never repeat; zero is never kept (0.0 and -0.0 are one key)."""

    def __init__(self) -> None:
        super().__init__({None: ""})

    def __missing__(self, value: float) -> str:
        text = f"{value}"
        if value and len(self) < _READINGS_KEPT:
            self[value] = text
        return text


_READINGS_KEPT = 10_000


def log_csv_lines(
    batches: Iterable[Sequence[Any]],
    zone: ClinicTime,
    sites: Mapping[int, tuple[str, ClinicTime]] | None = None,
    *,
    site_column: bool = False,
) -> Iterator[str]:
    """The CSV text of log batches (`iter_log(csv_cells=True)`), one chunk per batch:
    times in the cycle's site's zone (`sites`: id → (code, zone); else `zone`) with their
    offset, pack codes separated by spaces; with `site_column`, the site's code first (a
    log spanning several sites).

    The same text `kernel.csv_export.csv_text` writes, built as one f-string per row: a
    line whose cells hold no quote, comma or line break needs no quoting, which one scan of
    the line tells (any other line goes through the csv module). Over 125,000 cycles this
    took 0.4 s where `csv.writer`, which copies every character one by one, took 1.1 s.
    Empty cells (None) are tested inline rather than passed to a function (a call costs
    about 0.1 µs, on every row): 1.7 s became 1.5 s over 500,000 cycles."""
    texts = {i: (code, LocalTimeText(z.tz).text) for i, (code, z) in (sites or {}).items()}
    fallback = ("", LocalTimeText(zone.tz).text)
    flag, reading = _FLAGS, _ReadingTexts()
    commas = len(LOG_COLUMNS) - (0 if site_column else 1)
    site_of: Any = _UNSEEN
    site, when = fallback
    for rows in batches:
        lines = []
        append = lines.append
        # A plain loop over unpacked tuples: this runs for every row of every export.
        for (sterilizer, number, cycle_type, started, ended, operator, temperature,
             pressure, exposure, mechanical, chemical, bi_lot, bi_result, implants, status,
             count, codes, contents, integrator, bi_product, bi_read_at, iuss_reason,
             released, site_id) in rows:  # fmt: skip
            if site_id != site_of:
                site_of = site_id
                site, when = texts.get(site_id, fallback)
            operator = "" if operator is None else defuse(operator)
            bi_lot = "" if bi_lot is None else defuse(bi_lot)
            contents = "" if contents is None else defuse(contents)
            iuss_reason = "" if iuss_reason is None else defuse(iuss_reason)
            times = (
                when(started),
                "" if ended is None else when(ended),
                "" if bi_read_at is None else when(bi_read_at),
                "" if released is None else when(released),
            )
            line = (
                f"{sterilizer},{number},{cycle_type},{times[0]},{times[1]},"
                f"{operator},{reading[temperature]},{reading[pressure]},{reading[exposure]},"
                f"{flag[mechanical]},{flag[chemical]},{bi_lot},{bi_result or ''},"
                f"{flag[implants]},{status},{'' if count is None else count},{codes or ''},"
                f"{contents},{integrator or ''},{bi_product or ''},{times[2]},{iuss_reason},"
                f"{times[3]}"
            )
            if site_column:
                line = f"{site},{line}"
            if line.count(",") != commas or '"' in line or "\n" in line or "\r" in line:
                cells = (
                    sterilizer, number, cycle_type, times[0], times[1], operator, temperature,
                    pressure, exposure, flag[mechanical], flag[chemical], bi_lot, bi_result,
                    flag[implants], status, count, codes, contents, integrator, bi_product,
                    times[2], iuss_reason, times[3],
                )  # fmt: skip
                append(csv_text([(site, *cells) if site_column else cells], text_columns=()))
            else:
                append(line + LINE_END)
        yield "".join(lines)


def log_csv_chunks(
    db: Database,
    period: Period,
    zone: ClinicTime,
    *,
    sterilizer_id: int | None = None,
    batch: int = LOG_BATCH,
    site_ids: Sequence[int] | None = None,
    sites: Mapping[int, tuple[str, ClinicTime]] | None = None,
    site_column: bool = False,
) -> Iterator[str]:
    """The log as CSV text chunks (a header, then a chunk per batch), read in one read
    transaction of its own, so the response can stream after the request's session ends
    (its session has no user: `site_ids` are the request's sites, None for all)."""

    def chunks() -> Generator[str]:
        with db.session(write=False) as session:
            batches = iter_log(
                session, period, sterilizer_id=sterilizer_id, batch=batch, csv_cells=True,
                site_ids=site_ids,
            )  # fmt: skip
            # Closed before the session: a stream stopped midway holds its connection
            # (psycopg's lock) until it is closed, and the session's rollback needs it.
            with closing(batches):
                yield from log_csv_lines(batches, zone, sites, site_column=site_column)

    yield csv_text((), ("site", *LOG_COLUMNS) if site_column else LOG_COLUMNS)
    # Read and written in a thread of its own, a chunk ahead of the response; reading in
    # one thread and writing in another made them wait for each other's turn at the GIL
    # (the database streams ahead by itself: `stream_tuples`).
    ahead = read_ahead(chunks)
    try:
        yield from ahead
    finally:
        ahead.close()  # a client that hung up: the reading thread ends with the response


def sites_in_log(session: Session, period: Period, sterilizer_id: int | None) -> int:
    """How many sites the log of the period holds cycles of (0, 1 or 2 meaning "more"):
    a log of several sites gains a leading `site` column."""
    where = [*period.where(Cycle.started_at)]
    if sterilizer_id is not None:
        where.append(Cycle.sterilizer_id == sterilizer_id)
    found = session.scalars(select(Cycle.site_id).where(*where).distinct().limit(2)).all()
    return len(found)
