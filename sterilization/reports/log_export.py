"""The cycle log, one row per cycle, and its CSV export.

The log is read in keyset batches (by start time and id) inside one read transaction, so an
export of any range runs in constant memory and never re-reads or skips a row. The CSV is
written by `kernel.csv_export` (free text defused), a chunk per batch, for a `Stream`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import (
    DateTime,
    TypeDecorator,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from kernel.audit.models import AuditHead
from kernel.clock import ClinicTime
from kernel.csv_export import LINE_END, csv_text, defuse
from kernel.db import Database
from kernel.periods import Period
from kernel.read_ahead import read_ahead
from kernel.sites.query_scope import visible_site_ids
from sterilization.models import (
    BiProduct,
    BiResult,
    Cycle,
    CycleParameters,
    InvalidBiTest,
    Pack,
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
    started_at: Any  # raw driver value: see LocalTimeText
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
    packs: str | None  # codes and descriptions in one string: see `pack_codes`
    failure_reasons: str | None  # JSON list
    integrator: str | None
    bi_product: str | None
    bi_read_at: Any
    iuss_reason: str | None
    early_released_at: Any
    site_id: int


PACKS_SEPARATOR = "\x1f"  # ASCII unit separator: never in a pack code ("PK-000001")


def split_packs(packs: str | None) -> tuple[str, str]:
    """The log's `packs` string as (codes separated by spaces, descriptions separated by
    "; "), both "" for a cycle without packs."""
    if not packs:
        return "", ""
    codes, _, contents = packs.partition(PACKS_SEPARATOR)
    return codes, contents


def pack_codes(row: LogRow) -> list[str]:
    """The row's pack codes, in the order the packs were made."""
    codes = split_packs(row.packs)[0]
    return codes.split(" ") if codes else []


def pack_contents(row: LogRow) -> str:
    """The row's pack descriptions, in pack order, separated by "; "."""
    return split_packs(row.packs)[1]


def _log_select() -> Any:
    """A cycle's packs come as one string the database aggregates in pack order: the codes
    separated by spaces, a unit separator, the descriptions separated by "; " (one pass over
    the packs' covering index `ix_packs_cycle_contents` instead of ten rows; see
    `pack_codes`). The order comes from a sorted subquery, which both databases keep for a
    plain aggregate over one table; PostgreSQL's `string_agg(... ORDER BY id)` sorted every
    cycle's packs again (0.6 s of 1.2 s over 125,000 cycles). Times come as the driver gives
    them and are converted by :class:`LocalTimeText` (much cheaper than the generic type
    processor)."""
    ordered = (
        select(Pack.code, Pack.description)
        .where(Pack.cycle_id == Cycle.id)
        .order_by(Pack.id)
        .correlate(Cycle)
        .subquery()
    )
    packs = (
        select(
            func.aggregate_strings(ordered.c.code, " ")
            .concat(PACKS_SEPARATOR)
            .concat(func.aggregate_strings(ordered.c.description, "; "))
        )
        .correlate(Cycle)
        .scalar_subquery()
    )
    invalid = (
        select(literal_column("'invalid'"))
        .where(InvalidBiTest.cycle_id == Cycle.id)
        .correlate(Cycle)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            Cycle.id.label("cycle_id"),
            Sterilizer.code.label("sterilizer"),
            Cycle.number,
            Cycle.cycle_type,
            type_coerce(Cycle.started_at, _RAW_TIME).label("started_at"),
            type_coerce(Cycle.ended_at, _RAW_TIME).label("ended_at"),
            Cycle.operator,
            CycleParameters.temperature_c,
            CycleParameters.pressure_kpa,
            CycleParameters.exposure_minutes,
            CycleParameters.mechanical_ok,
            CycleParameters.chemical_ok,
            Cycle.bi_lot,
            func.coalesce(BiResult.result, invalid).label("bi_result"),
            Cycle.implants,
            Cycle.status,
            packs.label("packs"),
            CycleParameters.failure_reasons,
            CycleParameters.integrator,
            BiProduct.code.label("bi_product"),
            type_coerce(BiResult.read_at, _RAW_TIME).label("bi_read_at"),
            Cycle.iuss_reason,
            type_coerce(Cycle.early_released_at, _RAW_TIME).label("early_released_at"),
            Cycle.site_id,
        )
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .outerjoin(CycleParameters, CycleParameters.cycle_id == Cycle.id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .outerjoin(BiProduct, BiProduct.id == Cycle.bi_product_id)
    )


