"""What an infection-control surveyor asks for: the cycle log and the compliance findings.

The log is read in keyset batches (by start time and id) inside one read transaction, so an
export of any range runs in constant memory and never re-reads or skips a row. Compliance
findings come from a few set-based queries per period, grouped with pandas by clinic-local
day and ISO week (the clinic's time zone decides what "today" and "this week" were).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import pandas as pd
from sqlalchemy import (
    DateTime,
    TypeDecorator,
    and_,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from kernel.audit.models import AuditEntry, AuditHead
from kernel.db import utcnow
from kernel.problems import InvalidInput, NotFound
from sterilization.clinic import Clinic
from sterilization.cycles import BUILTIN_CYCLE_TYPES
from sterilization.models import (
    BiResult,
    Cycle,
    CycleAmendment,
    CycleParameters,
    Pack,
    Recall,
    RecallPack,
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
)
LOG_BATCH = 5000
TEST_CYCLE_TYPES = tuple(code for code, r in BUILTIN_CYCLE_TYPES.items() if r.is_test)


# The period --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A half-open UTC interval [start, end); None means unbounded on that side."""

    start: dt.datetime | None
    end: dt.datetime | None

    def first_day(self, clinic: Clinic) -> dt.date | None:
        return clinic.local_date(self.start) if self.start else None

    def last_day(self, clinic: Clinic) -> dt.date | None:
        return clinic.local_date(self.end - dt.timedelta(microseconds=1)) if self.end else None

    def where(self, column: Any) -> list[Any]:
        conditions = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return conditions


def _instant(text: str | None, clinic: Clinic, *, name: str, end: bool) -> dt.datetime | None:
    """A date means the whole clinic day (`to` includes it); a date-time without an offset
    is clinic wall-clock time."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return clinic.start_of_day(day + dt.timedelta(days=1) if end else day)
        when = dt.datetime.fromisoformat(text)
        when = when if when.tzinfo else when.replace(tzinfo=clinic.tz)
        when = when.astimezone(dt.UTC)
        return when + dt.timedelta(microseconds=1) if end else when
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            f"{name} must be a date (2026-11-28) or a date-time with offset.",
            extra={"errors": [{"field": name, "message": "invalid date", "source": "query"}]},
        ) from exc


def parse_period(
    from_text: str | None,
    to_text: str | None,
    clinic: Clinic,
    *,
    default_days: int | None = None,
    now: dt.datetime | None = None,
) -> Period:
    """`from`/`to` of a report. With `default_days`, a missing bound becomes the last that
    many clinic days up to today."""
    start = _instant(from_text, clinic, name="from", end=False)
    end = _instant(to_text, clinic, name="to", end=True)
    if default_days is not None:
        if end is None:
            end = clinic.start_of_day(clinic.local_date(now or utcnow()) + dt.timedelta(days=1))
        if start is None:
            start = clinic.start_of_day(
                clinic.local_date(end - dt.timedelta(microseconds=1))
                - dt.timedelta(days=default_days - 1)
            )
    if start is not None and end is not None and start >= end:
        raise InvalidInput(
            "from must be before to.",
            extra={"errors": [{"field": "from", "message": "after to", "source": "query"}]},
        )
    return Period(start, end)


def find_sterilizer(session: Session, code: str) -> Sterilizer:
    sterilizer = session.scalar(select(Sterilizer).where(Sterilizer.code == code))
    if sterilizer is None:
        raise NotFound(f"No sterilizer with code {code!r}.")
    return sterilizer


def audit_head(session: Session) -> tuple[int, str]:
    """The audit chain's head (entries, hash): printed on exports so a paper copy can be
    matched to the system (`GET /api/v1/audit/verify` recomputes it)."""
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    return row.seq, row.hash


# The cycle log -----------------------------------------------------------------------


class LogRow(Protocol):
    """A row of the log as `iter_log` yields it (a SQLAlchemy Row with these labels)."""

    cycle_id: int
    sterilizer: str
    number: int
    cycle_type: str
    started_at: Any  # raw driver value: see LocalClock
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
    pack_codes: str | None  # space-separated, in no particular order: see `pack_codes`
    failure_reasons: str | None  # JSON list


def pack_codes(row: LogRow) -> list[str]:
    """The row's pack codes, in the order the packs were made."""
    return row.pack_codes.split(" ") if row.pack_codes else []


