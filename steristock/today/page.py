"""`/today`: the MA's checklist of the day, on the tablet. Both domains answer through
their own read functions (sterilization's `today.checklist`, inventory's bins below
their reorder point); each line links to the page that resolves it, and the list reloads
itself every 30 seconds, so lines tick off as the records arrive."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.orm import Session

from inventory import stock_queries
from kernel.auth.guards import any_role
from kernel.clock import Clock
from kernel.web.templating import render_page
from sterilization import today as sterilization_today
from sterilization.today import Line

BINS_SHOWN = 50


def bins_below_reorder(session: Session) -> list[Line]:
    rows, _ = stock_queries.stock_rows(
        session, location=None, sku=None, below_reorder=True, limit=BINS_SHOWN, offset=0
    )
    return [
        Line(
            text=f"{row.name} in {row.location}",
            url=f"/b/{row.location}/{row.sku}",
            done=False,
            note=f"{row.on_hand} on hand, reorder point {row.reorder_point}, par {row.par_level}",
        )
        for row in rows
    ]


@get("/today", guards=[any_role], sync_to_thread=True)
def today_page(request: Request[Any, Any, Any], db_session: Session, clock: Clock) -> Template:
    now = clock.now()
    day = sterilization_today.checklist(db_session, zone=clock.zone, now=now)
    bins = bins_below_reorder(db_session)
    sections = [
        ("bowie-dick", "Bowie-Dick test due", day.bowie_dick, "No pre-vacuum sterilizer."),
        ("bis", "BIs to read", day.bis, "No BI waiting."),
        ("cycles", "Cycles running", day.cycles, "No cycle today yet."),
        ("recalls", "Recalls to act on", day.recalls, "No open recall."),
        ("bins", "Bins below reorder point", bins, "Every bin above its reorder point."),
    ]
    open_items = sum(1 for _, _, lines, _ in sections for line in lines if not line.done)
    return render_page(
        request,
        "today.html",
        sections=sections,
        open_items=open_items,
        day=clock.zone.local_date(now),
        updated=clock.zone.local_text(now),
    )
