"""The compliance findings per sterilizer for a period (SPEC, the auditor's report):
weeks with loads but no spore test, days a pre-vacuum sterilizer ran loads before a passed
Bowie-Dick test, failed cycles and what followed, positive BIs and their recalls, implants
used before a negative BI, packs used after expiry, and time out of service.

They come from a few set-based queries per period, grouped with pandas by clinic-local day
and ISO week (the clinic's time zone decides what "today" and "this week" were).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import (
    Select,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from kernel.audit.models import AuditEntry
from kernel.clock import ClinicTime
from kernel.periods import Period, parse_period
from kernel.problems import InvalidInput
from sterilization.cycle_types import TEST_CYCLE_TYPES
from sterilization.models import (
    BiResult,
    Cycle,
    CycleParameters,
    Pack,
    Recall,
    RecallPack,
    Sterilizer,
)
from sterilization.reports import compliance_ic
from sterilization.reports.compliance_reads import (
    EPOCH,
    ExpiryChecks,
    Prefetched,
    cycles_frame,
    where_it_was_processed,
)
from sterilization.reports.log_export import audit_head
from sterilization.schemas import (
    ComplianceReport,
    DayWithoutBowieDick,
    ExpiredUse,
    ExpiryCheck,
    FailedCycle,
    FollowingCycle,
    ImplantUsedEarly,
    OutOfService,
    OutOfServicePeriod,
    PositiveBi,
    RecallSummary,
    SterilizerFindings,
    WeekWithoutBi,
)

DEFAULT_DAYS = 30  # without `from`/`to`: the last 30 clinic days
MAX_SPAN = dt.timedelta(days=3700)


def compliance_period(
    from_text: str | None, to_text: str | None, zone: ClinicTime, *, today: dt.date
) -> Period:
    """The report's period: `from`/`to` (`kernel.periods`), by default the last 30 clinic
    days up to today; ten years at most."""
    period = parse_period(from_text, to_text, zone, default_days=DEFAULT_DAYS, today=today)
    if period.start and period.end and period.end - period.start > MAX_SPAN:
        raise InvalidInput("The compliance report covers at most ten years at a time.")
    return period


def _date(day: Any) -> dt.date:
    return EPOCH + dt.timedelta(days=int(day))


def _py(value: Any, zone: ClinicTime) -> dt.datetime:
    """A pandas or Python timestamp as a plain datetime in the clinic zone."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return zone.local(value)


def _weeks_without_bi(loads: pd.DataFrame) -> dict[int, list[WeekWithoutBi]]:
    if loads.empty:
        return {}
    frame = pd.DataFrame(
        {
            "sterilizer_id": loads["sterilizer_id"].to_numpy(),
            "year": loads["iso_year"].to_numpy(),
            "week": loads["iso_week"].to_numpy(),
            "bi": loads["bi_result"].notna().to_numpy(),
        }
    )
    weeks = frame.groupby(["sterilizer_id", "year", "week"]).agg(
        loads=("bi", "size"), bis=("bi", "sum")
    )
    gaps = weeks[weeks["bis"] == 0]
    found: dict[int, list[WeekWithoutBi]] = defaultdict(list)
    for (sid, year, week), count in zip(gaps.index, gaps["loads"].to_numpy(), strict=True):
        found[int(sid)].append(
            WeekWithoutBi(
                week=f"{int(year)}-W{int(week):02d}",
                week_start=dt.date.fromisocalendar(int(year), int(week), 1),
                loads=int(count),
            )
        )
    return found


