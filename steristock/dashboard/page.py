"""The dashboard `/`: what needs attention today, from both domains.

It only composes the domains' read functions (inventory's stock and consumption,
sterilization's sterilizers, cycles and recalls); no rule lives here.

The usage chart sums eight weeks of the ledger, which on a large clinic group takes a
second or more, so the page renders without it and htmx fetches it from
`/dashboard/usage` once the page is shown; the result is kept for a few minutes per
process (a chart of eight weeks need not be up to the second).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Template
from sqlalchemy.orm import Session

from equipment.attention import equipment_attention
from inventory import stock_queries
from kernel.clock import ClinicTime, Clock
from kernel.sites import SiteScope
from kernel.sites.codes import zone_of
from kernel.sites.query_scope import narrow_session, visible_site_ids
from kernel.sites.schemas import SiteParam
from kernel.web.charts import BarChart, daily_bar_chart
from kernel.web.templating import render_page
from sterilization import cycle_queries, recalls, sterilizers
from sterilization.transfers import received_packs

LIST_LIMIT = 15
EXPIRY_DAYS = 30
CHART_WEEKS = 8
CHART_ITEMS = 5
USAGE_CACHE_SECONDS = 300
_usage_lock = threading.Lock()


@dataclass(frozen=True)
class SterilizerLine:
    code: str
    name: str
    in_service: bool
    status_reason: str | None
    last_bi: str | None
    bi_this_week: bool
    last_bowie_dick: str | None
    bowie_dick_today: bool
    needs_bowie_dick: bool


@dataclass(frozen=True)
class UsageChart:
    sku: str
    name: str
    unit: str
    total: int
    chart: BarChart


def sterilizer_lines(
    session: Session, clinic: ClinicTime, now: dt.datetime
) -> list[SterilizerLine]:
    lines = []
    for s in sterilizers.list_sterilizers(session):
        clinic = zone_of(s, clinic)  # each sterilizer's day and week are its site's
        today = clinic.local_date(now)
        bi_day = clinic.local_date(s.last_bi_at) if s.last_bi_at else None
        bd_day = clinic.local_date(s.last_bowie_dick_at) if s.last_bowie_dick_at else None
        lines.append(
            SterilizerLine(
                code=s.code,
                name=s.name,
                in_service=s.status == "in_service",
                status_reason=s.status_reason,
                last_bi=clinic.local_text(s.last_bi_at) if s.last_bi_at else None,
                bi_this_week=bi_day is not None and clinic.same_week(bi_day, today),
                last_bowie_dick=(
                    clinic.local_text(s.last_bowie_dick_at) if s.last_bowie_dick_at else None
                ),
                bowie_dick_today=bd_day == today,
                needs_bowie_dick=s.kind == "steam_prevac",
            )
        )
    return lines


def usage_charts(session: Session, clinic: ClinicTime, today: dt.date) -> tuple[dt.date, list[Any]]:
    """Daily consumption of the most-used items over the last 8 weeks (today included)."""
    days = CHART_WEEKS * 7
    first_day = today - dt.timedelta(days=days - 1)
    series = stock_queries.daily_consumption(
        session, first_day=first_day, days=days, zone=clinic, top=CHART_ITEMS
    )
    return first_day, [
        UsageChart(s.sku, s.name, s.unit, s.total, daily_bar_chart(s.per_day, first_day))
        for s in series
    ]


def cached_usage_charts(
    state: State, session: Session, clinic: ClinicTime, today: dt.date
) -> tuple[dt.date, list[Any]]:
    """`usage_charts`, remembered on the app's state for a few minutes (per clinic day and
    per set of sites: a chart of one site's usage is never shown to another's users)."""
    key = (today, tuple(visible_site_ids(session) or ()))
    with _usage_lock:
        cache = state.get("usage_chart_cache") or {}
        cached = cache.get(key)
        if cached and time.monotonic() - cached[0] < USAGE_CACHE_SECONDS:
            return cached[1]
    result = usage_charts(session, clinic, today)
    with _usage_lock:
        cache = {k: v for k, v in (state.get("usage_chart_cache") or {}).items() if k[0] == today}
        cache[key] = (time.monotonic(), result)
        state["usage_chart_cache"] = cache
    return result


def bin_href(location: str, sku: str) -> str:
    return f"/b/{quote(location, safe='')}/{quote(sku, safe='')}"


def dashboard_zone(sites: SiteScope, clock: Clock) -> ClinicTime:
    """The dashboard's "today": its one site's, else the clinic's default zone."""
    only = sites.only()
    return only.zone if only is not None else clock.zone


@get("/", sync_to_thread=True)
def dashboard(
    request: Request[Any, Any, Any],
    db_session: Session,
    clock: Clock,
    sites: SiteScope,
    site: SiteParam = None,
) -> Template:
    """What needs attention today at the user's sites (the switcher's, or `?site=`)."""
    sites = narrow_session(db_session, sites, site)
    clinic = dashboard_zone(sites, clock)
    now = clock.now()
    today = clinic.local_date(now)
    low_stock, low_total = stock_queries.stock_rows(
        db_session, location=None, sku=None, below_reorder=True, limit=LIST_LIMIT, offset=0
    )
    expiring, expiring_total = stock_queries.expiring_rows(
        db_session, today=today, within_days=EXPIRY_DAYS, location=None, limit=LIST_LIMIT, offset=0
    )
    return render_page(
        request,
        "dashboard.html",
        today=today,
        low_stock=low_stock,
        low_total=low_total,
        expiring=expiring,
        expiring_total=expiring_total,
        expiry_days=EXPIRY_DAYS,
        sterilizers=sterilizer_lines(db_session, clinic, now),
        awaiting_bi=cycle_queries.cycles_awaiting_bi(db_session),
        open_recalls=recalls.open_recalls(db_session),
        equipment=equipment_attention(db_session, clinic, now),
        chart_weeks=CHART_WEEKS,
        bin_href=bin_href,
        local_text=clinic.local_text,
        site_param=site,
        received=received_packs(db_session, now),
    )


@get("/dashboard/usage", sync_to_thread=True)
def usage_fragment(
    request: Request[Any, Any, Any],
    db_session: Session,
    state: State,
    clock: Clock,
    sites: SiteScope,
    site: SiteParam = None,
) -> Template:
    """The usage chart alone (an HTML fragment the dashboard loads with htmx)."""
    sites = narrow_session(db_session, sites, site)
    zone = dashboard_zone(sites, clock)
    today = clock.today(zone)
    first_day, charts = cached_usage_charts(state, db_session, zone, today)
    return render_page(
        request,
        "dashboard_usage.html",
        charts=charts,
        chart_first_day=first_day,
        chart_weeks=CHART_WEEKS,
    )
