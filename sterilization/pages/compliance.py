"""The compliance page for the auditor: the findings of `GET /api/v1/sterilization/compliance`
for a period (default: the last 30 clinic days), per sterilizer and finding type, and the
cycle log downloads (CSV, PDF) through the session cookie.

The page reuses the API's functions (`sterilization.api.reports`: `compliance_for`,
`log_csv_response`, `log_pdf_response`), so what it shows and serves is what the API gives.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import Parameter, QueryParameter
from litestar.response import Stream, Template
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime, Clock
from kernel.fields import PRINTABLE
from kernel.problems import DomainError
from kernel.sites import SiteScope
from kernel.web.templating import render_page
from sterilization.api.reports import (
    compliance_for,
    contributed_sections,
    log_csv_response,
    log_pdf_response,
)
from sterilization.guards import auditor_or_admin
from sterilization.schemas import ComplianceReport, SterilizerFindings

FromDate = Annotated[str | None, QueryParameter(name="from", max_length=40, pattern=PRINTABLE)]
ToDate = Annotated[str | None, Parameter(max_length=40)]


def _when(value: dt.datetime | None, zone: ClinicTime) -> str:
    return zone.local_text(value) if value else "—"


def finding_sections(s: SterilizerFindings, zone: ClinicTime) -> list[dict[str, Any]]:
    """Each finding type as a titled table (headers, rows); empty rows mean none found."""

    def cycle_text(c: Any) -> str:
        if c is None:
            return "none"
        return f"#{c.number} {c.cycle_type} {c.status} ({_when(c.started_at, zone)})"

    def recall_text(r: Any) -> str:
        if r is None:
            return "no recall"
        text = f"recall {r.id} {r.status}: {r.pack_count} packs, {r.used_pack_count} used"
        return text + (f"; resolved: {r.resolution_reason}" if r.resolution_reason else "")

    return [
        {
            "key": "weeks-without-bi",
            "title": "Weeks with loads but no spore test (BI)",
            "headers": ["ISO week", "Week starts", "Loads"],
            "rows": [[w.week, w.week_start.isoformat(), w.loads] for w in s.weeks_without_bi],
        },
        {
            "key": "days-without-bowie-dick",
            "title": "Days without a passed Bowie-Dick test before the first load",
            "headers": ["Day", "Loads", "First load", "Bowie-Dick"],
            "rows": [
                [
                    d.date.isoformat(),
                    d.loads,
                    f"#{d.first_load_number} at {_when(d.first_load_at, zone)}",
                    d.bowie_dick,
                ]
                for d in s.days_without_bowie_dick
            ],
        },
        {
            "key": "failed-cycles",
            "title": "Failed cycles",
            "headers": ["Cycle", "Started", "Reasons", "Packs", "Next cycle", "Next pass"],
            "rows": [
                [
                    f"#{f.number} {f.cycle_type}",
                    _when(f.started_at, zone),
                    "; ".join(f.reasons),
                    f.pack_count,
                    cycle_text(f.next_cycle),
                    cycle_text(f.next_passed_same_type),
                ]
                for f in s.failed_cycles
            ],
        },
        {
            "key": "positive-bis",
            "title": "Positive spore tests (BI)",
            "headers": ["Cycle", "BI lot", "Read", "Recall"],
            "rows": [
                [f"#{p.cycle_number}", p.lot, _when(p.read_at, zone), recall_text(p.recall)]
                for p in s.positive_bis
            ],
        },
        {
            "key": "implants-used-early",
            "title": "Implant packs used before a negative BI",
            "headers": ["Pack", "Cycle", "Used", "Encounter", "BI result", "BI read"],
            "rows": [
                [
                    i.code,
                    f"#{i.cycle_number}",
                    _when(i.used_at, zone),
                    i.encounter_ref or "—",
                    i.bi_result or "none",
                    _when(i.bi_read_at, zone),
                ]
                for i in s.implants_used_before_negative_bi
            ],
        },
        {
            "key": "used-after-expiry",
            "title": f"Packs used after expiry ({s.used_after_expiry.checked} used packs checked)",
            "headers": ["Pack", "Expired on", "Used", "Encounter"],
            "rows": [
                [e.code, e.expires_on.isoformat(), _when(e.used_at, zone), e.encounter_ref or "—"]
                for e in s.used_after_expiry.packs
            ],
        },
    ]


def sterilizer_views(report: ComplianceReport, zone: ClinicTime) -> list[dict[str, Any]]:
    views = []
    for s in report.sterilizers:
        sections = finding_sections(s, zone)
        views.append(
            {
                "s": s,
                "sections": sections,
                "findings": sum(len(section["rows"]) for section in sections),
                "out_of_service": [
                    [_when(p.start, zone), _when(p.end, zone) if p.end else "still out",
                     p.reason or "—"]
                    for p in s.out_of_service.periods
                ],
            }
        )  # fmt: skip
    return views


@get("/compliance", guards=[auditor_or_admin], sync_to_thread=True)
def compliance_page(
    request: Request[Any, Any, Any],
    db_session: Session,
    state: State,
    clock: Clock,
    sites: SiteScope,
    from_: FromDate = None,
    to: ToDate = None,
) -> Template:
    try:
        report = compliance_for(db_session, state, clock, from_ or None, to or None, sites)
    except DomainError as exc:
        return render_page(
            request,
            "sterilization/compliance.html",
            status_code=int(exc.status_code),
            error=exc.detail,
            report=None,
            form={"from": from_ or "", "to": to or ""},
        )
    period = urlencode({"from": report.from_.isoformat(), "to": report.to.isoformat()})
    sections = [
        {
            "name": built.section.name,
            "title": built.section.title,
            "tables": built.tables(clock.zone),
            "findings": built.findings(clock.zone),
            "exports": [(label, f"{path}?{period}") for label, path in built.section.exports],
        }
        for built in contributed_sections(db_session, clock, report)
    ]
    return render_page(
        request,
        "sterilization/compliance.html",
        error=None,
        report=report,
        generated_at=clock.zone.local_text(report.generated_at),
        views=sterilizer_views(report, clock.zone),
        sections=sections,
        form={"from": report.from_.isoformat(), "to": report.to.isoformat()},
        csv_url=f"/compliance/log.csv?{period}",
        pdf_url=f"/compliance/log.pdf?{period}",
    )


@get("/compliance/log.csv", guards=[auditor_or_admin], sync_to_thread=True,
     media_type="text/csv")  # fmt: skip
def compliance_log_csv(
    db_session: Session,
    state: State,
    clock: Clock,
    sites: SiteScope,
    from_: FromDate = None,
    to: ToDate = None,
) -> Stream:
    """The API's log CSV (same function), with the session cookie."""
    return log_csv_response(db_session, state.db, clock, from_ or None, to or None, None, sites)


@get("/compliance/log.pdf", guards=[auditor_or_admin], sync_to_thread=True,
     media_type="application/pdf")  # fmt: skip
def compliance_log_pdf(
    db_session: Session, clock: Clock, sites: SiteScope, from_: FromDate = None, to: ToDate = None
) -> Response[bytes]:
    """The API's printable log (same function), with the session cookie."""
    return log_pdf_response(db_session, clock, from_ or None, to or None, None, sites)


page_handlers: list[Any] = [compliance_page, compliance_log_csv, compliance_log_pdf]
