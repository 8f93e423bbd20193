"""The compliance report's reads, made once for a whole clinic group: the period's cycles
as columns (Core rows straight into pandas, times converted as whole columns) and the
used packs' expiry groups. A report over several time zones reads them once for the
union of the zones' periods and hands each zone pass its share (`prefetch`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    Select,
    String,
    case,
    cast,
    func,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime
from kernel.periods import Period
from kernel.sites.query_scope import ALL_SITES, visible_site_ids
from sterilization.models import (
    BiResult,
    Cycle,
    Pack,
)


def where_it_was_processed(session: Session, statement: Select[Any]) -> Select[Any]:
    """A pack travels (transfers to other sites), its findings do not: they stay with the
    sterilizer whose load it was. So only the cycle's site is kept to the user's sites,
    wherever the pack is now; without this a pack sent on and used elsewhere would be in
    neither site's report."""
    ids = visible_site_ids(session)
    statement = statement.execution_options(**{ALL_SITES: True})
    return statement if ids is None else statement.where(Cycle.site_id.in_(ids))


CYCLE_COLUMNS = (
    "id",
    "sterilizer_id",
    "number",
    "cycle_type",
    "status",
    "started_at",
    "ended_at",
    "bi_lot",
    "site_id",
    "iuss",
)
EPOCH = dt.date(1970, 1, 1)


def _raw_time(column: Any, *, sqlite: bool) -> Any:
    """A timestamp as the database gives it cheapest, converted for the whole column at
    once by `_times` (no Python datetime per value): SQLite's stored text, PostgreSQL's
    seconds since 1970."""
    if sqlite:
        return type_coerce(column, String())
    return cast(func.extract("epoch", column), Float())


def _times(values: Sequence[Any], *, sqlite: bool) -> pd.Series:
    if sqlite:
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    micros = (pd.Series(values, dtype="float64") * 1e6).round()  # None: NaN, then NaT
    return pd.to_datetime(micros, unit="us", utc=True)


def _plain_rows(result: Any) -> list[tuple[Any, ...]]:
    """The driver's own tuples (the columns read need no conversion): no result row
    object per cycle."""
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _read_cycles(session: Session, period: Period, site_ids: list[int] | None) -> pd.DataFrame:
    """The period's cycles as columns (a clinic group's year is 100,000 of them): read
    with Core, no ORM rows, and kept to the session's sites (and `site_ids`) by hand:
    connection-level SQL is not scoped (`kernel.sites.query_scope`)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    statement = select(
        Cycle.id,
        Cycle.sterilizer_id,
        Cycle.number,
        Cycle.cycle_type,
        Cycle.status,
        _raw_time(Cycle.started_at, sqlite=sqlite),
        # Only a Bowie-Dick test's end is read (was it over before the first load?).
        case(
            (Cycle.cycle_type == "bowie_dick", _raw_time(Cycle.ended_at, sqlite=sqlite)),
            else_=None,
        ),
        Cycle.bi_lot,
        Cycle.site_id,
        type_coerce(Cycle.iuss_reason.is_not(None), Integer()),  # 0/1: no conversion
    )
    # The BI results apart (a weekly BI is one load in twenty): joined to every cycle in
    # SQL, they doubled the time of the query; merged below as a left join.
    results = select(BiResult.cycle_id, BiResult.result).join(Cycle, Cycle.id == BiResult.cycle_id)
    visible = visible_site_ids(session)
    where = [*period.where(Cycle.started_at)]
    if visible is not None:
        where.append(Cycle.site_id.in_(visible))
    if site_ids is not None:
        where.append(Cycle.site_id.in_(sorted(site_ids)))
    connection = session.connection()
    rows = _plain_rows(connection.execute(statement.where(*where)))
    bi = _plain_rows(connection.execute(results.where(*where)))
    # One object matrix, sliced into columns (cheaper than transposing the tuples).
    table = np.empty((len(rows), len(CYCLE_COLUMNS)), dtype=object)
    if rows:
        table[:] = rows
    data: dict[str, Any] = {}
    for i, name in enumerate(CYCLE_COLUMNS):
        values = table[:, i]
        if name in ("started_at", "ended_at"):
            data[name] = _times(values, sqlite=sqlite)
        elif name in ("id", "sterilizer_id", "number", "site_id"):
            data[name] = values.astype(np.int64)
        elif name == "iuss":
            data[name] = values.astype(bool)
        else:
            data[name] = pd.Series(values, dtype=object)
    bi_results = pd.DataFrame(
        {
            "id": np.fromiter((r[0] for r in bi), dtype=np.int64, count=len(bi)),
            "bi_result": pd.Series([r[1] for r in bi], dtype=object),
        }
    )
    return pd.DataFrame(data).merge(bi_results, on="id", how="left")


def _with_local_days(frame: pd.DataFrame, zone: ClinicTime) -> pd.DataFrame:
    """Beside the columns: `local` (the start in the zone), `day` (its local day, days
    since 1970) and `iso_year`/`iso_week` (the week's Thursday decides its year)."""
    local = pd.DatetimeIndex(frame["started_at"]).tz_convert(zone.tz)
    frame["local"] = local
    day = local.tz_localize(None).to_numpy().astype("datetime64[D]").astype(np.int64)
    frame["day"] = day
    thursday = day - (day + 3) % 7 + 3
    year = thursday.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)
    jan1 = year.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    frame["iso_year"] = year + 1970
    frame["iso_week"] = (thursday - jan1) // 7 + 1
    return frame