def _days_without_bowie_dick(
    loads: pd.DataFrame, tests: pd.DataFrame, prevac_ids: set[int], zone: ClinicTime
) -> dict[int, list[DayWithoutBowieDick]]:
    """Each (sterilizer, local day) with loads, judged on columns: fine when a Bowie-Dick
    test that day passed and ended by the first load's start."""
    loads = loads[loads["sterilizer_id"].isin(prevac_ids)]
    if loads.empty:
        return {}
    loads = loads.sort_values(["sterilizer_id", "day", "started_at", "id"], kind="stable")
    sid, day = loads["sterilizer_id"].to_numpy(), loads["day"].to_numpy()
    first = np.ones(len(loads), dtype=bool)
    first[1:] = (sid[1:] != sid[:-1]) | (day[1:] != day[:-1])
    starts = np.flatnonzero(first)
    days = pd.DataFrame(
        {
            "sterilizer_id": sid[starts],
            "day": day[starts],
            "loads": np.diff(np.append(starts, len(loads))),
            "first_at": loads["started_at"].iloc[starts].reset_index(drop=True),
            "first_number": loads["number"].to_numpy()[starts],
        }
    )
    bd = tests[(tests["cycle_type"] == "bowie_dick") & tests["sterilizer_id"].isin(prevac_ids)]
    bd = pd.DataFrame(
        {
            "sterilizer_id": bd["sterilizer_id"].to_numpy(),
            "day": bd["day"].to_numpy(),
            "passed": (bd["status"] == "passed").to_numpy(),
            "ended_at": bd["ended_at"].reset_index(drop=True),
        }
    )
    judged = bd.merge(days[["sterilizer_id", "day", "first_at"]], on=["sterilizer_id", "day"])
    judged["in_time"] = judged["passed"] & (judged["ended_at"] <= judged["first_at"])
    per_day = judged.groupby(["sterilizer_id", "day"]).agg(
        tests=("passed", "size"), passed=("passed", "any"), in_time=("in_time", "any")
    )
    days = days.merge(per_day, how="left", left_on=["sterilizer_id", "day"], right_index=True)
    missing = days[~days["in_time"].fillna(False).astype(bool)]
    found: dict[int, list[DayWithoutBowieDick]] = defaultdict(list)
    for sterilizer_id, local_day, count, first_at, number, tests_that_day, passed in zip(
        missing["sterilizer_id"].to_numpy(),
        missing["day"].to_numpy(),
        missing["loads"].to_numpy(),
        missing["first_at"],
        missing["first_number"].to_numpy(),
        missing["tests"].fillna(0).to_numpy(),
        missing["passed"].fillna(False).astype(bool).to_numpy(),
        strict=True,
    ):
        if not tests_that_day:
            verdict = "none"
        elif passed:
            verdict = "after the first load"
        else:
            verdict = "failed"
        found[int(sterilizer_id)].append(
            DayWithoutBowieDick(
                date=_date(local_day),
                loads=int(count),
                first_load_number=int(number),
                first_load_at=_py(first_at, zone),
                bowie_dick=verdict,
            )
        )
    return found


class _Following(NamedTuple):
    number: int
    cycle_type: str
    status: str
    started_at: Any


def _following(row: Any, zone: ClinicTime) -> FollowingCycle:
    return FollowingCycle(
        number=int(row.number),
        cycle_type=row.cycle_type,
        status=row.status,
        started_at=_py(row.started_at, zone),
    )