def _log_select(dialect: str) -> Any:
    """Pack codes come aggregated, in pack order, by the database (one string per cycle
    instead of ten rows: several times faster). Times come as the driver gives them and
    are converted by :class:`LocalClock` (much cheaper than the generic type processor)."""
    if dialect == "postgresql":
        codes = (
            select(func.string_agg(Pack.code, aggregate_order_by(literal_column("' '"), Pack.id)))
            .where(Pack.cycle_id == Cycle.id)
            .correlate(Cycle)
            .scalar_subquery()
        )
    else:
        ordered = (
            select(Pack.code)
            .where(Pack.cycle_id == Cycle.id)
            .order_by(Pack.id)
            .correlate(Cycle)
            .subquery()
        )
        codes = select(func.group_concat(ordered.c.code, " ")).correlate(Cycle).scalar_subquery()
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
            BiResult.result.label("bi_result"),
            Cycle.implants,
            Cycle.status,
            codes.label("pack_codes"),
            CycleParameters.failure_reasons,
        )
        .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
        .outerjoin(CycleParameters, CycleParameters.cycle_id == Cycle.id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
    )


class _RawTime(TypeDecorator[Any]):
    """The timestamp column as the driver returns it (no per-row processing)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


_RAW_TIME = _RawTime()
_LOG_SELECTS = {name: _log_select(name) for name in ("sqlite", "postgresql")}


class LocalClock:
    """UTC instants as clinic wall-clock text with offset ("2026-10-05T08:00:00-05:00"),
    from the raw values the drivers return (naive UTC text on SQLite, aware datetimes on
    PostgreSQL). The zone's offset is looked up once per quarter hour of UTC time (zone
    transitions fall on quarter hours): a log of 500,000 cycles would otherwise spend most
    of its time in zone arithmetic."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self._offsets: dict[tuple[int, int, int, int, int], tuple[dt.timedelta, str]] = {}

    @staticmethod
    def utc(value: Any) -> dt.datetime:
        """The instant as a naive UTC datetime."""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def aware(self, value: Any) -> dt.datetime:
        return self.utc(value).replace(tzinfo=dt.UTC)

    def text(self, value: Any) -> str:
        if value is None:
            return ""
        utc = self.utc(value)
        key = (utc.year, utc.month, utc.day, utc.hour, utc.minute // 15)
        found = self._offsets.get(key)
        if found is None:
            offset = utc.replace(tzinfo=dt.UTC).astimezone(self.tz).utcoffset() or dt.timedelta()
            minutes = int(offset.total_seconds()) // 60
            sign = "-" if minutes < 0 else "+"
            found = self._offsets[key] = (
                offset,
                f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
            )
        return (utc + found[0]).isoformat(timespec="seconds") + found[1]


def iter_log(
    session: Session,
    period: Period,
    *,
    sterilizer_id: int | None = None,
    batch: int = LOG_BATCH,
    raw: bool = False,
) -> Iterator[Sequence[LogRow]]:
    """The cycles started in the period, oldest first, `batch` at a time with their pack
    codes. Keyset pagination: each batch is one indexed range query, however far in.
    `raw` yields the driver's plain tuples (in `LogRow`'s field order; booleans may be 0/1
    on SQLite), skipping result-row construction for the CSV export."""
    base = [*period.where(Cycle.started_at)]
    if sterilizer_id is not None:
        base.append(Cycle.sterilizer_id == sterilizer_id)
    connection = session.connection()
    statement = _LOG_SELECTS[connection.dialect.name]
    if connection.dialect.name == "postgresql":
        # The planner's cost for the whole range turns JIT compilation on: 40 ms per batch
        # spent compiling a query that runs in about as long.
        connection.exec_driver_sql("SET LOCAL jit = off")
    clock = LocalClock(dt.UTC)
    last: tuple[dt.datetime, int] | None = None
    while True:
        where = list(base)
        if last is not None:
            where.append(
                or_(
                    Cycle.started_at > last[0],
                    and_(Cycle.started_at == last[0], Cycle.id > last[1]),
                )
            )
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
        last = (clock.aware(rows[-1][4]), rows[-1][0])


_FLAGS = {None: "", True: "true", False: "false"}
# Free text a spreadsheet would run as a formula gets a leading apostrophe.
# (Superseded by `kernel.csv_export.csv_chunks(..., text_columns=...)`, the one writer,
# which also defuses "-"; and `parse_period` below by `kernel.periods.parse_period`.)
_FORMULA = frozenset("=+@\t\r")


def csv_line(values: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


def log_csv_chunks(batches: Iterator[list[LogRow]], clinic: Clinic) -> Iterator[str]:
    """The CSV text: a header, then one chunk per batch. Times in the clinic zone with
    their offset; pack codes separated by spaces."""
    when = LocalClock(clinic.tz).text
    flag = _FLAGS.__getitem__
    yield csv_line(LOG_COLUMNS)
    for rows in batches:
        out = io.StringIO()
        # A plain loop over unpacked tuples: this runs for every row of every export.
        lines = []
        for (_, sterilizer, number, cycle_type, started, ended, operator, temperature,
             pressure, exposure, mechanical, chemical, bi_lot, bi_result, implants, status,
             codes, _) in rows:  # fmt: skip
            lines.append(
                (
                    sterilizer,
                    number,
                    cycle_type,
                    when(started),
                    when(ended),
                    operator if operator[:1] not in _FORMULA else "'" + operator,
                    temperature,
                    pressure,
                    exposure,
                    flag(mechanical),
                    flag(chemical),
                    bi_lot if not bi_lot or bi_lot[0] not in _FORMULA else "'" + bi_lot,
                    bi_result,
                    flag(implants),
                    status,
                    codes.count(" ") + 1 if codes else 0,
                    codes,
                )
            )
        csv.writer(out, lineterminator="\r\n").writerows(lines)
        yield out.getvalue()


def amendments_for(session: Session, cycle_ids: Sequence[int]) -> dict[int, list[CycleAmendment]]:
    found: dict[int, list[CycleAmendment]] = defaultdict(list)
    if cycle_ids:
        for a in session.scalars(
            select(CycleAmendment)
            .where(CycleAmendment.cycle_id.in_(cycle_ids))
            .order_by(CycleAmendment.cycle_id, CycleAmendment.at, CycleAmendment.id)
        ):
            found[a.cycle_id].append(a)
    return found


# Compliance --------------------------------------------------------------------------


class WeekWithoutBi(msgspec.Struct):
    week: str  # ISO week, e.g. 2026-W45
    week_start: dt.date
    loads: int


class DayWithoutBowieDick(msgspec.Struct):
    date: dt.date
    loads: int
    first_load_number: int
    first_load_at: dt.datetime
    bowie_dick: str  # "none", "failed" or "after the first load"


class FollowingCycle(msgspec.Struct):
    number: int
    cycle_type: str
    status: str
    started_at: dt.datetime


class FailedCycle(msgspec.Struct):
    number: int
    cycle_type: str
    started_at: dt.datetime
    reasons: list[str]
    pack_count: int
    next_cycle: FollowingCycle | None
    next_passed_same_type: FollowingCycle | None


class RecallSummary(msgspec.Struct):
    id: int
    status: str
    opened_at: dt.datetime
    pack_count: int
    used_pack_count: int
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolution_reason: str | None


class PositiveBi(msgspec.Struct):
    cycle_number: int
    lot: str
    read_at: dt.datetime
    recall: RecallSummary | None


class ImplantUsedEarly(msgspec.Struct):
    code: str
    cycle_number: int
    used_at: dt.datetime
    encounter_ref: str | None
    bi_result: str | None
    bi_read_at: dt.datetime | None


class ExpiredUse(msgspec.Struct):
    code: str
    expires_on: dt.date
    used_at: dt.datetime
    encounter_ref: str | None


class ExpiryCheck(msgspec.Struct):
    checked: int  # used packs with an expiry date, all compared
    packs: list[ExpiredUse]


class OutOfServicePeriod(msgspec.Struct):
    start: dt.datetime
    end: dt.datetime | None  # None: still out of service
    reason: str | None


class OutOfService(msgspec.Struct):
    hours: float
    periods: list[OutOfServicePeriod]


class SterilizerFindings(msgspec.Struct):
    code: str
    name: str
    kind: str
    loads: int
    bi_tests: int
    weeks_without_bi: list[WeekWithoutBi]
    days_without_bowie_dick: list[DayWithoutBowieDick]
    failed_cycles: list[FailedCycle]
    positive_bis: list[PositiveBi]
    implants_used_before_negative_bi: list[ImplantUsedEarly]
    used_after_expiry: ExpiryCheck
    out_of_service: OutOfService


class ComplianceReport(msgspec.Struct, rename={"from_": "from"}):
    from_: dt.date
    to: dt.date
    generated_at: dt.datetime
    time_zone: str
    audit_head: str
    retention_years: int
    sterilizers: list[SterilizerFindings]


def _cycles_frame(session: Session, period: Period) -> pd.DataFrame:
    rows = session.execute(
        select(
            Cycle.id,
            Cycle.sterilizer_id,
            Cycle.number,
            Cycle.cycle_type,
            Cycle.status,
            Cycle.started_at,
            Cycle.ended_at,
            BiResult.result,
        )
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(*period.where(Cycle.started_at))
    ).all()
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "sterilizer_id",
            "number",
            "cycle_type",
            "status",
            "started_at",
            "ended_at",
            "bi_result",
        ],
    )