def cycles_frame(session: Session, period: Period, zone: ClinicTime) -> pd.DataFrame:
    return _with_local_days(_read_cycles(session, period, None), zone)


@dataclass(frozen=True, slots=True)
class ZonePass:
    """Sites sharing a time zone: their days, weeks and period are the same."""

    site_ids: list[int]
    zone: ClinicTime
    period: Period


@dataclass(frozen=True, slots=True)
class ExpiryChecks:
    """One zone's used packs with an expiry date: how many by sterilizer, and the latest
    use of each (sterilizer, expiry day) that may be late, in that order."""

    checked: dict[int, int]
    latest: list[tuple[int, dt.date, dt.datetime]]


@dataclass(frozen=True, slots=True)
class Prefetched:
    """What one zone's report reads from the tables all zones share, read once for all."""

    cycles: pd.DataFrame
    expiry: ExpiryChecks


def _union(periods: Sequence[Period]) -> Period:
    starts, ends = [p.start for p in periods], [p.end for p in periods]
    return Period(
        None if None in starts else min(starts),  # type: ignore[type-var]
        None if None in ends else max(ends),  # type: ignore[type-var]
    )


def _common(periods: Sequence[Period]) -> Period:
    starts = [p.start for p in periods if p.start is not None]
    ends = [p.end for p in periods if p.end is not None]
    return Period(max(starts) if starts else None, min(ends) if ends else None)


def prefetch(session: Session, passes: Sequence[ZonePass]) -> list[Prefetched]:
    """The cycles and the expiry groups of every zone's sites, each table read once (a
    clinic group's zones were six scans of the same year), then divided by the cycle's
    site and that zone's own period: the same rows each zone's pass would have read."""
    pass_of = {site_id: i for i, p in enumerate(passes) for site_id in p.site_ids}
    periods = [p.period for p in passes]
    # The session's sites only (no list of every site for an admin who sees them all);
    # each zone then takes its own sites' rows.
    cycles = _read_cycles(session, _union(periods), None)
    site = cycles["site_id"].to_numpy()
    started = cycles["started_at"]
    frames = []
    for p in passes:
        mask = np.isin(site, p.site_ids)
        if p.period.start is not None:
            mask &= (started >= p.period.start).to_numpy()
        if p.period.end is not None:
            mask &= (started < p.period.end).to_numpy()
        frames.append(_with_local_days(cycles[mask].reset_index(drop=True), p.zone))
    expiry = _expiry_groups(session, passes, pass_of)
    return [Prefetched(frame, groups) for frame, groups in zip(frames, expiry, strict=True)]