def _failed_cycles(
    session: Session, cycles: pd.DataFrame, zone: ClinicTime
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
    # Searched in sorted arrays: only the rows that followed a failure become Python
    # objects (a clinic group's year is 100,000 cycles and a few hundred failures).
    order = np.lexsort((cycles["number"].to_numpy(), cycles["sterilizer_id"].to_numpy()))
    sids = cycles["sterilizer_id"].to_numpy()[order]
    numbers = cycles["number"].to_numpy()[order]
    types = cycles["cycle_type"].to_numpy()[order]
    statuses = cycles["status"].to_numpy()[order]
    started = cycles["started_at"].array[order]
    passed = statuses == "passed"

    def row_at(i: int) -> Any:
        return _Following(numbers[i], types[i], statuses[i], started[i])

    def later(sid: int, number: int) -> Select[Any]:
        return (
            select(Cycle.number, Cycle.cycle_type, Cycle.status, Cycle.started_at)
            .where(Cycle.sterilizer_id == sid, Cycle.number > number)
            .order_by(Cycle.number)
            .limit(1)
        )

    found: dict[int, list[FailedCycle]] = defaultdict(list)
    for f in failed.sort_values(["sterilizer_id", "number"]).itertuples(index=False):
        sid = int(f.sterilizer_id)
        lo, hi = int(np.searchsorted(sids, sid, "left")), int(np.searchsorted(sids, sid, "right"))
        first = lo + int(np.searchsorted(numbers[lo:hi], int(f.number), "right"))
        nxt: Any = row_at(first) if first < hi else None
        same = np.flatnonzero(passed[first:hi] & (types[first:hi] == f.cycle_type))
        retest: Any = row_at(first + int(same[0])) if same.size else None
        if nxt is None:
            nxt = session.execute(later(sid, int(f.number))).first()
        if retest is None:
            retest = session.execute(
                later(sid, int(f.number)).where(
                    Cycle.cycle_type == f.cycle_type, Cycle.status == "passed"
                )
            ).first()
        why = list(reasons.get(int(f.id)) or [])
        if f.bi_result == "positive":
            why.append("positive spore test (BI)")
        found[sid].append(
            FailedCycle(
                number=int(f.number),
                cycle_type=f.cycle_type,
                started_at=_py(f.started_at, zone),
                reasons=why,
                pack_count=int(pack_counts.get(int(f.id), 0)),
                next_cycle=_following(nxt, zone) if nxt else None,
                next_passed_same_type=_following(retest, zone) if retest else None,
            )
        )
    return found


def _positive_bis(
    session: Session, period: Period, zone: ClinicTime, ids: list[int] | None = None
) -> dict[int, list[PositiveBi]]:
    """`ids`: the period's cycles with a positive BI, known already (the report's cycle
    columns): read only those (none: no query)."""
    if ids is not None and not ids:
        return {}
    known = [Cycle.id.in_(ids)] if ids is not None and len(ids) <= compliance_ic.MAX_KNOWN else []
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
        .where(BiResult.result == "positive", *period.where(Cycle.started_at), *known)
        .order_by(Cycle.sterilizer_id, Cycle.number)
    ).all()
    found: dict[int, list[PositiveBi]] = defaultdict(list)
    for sid, number, lot, read_at, recall, used_count in rows:
        found[sid].append(
            PositiveBi(
                cycle_number=number,
                lot=lot,
                read_at=zone.local(read_at),
                recall=RecallSummary(
                    id=recall.id,
                    status=recall.status,
                    opened_at=zone.local(recall.opened_at),
                    pack_count=recall.pack_count,
                    used_pack_count=int(used_count or 0),
                    resolved_at=zone.local(recall.resolved_at) if recall.resolved_at else None,
                    resolved_by=recall.resolved_by,
                    resolution_reason=recall.resolution_reason,
                )
                if recall is not None
                else None,
            )
        )
    return found


def _implants_used_early(
    session: Session, period: Period, zone: ClinicTime
) -> dict[int, list[ImplantUsedEarly]]:
    """Implant packs opened on a patient before a negative BI of their load was read (or
    with no negative BI at all)."""
    statement = (
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
    )
    rows = session.execute(where_it_was_processed(session, statement)).all()
    found: dict[int, list[ImplantUsedEarly]] = defaultdict(list)
    for sid, code, number, used_at, ref, result, read_at in rows:
        found[sid].append(
            ImplantUsedEarly(
                code=code,
                cycle_number=number,
                used_at=zone.local(used_at),
                encounter_ref=ref,
                bi_result=result,
                bi_read_at=zone.local(read_at) if read_at else None,
            )
        )
    return found


