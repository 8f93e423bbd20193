"""`/api/v1/sterilization/log.csv|log.pdf|compliance`: the auditor's exports of the
sterilization record (the cycle log, streamed as CSV or printed) and the compliance
findings. Everyone signed in may read them; the compliance page serves the same files."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.response import Stream
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.clock import ClinicTime, Clock
from kernel.compliance import BuiltSection, ComplianceScope, as_json, build_sections
from kernel.csv_export import MEDIA_TYPE
from kernel.db import Database
from kernel.fields import FromParam, QueryText
from kernel.periods import Period, parse_period
from kernel.sites import SiteScope
from kernel.sites.query_scope import narrow_session, set_session_scope, visible_site_ids
from kernel.sites.schemas import SiteParam
from sterilization import sterilizers
from sterilization.models import Sterilizer
from sterilization.reports import compliance, compliance_reads, log_export, log_pdf
from sterilization.schemas import ComplianceReport, SterilizerFindings

When = QueryText(40)


def _filename(stem: str, period: Period, clock: Clock, ext: str) -> str:
    first, last = period.first_day(clock.zone), period.last_day(clock.zone)
    if first is None and last is None:
        return f"{stem}-to-{clock.today()}.{ext}"
    return f"{stem}-{first or 'start'}-to-{last or clock.today()}.{ext}"


def _sterilizer_id(session: Session, code: str | None) -> int | None:
    return sterilizers.get_sterilizer(session, code).id if code else None


def report_zone(scope: SiteScope, clock: Clock) -> ClinicTime:
    """The zone a report's `from`/`to` days are read in: its one site's, else the clinic's
    default zone (a report across sites in several zones)."""
    only = scope.only()
    return only.zone if only is not None else clock.zone


def log_csv_response(
    session: Session, db: Database, clock: Clock, from_: str | None, to: str | None,
    sterilizer: str | None, sites: SiteScope, site: str | None = None,
) -> Stream:  # fmt: skip
    """The streamed log CSV of the user's sites (or `site`): times in each cycle's site's
    zone, a leading `site` column when the log holds several sites. The API and the
    compliance page both answer with it."""
    scope = narrow_session(session, sites, site)
    zone = report_zone(scope, clock)
    period = parse_period(from_, to, zone)
    sterilizer_id = _sterilizer_id(session, sterilizer)
    stem = f"sterilization-log{'-' + sterilizer if sterilizer else ''}"
    return Stream(
        log_export.log_csv_chunks(
            db,
            period,
            zone,
            sterilizer_id=sterilizer_id,
            site_ids=visible_site_ids(session),
            sites={s.id: (s.code, s.zone) for s in scope.visible},
            site_column=log_export.sites_in_log(session, period, sterilizer_id) > 1,
        ),
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(stem, period, clock, "csv")}"'
        },
    )


def log_pdf_response(
    session: Session, clock: Clock, from_: str | None, to: str | None, sterilizer: str | None,
    sites: SiteScope, site: str | None = None,
) -> Response[bytes]:  # fmt: skip
    """The printable log of the user's sites (or `site`); the API and the compliance page
    both answer with it."""
    scope = narrow_session(session, sites, site)
    zone = report_zone(scope, clock)
    period = parse_period(from_, to, zone)
    sterilizer_id = _sterilizer_id(session, sterilizer)
    log_pdf.check_printable(session, period, sterilizer_id=sterilizer_id)
    content = log_pdf.render_log_pdf(
        session, period, zone, sterilizer_id=sterilizer_id, now=clock.now()
    )
    name = _filename("sterilization-log", period, clock, "pdf")
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


def compliance_for(
    session: Session,
    state: State,
    clock: Clock,
    from_: str | None,
    to: str | None,
    sites: SiteScope,
    site: str | None = None,
) -> ComplianceReport:
    """The compliance findings (default: the last 30 days) of the user's sites or of
    `site`; each site's days and weeks in its own zone. The API and the page use it."""
    scope = narrow_session(session, sites, site)
    # Sites in one zone share their days, weeks and period: one pass per zone (a group's
    # 50 sites are a handful of zones), not one per site (50 times every query).
    by_zone: dict[str, list[int]] = {}
    for info in scope.visible:
        by_zone.setdefault(info.timezone, []).append(info.id)
    passes = []
    for site_ids in by_zone.values():
        zone = scope.zone(site_ids[0])
        period = compliance.compliance_period(from_, to, zone, today=clock.today(zone))
        passes.append(compliance_reads.ZonePass(site_ids, zone, period))
    # The tables every zone reads (the period's cycles, the used packs) are read once for
    # all zones and divided by site and each zone's period.
    shared = compliance_reads.prefetch(session, passes) if passes else []
    merged: ComplianceReport | None = None
    found: list[SterilizerFindings] = []
    try:
        for one, prefetched in zip(passes, shared, strict=True):
            site_ids, zone, period = one.site_ids, one.zone, one.period
            set_session_scope(session, scope.among(site_ids))
            report = compliance.compliance_report(
                session, period, zone, retention_years=state.settings.retention_years,
                now=clock.now(), prefetched=prefetched,
            )  # fmt: skip
            site_of = dict(session.execute(select(Sterilizer.code, Sterilizer.site_id)).all())
            for findings in report.sterilizers:
                info = scope.site(site_of[findings.code])
                findings.site, findings.time_zone = info.code, info.timezone
            found.extend(report.sterilizers)
            if merged is None:  # the first site's zone (sites by code) heads the report
                merged = report
    finally:
        set_session_scope(session, scope)
    if merged is not None:
        merged.sterilizers = sorted(found, key=lambda f: (f.site or "", f.code))
        merged.sites = [info.code for info in scope.visible]
    if merged is None:  # a user with no site: an empty report in the clinic's zone
        period = compliance.compliance_period(from_, to, clock.zone, today=clock.today())
        merged = compliance.compliance_report(
            session, period, clock.zone, retention_years=state.settings.retention_years,
            now=clock.now(),
        )  # fmt: skip
    return merged