def _late_at_the_earliest(session: Session) -> Any:
    """The instant a pack's expiry day begins in UTC: no zone's next day (when a use is
    late) begins before it (zones are at most 14 hours ahead), so every late use is on or
    after it, and few others."""
    if session.get_bind().dialect.name == "postgresql":
        return func.timezone("UTC", cast(Pack.expires_on, DateTime()))
    return Pack.expires_on  # SQLite compares the texts: '2026-11-24 02:20...' >= '2026-11-24'


def _expiry_groups(
    session: Session, passes: Sequence[ZonePass], pass_of: dict[int, int]
) -> list[ExpiryChecks]:
    """Used packs with an expiry date: counted by sterilizer in SQL over the hours every
    zone's period shares, one by one in the few hours at the edges where the zones'
    periods differ (each pack counted only within its own zone's period). Beside the
    counts, the latest use of each (sterilizer, expiry day) among the uses that may be
    late (`_late_at_the_earliest`): the groups `_used_after_expiry` may have to open."""
    periods = [p.period for p in passes]
    union, common = _union(periods), _common(periods)
    overlap = common.start is None or common.end is None or common.start < common.end
    checked: list[dict[int, int]] = [defaultdict(int) for _ in passes]
    latest: list[dict[tuple[int, dt.date], dt.datetime]] = [{} for _ in passes]

    def scoped(statement: Select[Any]) -> Select[Any]:
        statement = where_it_was_processed(
            session, statement.select_from(Pack).join(Cycle, Cycle.id == Pack.cycle_id)
        )
        return statement.where(
            Pack.used_at.is_not(None),
            Pack.expires_on.is_not(None),
            *union.where(Pack.used_at),
        )

    def late(i: int, sid: int, expires_on: dt.date, at: dt.datetime) -> None:
        at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        key = (sid, expires_on)
        latest[i][key] = max(latest[i].get(key, at), at)

    edges: list[Any] = []
    if overlap:
        counted = select(Cycle.site_id, Cycle.sterilizer_id, func.count()).where(
            *common.where(Pack.used_at)
        )
        counted = scoped(counted).group_by(Cycle.site_id, Cycle.sterilizer_id)
        for site_id, sid, n in session.execute(counted):
            if site_id in pass_of:
                checked[pass_of[site_id]][sid] += n
        maybe_late = select(
            Cycle.site_id, Cycle.sterilizer_id, Pack.expires_on, func.max(Pack.used_at)
        ).where(*common.where(Pack.used_at), Pack.used_at >= _late_at_the_earliest(session))
        maybe_late = scoped(maybe_late).group_by(
            Cycle.site_id, Cycle.sterilizer_id, Pack.expires_on
        )
        for site_id, sid, expires_on, at in session.execute(maybe_late):
            if site_id in pass_of:
                late(pass_of[site_id], sid, expires_on, at)
        if common.start is not None and common.start != union.start:
            edges.append(Pack.used_at < common.start)
        if common.end is not None and common.end != union.end:
            edges.append(Pack.used_at >= common.end)
    if edges or not overlap:
        single = select(Cycle.site_id, Cycle.sterilizer_id, Pack.expires_on, Pack.used_at)
        single = scoped(single.where(or_(*edges) if edges else true()))
        for site_id, sid, expires_on, used_at in session.execute(single):
            if site_id not in pass_of:
                continue
            i = pass_of[site_id]
            used_at = used_at if used_at.tzinfo else used_at.replace(tzinfo=dt.UTC)
            if passes[i].period.contains(used_at):
                checked[i][sid] += 1
                late(i, sid, expires_on, used_at)
    return [
        ExpiryChecks(dict(c), sorted((sid, day, at) for (sid, day), at in lt.items()))
        for c, lt in zip(checked, latest, strict=True)
    ]