class _RawTime(TypeDecorator[Any]):
    """The timestamp column as the driver returns it (no per-row processing)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


_RAW_TIME = _RawTime()
_LOG_SELECT = _log_select()


class LocalTimeText:
    """UTC instants as clinic wall-clock text with offset ("2026-10-05T08:00:00-05:00"),
    from the raw values the drivers return (naive UTC text on SQLite, aware datetimes on
    PostgreSQL). A log of 500,000 cycles would otherwise spend most of its time in zone
    arithmetic, so the local text of each UTC hour is kept: when the zone's offset is whole
    hours and does not change inside that hour, minutes and seconds are the UTC ones
    (true of every hour of most zones). Other instants are converted one by one."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self._hours: dict[Any, tuple[str, str] | None] = {}

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

    def _hour(self, start: dt.datetime) -> tuple[str, str] | None:
        """The local "YYYY-MM-DDTHH" and offset text of the UTC hour from `start`, or None
        when minutes and seconds would not carry over unchanged."""
        offset, suffix = self._offset(start)
        if offset % dt.timedelta(hours=1) or self._offset(start + _LAST_SECOND)[0] != offset:
            return None
        return (start + offset).isoformat()[:13], suffix

    def text(self, value: Any) -> str:
        if value is None:
            return ""
        if value.__class__ is str and len(value) in _NAIVE_TEXT_LENGTHS:
            key: Any = value[:13]
            hour = self._hours.get(key, _UNSEEN)
            if hour is _UNSEEN:
                hour = self._hours[key] = self._hour(dt.datetime.fromisoformat(key + ":00"))
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
# SQLite's stored UTC text: "YYYY-MM-DD HH:MM:SS", with ".ffffff" when written by the app.
_NAIVE_TEXT_LENGTHS = frozenset((19, 26))


def iter_log(
    session: Session,
    period: Period,
    *,
    sterilizer_id: int | None = None,
    batch: int = LOG_BATCH,
    raw: bool = False,
    site_ids: Sequence[int] | None = None,
) -> Iterator[Sequence[LogRow]]:
    """The cycles started in the period, oldest first, `batch` at a time with their pack
    codes. Keyset pagination: each batch is one indexed range query, however far in.
    `raw` yields the driver's plain tuples (in `LogRow`'s field order; booleans may be 0/1
    on SQLite), skipping result-row construction for the CSV export."""
    base = [*period.where(Cycle.started_at)]
    if sterilizer_id is not None:
        base.append(Cycle.sterilizer_id == sterilizer_id)
    if site_ids is None:  # connection-level SQL: the user's sites by hand (kernel.sites)
        site_ids = visible_site_ids(session)
    if site_ids is not None:
        base.append(Cycle.site_id.in_(site_ids))
    connection = session.connection()
    statement = _LOG_SELECT
    if connection.dialect.name == "postgresql":
        # The planner's cost for the whole range turns JIT compilation on: 40 ms per batch
        # spent compiling a query that runs in about as long.
        connection.exec_driver_sql("SET LOCAL jit = off")
    last: tuple[dt.datetime, int] | None = None
    while True:
        where = list(base)
        if last is not None:
            # A range on started_at first: "a > x OR (a = x AND id > y)" alone made SQLite
            # read every later cycle per sterilizer and sort them all (0.5 s a batch).
            where += [
                Cycle.started_at >= last[0],
                or_(Cycle.started_at > last[0], Cycle.id > last[1]),
            ]
        result = connection.execute(
            statement.where(*where).order_by(Cycle.started_at, Cycle.id).limit(batch)
        )
        rows = result.cursor.fetchall() if raw else result.all()
        result.close()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = (LocalTimeText.aware(rows[-1][4]), rows[-1][0])