def contributed_sections(
    session: Session, clock: Clock, report: ComplianceReport
) -> list[BuiltSection]:
    """The report's sections from other domains and the kernel (`kernel.compliance`:
    equipment, HLD, training), for the report's period."""
    period = parse_period(report.from_.isoformat(), report.to.isoformat(), clock.zone)
    scope = ComplianceScope(
        period=period, zone=clock.zone, first=report.from_, last=report.to,
        today=clock.today(), now=clock.now(),
    )  # fmt: skip
    return build_sections(session, scope)


class SterilizationReportController(Controller):
    path = "/api/v1/sterilization"
    tags = ["sterilization", "audit"]
    guards = [any_role]

    @get(
        "/log.csv",
        sync_to_thread=True,
        summary="The sterilization log as CSV (one row per cycle), streamed",
        description=(
            "`from`/`to` are clinic dates (both included) or date-times with offset; "
            "`sterilizer` is a sterilizer code. Times are in the clinic's zone with offset."
        ),
        media_type="text/csv",
    )
    def download_sterilization_log_csv(
        self,
        db_session: Session,
        state: State,
        clock: Clock,
        sites: SiteScope,
        from_: FromParam = None,
        to: When = None,
        sterilizer: QueryText(40) = None,
        site: SiteParam = None,
    ) -> Stream:
        return log_csv_response(db_session, state.db, clock, from_, to, sterilizer, sites, site)

    @get(
        "/log.pdf",
        sync_to_thread=True,
        summary="The printable sterilization log (PDF)",
        media_type="application/pdf",
    )
    def download_sterilization_log_pdf(
        self,
        db_session: Session,
        clock: Clock,
        sites: SiteScope,
        from_: FromParam = None,
        to: When = None,
        sterilizer: QueryText(40) = None,
        site: SiteParam = None,
    ) -> Response[bytes]:
        return log_pdf_response(db_session, clock, from_, to, sterilizer, sites, site)

    @get(
        "/compliance",
        sync_to_thread=True,
        summary="Compliance findings per sterilizer for a period (default: last 30 days)",
        description=(
            "Per sterilizer: ISO weeks with loads but no spore test (BI); days a pre-vacuum "
            "sterilizer ran loads without a passed Bowie-Dick test first; failed cycles and "
            "what followed; positive BIs with their recalls; implant packs used before a "
            "negative BI; used packs checked against their expiry; time out of service. "
            "Beside `sterilizers`, the sections other parts of SteriStock contribute: "
            "`equipment` (missed and failed efficacy tests, maintenance late or overdue), "
            "`hld` (failed HLD runs, uses without a passed run) and `untrained_operators` "
            "(cycles and HLD runs by staff without a current competency)."
        ),
    )
    def get_compliance_report(
        self,
        db_session: Session,
        state: State,
        clock: Clock,
        sites: SiteScope,
        from_: FromParam = None,
        to: When = None,
        site: SiteParam = None,
    ) -> ComplianceReport:
        report = compliance_for(db_session, state, clock, from_, to, sites, site)
        sections = as_json(contributed_sections(db_session, clock, report))
        # The contributed sections are top-level keys beside the sterilizers' findings.
        return {**msgspec.to_builtins(report), **sections}  # type: ignore[return-value]