def _used_after_expiry(
    session: Session,
    period: Period,
    zone: ClinicTime,
    checks: ExpiryChecks | None = None,
) -> dict[int, ExpiryCheck]:
    """Every used pack with an expiry date is compared: grouped by (sterilizer, expiry
    day), only the groups whose latest use falls after the end of that day are opened.
    `checks`: counted already (`prefetch`)."""
    if checks is None:
        statement = (
            select(Cycle.sterilizer_id, Pack.expires_on, func.count(), func.max(Pack.used_at))
            .join(Cycle, Cycle.id == Pack.cycle_id)
            .where(
                Pack.used_at.is_not(None),
                Pack.expires_on.is_not(None),
                *period.where(Pack.used_at),
            )
            .group_by(Cycle.sterilizer_id, Pack.expires_on)
        )
        groups = session.execute(where_it_was_processed(session, statement)).all()
        checked: dict[int, int] = defaultdict(int)
        for sid, _, count, _ in groups:
            checked[sid] += count
        checks = ExpiryChecks(
            dict(checked), sorted((sid, day, at) for sid, day, _, at in groups if at is not None)
        )
    found: dict[int, ExpiryCheck] = {
        sid: ExpiryCheck(checked=count, packs=[]) for sid, count in checks.checked.items()
    }
    for sid, expires_on, latest in checks.latest:
        check = found.setdefault(sid, ExpiryCheck(checked=0, packs=[]))
        latest = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)
        if zone.local_date(latest) <= expires_on:
            continue
        boundary = zone.start_of_day(expires_on + dt.timedelta(days=1))
        late = (
            select(Pack.code, Pack.used_at, Pack.encounter_ref)
            .join(Cycle, Cycle.id == Pack.cycle_id)
            .where(
                Cycle.sterilizer_id == sid,
                Pack.expires_on == expires_on,
                Pack.used_at >= boundary,
                *period.where(Pack.used_at),
            )
            .order_by(Pack.used_at)
        )
        for code, used_at, ref in session.execute(where_it_was_processed(session, late)):
            check.packs.append(
                ExpiredUse(
                    code=code,
                    expires_on=expires_on,
                    used_at=zone.local(used_at),
                    encounter_ref=ref,
                )
            )
    return found


STATUS_ACTIONS = ("sterilizer.create", "sterilizer.status", "sterilizer.out_of_service")


def _out_of_service(
    session: Session, codes: Sequence[str], period: Period, zone: ClinicTime, now: dt.datetime
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
                    start=zone.local(p_start),
                    end=zone.local(p.end) if p.end else None,
                    reason=p.reason,
                )
            )
        found[code] = OutOfService(hours=round(hours, 2), periods=clipped)
    return found


def compliance_report(
    session: Session,
    period: Period,
    zone: ClinicTime,
    *,
    retention_years: int = 10,
    now: dt.datetime,
    prefetched: Prefetched | None = None,
) -> ComplianceReport:
    """Every sterilizer's findings for the period (times in the zone's wall-clock).
    `prefetched`: this zone's share of what `prefetch` read for several zones at once."""
    sterilizers = list(session.scalars(select(Sterilizer).order_by(Sterilizer.code)))
    cycles = prefetched.cycles if prefetched is not None else cycles_frame(session, period, zone)
    is_test = cycles["cycle_type"].isin(TEST_CYCLE_TYPES) if not cycles.empty else None
    loads = cycles[~is_test] if is_test is not None else cycles
    tests = cycles[is_test] if is_test is not None else cycles
    prevac = {s.id for s in sterilizers if s.kind == "steam_prevac"}

    weeks = _weeks_without_bi(loads)
    days = _days_without_bowie_dick(loads, tests, prevac, zone) if prevac else {}
    failed = _failed_cycles(session, cycles, zone)
    positive = sorted({int(i) for i in cycles["id"][cycles["bi_result"] == "positive"]})
    positives = _positive_bis(session, period, zone, positive)
    implants = _implants_used_early(session, period, zone)
    expiry = _used_after_expiry(
        session, period, zone, prefetched.expiry if prefetched is not None else None
    )
    service = _out_of_service(session, [s.code for s in sterilizers], period, zone, now)
    second = compliance_ic.findings(session, period, zone, loads, sterilizers, cycles)
    load_counts = loads.groupby("sterilizer_id").size().to_dict() if not loads.empty else {}
    bi_counts = (
        loads[loads["bi_result"].notna()].groupby("sterilizer_id").size().to_dict()
        if not loads.empty
        else {}
    )
    _, head = audit_head(session)
    return ComplianceReport(
        from_=period.first_day(zone),  # type: ignore[arg-type]
        to=period.last_day(zone),  # type: ignore[arg-type]
        generated_at=zone.local(now),
        time_zone=str(zone.tz),
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
                bi_frequency=s.bi_frequency,
                **{key: by_sterilizer.get(s.id, []) for key, by_sterilizer in second.items()},
            )
            for s in sterilizers
        ],
    )