_FLAGS = {None: "", True: "true", False: "false"}
# The cells people type: the only ones that can hold a formula (`kernel.csv_export.defuse`).
FREE_TEXT_COLUMNS = tuple(
    LOG_COLUMNS.index(c) for c in ("operator", "bi_lot", "contents", "iuss_reason")
)


def log_csv_lines(
    batches: Iterable[Sequence[Any]],
    zone: ClinicTime,
    sites: Mapping[int, tuple[str, ClinicTime]] | None = None,
    *,
    site_column: bool = False,
) -> Iterator[str]:
    """The CSV text of raw log batches, one chunk per batch: times in the cycle's site's zone
    (`sites`: id → (code, zone); else `zone`) with their offset, pack codes separated by
    spaces; with `site_column`, the site's code first (a log spanning several sites).

    The same text `kernel.csv_export.csv_text` writes, built as one f-string per row: a
    line whose cells hold no quote, comma or line break needs no quoting, which one scan of
    the line tells (any other line goes through the csv module). Over 125,000 cycles this
    takes 0.4 s where `csv.writer`, which copies every character one by one, took 1.1 s."""
    texts = {i: (code, LocalTimeText(z.tz).text) for i, (code, z) in (sites or {}).items()}
    fallback = ("", LocalTimeText(zone.tz).text)
    flag = _FLAGS.__getitem__
    commas = len(LOG_COLUMNS) - (0 if site_column else 1)
    for rows in batches:
        lines = []
        append = lines.append
        # A plain loop over unpacked tuples: this runs for every row of every export.
        for (_, sterilizer, number, cycle_type, started, ended, operator, temperature,
             pressure, exposure, mechanical, chemical, bi_lot, bi_result, implants, status,
             packs, _, integrator, bi_product, bi_read_at, iuss_reason, released,
             site_id) in rows:  # fmt: skip
            site, when = texts.get(site_id, fallback)
            codes, _, contents = packs.partition(PACKS_SEPARATOR) if packs else ("", "", "")
            operator, bi_lot = defuse(operator), defuse(bi_lot)
            contents, iuss_reason = defuse(contents), defuse(iuss_reason)
            times = when(started), when(ended), when(bi_read_at), when(released)
            count = codes.count(" ") + 1 if codes else 0
            line = (
                f"{sterilizer},{number},{cycle_type},{times[0]},{times[1]},"
                f"{operator or ''},{'' if temperature is None else temperature},"
                f"{'' if pressure is None else pressure},{'' if exposure is None else exposure},"
                f"{flag(mechanical)},{flag(chemical)},{bi_lot or ''},{bi_result or ''},"
                f"{flag(implants)},{status},{count},{codes},{contents},"
                f"{integrator or ''},{bi_product or ''},{times[2]},{iuss_reason or ''},{times[3]}"
            )
            if site_column:
                line = f"{site},{line}"
            if line.count(",") != commas or '"' in line or "\n" in line or "\r" in line:
                cells = (
                    sterilizer, number, cycle_type, times[0], times[1], operator, temperature,
                    pressure, exposure, flag(mechanical), flag(chemical), bi_lot, bi_result,
                    flag(implants), status, count, codes, contents, integrator, bi_product,
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

    def batches() -> Generator[Sequence[Any]]:
        with db.session(write=False) as session:
            yield from iter_log(
                session, period, sterilizer_id=sterilizer_id, batch=batch, raw=True,
                site_ids=site_ids,
            )  # fmt: skip

    yield csv_text((), ("site", *LOG_COLUMNS) if site_column else LOG_COLUMNS)
    # The next batch is read while this one is written (`kernel.read_ahead`).
    ahead = read_ahead(batches)
    try:
        yield from log_csv_lines(ahead, zone, sites, site_column=site_column)
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