def _py(value: Any, clinic: Clinic) -> dt.datetime:
    """A pandas or Python timestamp as a plain datetime in the clinic zone."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return value.astimezone(clinic.tz)


def _local(series: pd.Series, clinic: Clinic) -> pd.Series:
    return pd.to_datetime(series, utc=True).dt.tz_convert(clinic.tz)


def _weeks_without_bi(loads: pd.DataFrame) -> dict[int, list[WeekWithoutBi]]:
    if loads.empty:
        return {}
    iso = loads["local"].dt.isocalendar()
    frame = pd.DataFrame(
        {
            "sterilizer_id": loads["sterilizer_id"].to_numpy(),
            "year": iso["year"].to_numpy(),
            "week": iso["week"].to_numpy(),
            "bi": loads["bi_result"].notna().to_numpy(),
        }
    )
    weeks = frame.groupby(["sterilizer_id", "year", "week"]).agg(
        loads=("bi", "size"), bis=("bi", "sum")
    )
    found: dict[int, list[WeekWithoutBi]] = defaultdict(list)
    for (sid, year, week), row in weeks[weeks["bis"] == 0].iterrows():
        found[int(sid)].append(
            WeekWithoutBi(
                week=f"{int(year)}-W{int(week):02d}",
                week_start=dt.date.fromisocalendar(int(year), int(week), 1),
                loads=int(row["loads"]),
            )
        )
    return found


def _days_without_bowie_dick(
    loads: pd.DataFrame, tests: pd.DataFrame, prevac_ids: set[int], clinic: Clinic
) -> dict[int, list[DayWithoutBowieDick]]:
    loads = loads[loads["sterilizer_id"].isin(prevac_ids)]
    if loads.empty:
        return {}
    loads = loads.assign(day=loads["local"].dt.date).sort_values(["started_at", "id"])
    days = loads.groupby(["sterilizer_id", "day"]).agg(
        loads=("id", "size"), first_at=("started_at", "first"), first_number=("number", "first")
    )
    bd = tests[(tests["cycle_type"] == "bowie_dick") & tests["sterilizer_id"].isin(prevac_ids)]
    bd = bd.assign(day=bd["local"].dt.date)
    by_day: dict[tuple[int, dt.date], list[tuple[str, Any]]] = defaultdict(list)
    for sid, day, status, ended in bd[["sterilizer_id", "day", "status", "ended_at"]].itertuples(
        index=False
    ):
        by_day[(int(sid), day)].append((status, ended))
    found: dict[int, list[DayWithoutBowieDick]] = defaultdict(list)
    for row in days.reset_index().itertuples(index=False):
        sid, day = row.sterilizer_id, row.day
        first_at = row.first_at.to_pydatetime()
        tests_that_day = by_day.get((int(sid), day), [])
        if any(
            status == "passed" and ended is not None and not pd.isna(ended) and ended <= first_at
            for status, ended in tests_that_day
        ):
            continue
        if not tests_that_day:
            verdict = "none"
        elif any(status == "passed" for status, _ in tests_that_day):
            verdict = "after the first load"
        else:
            verdict = "failed"
        found[int(sid)].append(
            DayWithoutBowieDick(
                date=day,
                loads=int(row.loads),
                first_load_number=int(row.first_number),
                first_load_at=_py(first_at, clinic),
                bowie_dick=verdict,
            )
        )
    return found


def _following(row: Any, clinic: Clinic) -> FollowingCycle:
    return FollowingCycle(
        number=int(row.number),
        cycle_type=row.cycle_type,
        status=row.status,
        started_at=_py(row.started_at, clinic),
    )


def _failed_cycles(
    session: Session, cycles: pd.DataFrame, clinic: Clinic
) -> dict[int, list[FailedCycle]]:
    failed = cycles[cycles["status"] == "failed"]
    if failed.empty:
        return {}
    failed_ids = [int(i) for i in failed["id"]]
    reasons = {
        cid: json.loads(text)
        for cid, text in session.execute(
            select(CycleParameters.cycle_id, CycleParameters.failure_reasons).where(
                CycleParameters.cycle_id.in_(failed_ids)
            )
        )
    }
    pack_counts = dict(
        session.execute(
            select(Pack.cycle_id, func.count())
            .where(Pack.cycle_id.in_(failed_ids))
            .group_by(Pack.cycle_id)
        ).all()
    )
    # What followed is usually in the period already: look there first, and ask the
    # database only for failures at the very end of the period.
    following: dict[int, list[Any]] = defaultdict(list)
    for row in cycles.sort_values(["sterilizer_id", "number"]).itertuples(index=False):
        following[int(row.sterilizer_id)].append(row)
    numbers = {sid: [int(r.number) for r in rows] for sid, rows in following.items()}
    found: dict[int, list[FailedCycle]] = defaultdict(list)
    for f in failed.sort_values(["sterilizer_id", "number"]).itertuples(index=False):
        sid = int(f.sterilizer_id)
        rest = following[sid][bisect.bisect_right(numbers[sid], int(f.number)) :]
        nxt: Any = rest[0] if rest else None
        retest: Any = next(
            (r for r in rest if r.cycle_type == f.cycle_type and r.status == "passed"), None
        )
        later = (
            select(Cycle.number, Cycle.cycle_type, Cycle.status, Cycle.started_at)
            .where(Cycle.sterilizer_id == sid, Cycle.number > int(f.number))
            .order_by(Cycle.number)
            .limit(1)
        )
        if nxt is None:
            nxt = session.execute(later).first()
        if retest is None:
            retest = session.execute(
                later.where(Cycle.cycle_type == f.cycle_type, Cycle.status == "passed")
            ).first()
        why = list(reasons.get(int(f.id)) or [])
        if f.bi_result == "positive":
            why.append("positive spore test (BI)")
        found[sid].append(
            FailedCycle(
                number=int(f.number),
                cycle_type=f.cycle_type,
                started_at=_py(f.started_at, clinic),
                reasons=why,
                pack_count=int(pack_counts.get(int(f.id), 0)),
                next_cycle=_following(nxt, clinic) if nxt else None,
                next_passed_same_type=_following(retest, clinic) if retest else None,
            )
        )
    return found


def _positive_bis(session: Session, period: Period, clinic: Clinic) -> dict[int, list[PositiveBi]]:
    used = (
        select(RecallPack.recall_id, func.count().label("used"))
        .join(Pack, Pack.id == RecallPack.pack_id)
        .where(Pack.used_at.is_not(None))
        .group_by(RecallPack.recall_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Cycle.sterilizer_id, Cycle.number, BiResult.lot, BiResult.read_at, Recall, used.c.used
        )
        .join(BiResult, BiResult.cycle_id == Cycle.id)
        .outerjoin(Recall, Recall.triggered_by_cycle_id == Cycle.id)
        .outerjoin(used, used.c.recall_id == Recall.id)
        .where(BiResult.result == "positive", *period.where(Cycle.started_at))
        .order_by(Cycle.sterilizer_id, Cycle.number)
    ).all()
    found: dict[int, list[PositiveBi]] = defaultdict(list)
    for sid, number, lot, read_at, recall, used_count in rows:
        found[sid].append(
            PositiveBi(
                cycle_number=number,
                lot=lot,
                read_at=read_at.astimezone(clinic.tz),
                recall=RecallSummary(
                    id=recall.id,
                    status=recall.status,
                    opened_at=recall.opened_at.astimezone(clinic.tz),
                    pack_count=recall.pack_count,
                    used_pack_count=int(used_count or 0),
                    resolved_at=recall.resolved_at.astimezone(clinic.tz)
                    if recall.resolved_at
                    else None,
                    resolved_by=recall.resolved_by,
                    resolution_reason=recall.resolution_reason,
                )
                if recall is not None
                else None,
            )
        )
    return found


def _implants_used_early(
    session: Session, period: Period, clinic: Clinic
) -> dict[int, list[ImplantUsedEarly]]:
    """Implant packs opened on a patient before a negative BI of their load was read (or
    with no negative BI at all)."""
    rows = session.execute(
        select(
            Cycle.sterilizer_id,
            Pack.code,
            Cycle.number,
            Pack.used_at,
            Pack.encounter_ref,
            BiResult.result,
            BiResult.read_at,
        )
        .join(Cycle, Cycle.id == Pack.cycle_id)
        .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
        .where(
            Pack.implant.is_(True),
            Pack.used_at.is_not(None),
            *period.where(Pack.used_at),
            or_(
                BiResult.id.is_(None),
                BiResult.result != "negative",
                BiResult.read_at > Pack.used_at,
            ),
        )
        .order_by(Pack.used_at, Pack.id)
    ).all()
    found: dict[int, list[ImplantUsedEarly]] = defaultdict(list)
    for sid, code, number, used_at, ref, result, read_at in rows:
        found[sid].append(
            ImplantUsedEarly(
                code=code,
                cycle_number=number,
                used_at=used_at.astimezone(clinic.tz),
                encounter_ref=ref,
                bi_result=result,
                bi_read_at=read_at.astimezone(clinic.tz) if read_at else None,
            )
        )
    return found


def _used_after_expiry(session: Session, period: Period, clinic: Clinic) -> dict[int, ExpiryCheck]:
    """Every used pack with an expiry date is compared: grouped by (sterilizer, expiry
    day), only the groups whose latest use falls after the end of that day are opened."""
    groups = session.execute(
        select(Cycle.sterilizer_id, Pack.expires_on, func.count(), func.max(Pack.used_at))
        .join(Cycle, Cycle.id == Pack.cycle_id)
        .where(Pack.used_at.is_not(None), Pack.expires_on.is_not(None), *period.where(Pack.used_at))
        .group_by(Cycle.sterilizer_id, Pack.expires_on)
    ).all()
    found: dict[int, ExpiryCheck] = defaultdict(lambda: ExpiryCheck(checked=0, packs=[]))
    for sid, expires_on, count, latest in groups:
        check = found[sid]
        check.checked += count
        if latest is None:
            continue
        latest = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)
        if clinic.local_date(latest) <= expires_on:
            continue
        boundary = clinic.start_of_day(expires_on + dt.timedelta(days=1))
        for code, used_at, ref in session.execute(
            select(Pack.code, Pack.used_at, Pack.encounter_ref)
            .join(Cycle, Cycle.id == Pack.cycle_id)
            .where(
                Cycle.sterilizer_id == sid,
                Pack.expires_on == expires_on,
                Pack.used_at >= boundary,
                *period.where(Pack.used_at),
            )
            .order_by(Pack.used_at)
        ):
            check.packs.append(
                ExpiredUse(
                    code=code,
                    expires_on=expires_on,
                    used_at=used_at.astimezone(clinic.tz),
                    encounter_ref=ref,
                )
            )
    return found


STATUS_ACTIONS = ("sterilizer.create", "sterilizer.status", "sterilizer.out_of_service")


def _out_of_service(
    session: Session, codes: Sequence[str], period: Period, clinic: Clinic, now: dt.datetime
) -> dict[str, OutOfService]:
    """Service periods rebuilt from the audit trail, where every status change of a
    sterilizer is recorded with its reason; clipped to the period (and to now)."""
    where = [
        AuditEntry.entity == "sterilizer",
        AuditEntry.entity_id.in_(list(codes)),
        AuditEntry.action.in_(STATUS_ACTIONS),
    ]
    if period.end is not None:
        where.append(AuditEntry.at < period.end)
    changes: dict[str, list[tuple[dt.datetime, str, str | None]]] = defaultdict(list)
    for code, at, after in session.execute(
        select(AuditEntry.entity_id, AuditEntry.at, AuditEntry.after)
        .where(*where)
        .order_by(AuditEntry.seq)
    ):
        data = json.loads(after) if after else {}
        if "status" in data:
            changes[code].append((at, data["status"], data.get("status_reason")))
    start = period.start
    end = min(period.end, now) if period.end is not None else now
    found: dict[str, OutOfService] = {}
    for code in codes:
        periods: list[OutOfServicePeriod] = []
        hours = 0.0
        open_since: tuple[dt.datetime, str | None] | None = None
        for at, status, reason in changes.get(code, []):
            if status == "out_of_service" and open_since is None:
                open_since = (at, reason)
            elif status == "in_service" and open_since is not None:
                periods.append(
                    OutOfServicePeriod(start=open_since[0], end=at, reason=open_since[1])
                )
                open_since = None
        if open_since is not None:
            periods.append(OutOfServicePeriod(start=open_since[0], end=None, reason=open_since[1]))
        clipped = []
        for p in periods:
            p_end = p.end or end
            p_start = max(p.start, start) if start is not None else p.start
            if p_end <= p_start or p_start >= end:
                continue
            hours += (min(p_end, end) - p_start).total_seconds() / 3600
            clipped.append(
                OutOfServicePeriod(
                    start=p_start.astimezone(clinic.tz),
                    end=p.end.astimezone(clinic.tz) if p.end else None,
                    reason=p.reason,
                )
            )
        found[code] = OutOfService(hours=round(hours, 2), periods=clipped)
    return found


def compliance_report(
    session: Session,
    period: Period,
    clinic: Clinic,
    *,
    retention_years: int = 10,
    now: dt.datetime | None = None,
) -> ComplianceReport:
    now = now or utcnow()
    sterilizers = list(session.scalars(select(Sterilizer).order_by(Sterilizer.code)))
    cycles = _cycles_frame(session, period)
    if not cycles.empty:
        cycles["local"] = _local(cycles["started_at"], clinic)
    is_test = cycles["cycle_type"].isin(TEST_CYCLE_TYPES) if not cycles.empty else None
    loads = cycles[~is_test] if is_test is not None else cycles
    tests = cycles[is_test] if is_test is not None else cycles
    prevac = {s.id for s in sterilizers if s.kind == "steam_prevac"}

    weeks = _weeks_without_bi(loads)
    days = _days_without_bowie_dick(loads, tests, prevac, clinic) if prevac else {}
    failed = _failed_cycles(session, cycles, clinic)
    positives = _positive_bis(session, period, clinic)
    implants = _implants_used_early(session, period, clinic)
    expiry = _used_after_expiry(session, period, clinic)
    service = _out_of_service(session, [s.code for s in sterilizers], period, clinic, now)
    load_counts = loads.groupby("sterilizer_id").size().to_dict() if not loads.empty else {}
    bi_counts = (
        loads[loads["bi_result"].notna()].groupby("sterilizer_id").size().to_dict()
        if not loads.empty
        else {}
    )
    _, head = audit_head(session)
    return ComplianceReport(
        from_=period.first_day(clinic),  # type: ignore[arg-type]
        to=period.last_day(clinic),  # type: ignore[arg-type]
        generated_at=now.astimezone(clinic.tz),
        time_zone=str(clinic.tz),
        audit_head=head,
        retention_years=retention_years,
        sterilizers=[
            SterilizerFindings(
                code=s.code,
                name=s.name,
                kind=s.kind,
                loads=int(load_counts.get(s.id, 0)),
                bi_tests=int(bi_counts.get(s.id, 0)),
                weeks_without_bi=weeks.get(s.id, []),
                days_without_bowie_dick=days.get(s.id, []),
                failed_cycles=failed.get(s.id, []),
                positive_bis=positives.get(s.id, []),
                implants_used_before_negative_bi=implants.get(s.id, []),
                used_after_expiry=expiry.get(s.id, ExpiryCheck(checked=0, packs=[])),
                out_of_service=service[s.code],
            )
            for s in sterilizers
        ],
    )
