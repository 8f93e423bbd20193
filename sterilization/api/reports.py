"""`/api/v1/sterilization/log.csv|log.pdf|compliance`: the auditor's exports of the
sterilization record (the cycle log, streamed as CSV or printed) and the compliance
findings. Everyone signed in may read them; the compliance page serves the same files."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.response import Stream
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.clock import Clock
from kernel.csv_export import MEDIA_TYPE
from kernel.db import Database
from kernel.fields import FromParam, QueryText
from kernel.periods import Period, parse_period
from sterilization import sterilizers
from sterilization.reports import compliance, log_export, log_pdf
from sterilization.schemas import ComplianceReport

When = QueryText(40)


def _filename(stem: str, period: Period, clock: Clock, ext: str) -> str:
    first, last = period.first_day(clock.zone), period.last_day(clock.zone)
    if first is None and last is None:
        return f"{stem}-to-{clock.today()}.{ext}"
    return f"{stem}-{first or 'start'}-to-{last or clock.today()}.{ext}"


def _sterilizer_id(session: Session, code: str | None) -> int | None:
    return sterilizers.get_sterilizer(session, code).id if code else None


def log_csv_response(
    session: Session, db: Database, clock: Clock, from_: str | None, to: str | None,
    sterilizer: str | None,
) -> Stream:  # fmt: skip
    """The streamed log CSV; the API and the compliance page both answer with it."""
    period = parse_period(from_, to, clock.zone)
    sterilizer_id = _sterilizer_id(session, sterilizer)
    stem = f"sterilization-log{'-' + sterilizer if sterilizer else ''}"
    return Stream(
        log_export.log_csv_chunks(db, period, clock.zone, sterilizer_id=sterilizer_id),
        media_type=MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{_filename(stem, period, clock, "csv")}"'
        },
    )


def log_pdf_response(
    session: Session, clock: Clock, from_: str | None, to: str | None, sterilizer: str | None
) -> Response[bytes]:
    """The printable log; the API and the compliance page both answer with it."""
    period = parse_period(from_, to, clock.zone)
    sterilizer_id = _sterilizer_id(session, sterilizer)
    log_pdf.check_printable(session, period, sterilizer_id=sterilizer_id)
    content = log_pdf.render_log_pdf(
        session, period, clock.zone, sterilizer_id=sterilizer_id, now=clock.now()
    )
    name = _filename("sterilization-log", period, clock, "pdf")
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


def compliance_for(
    session: Session, state: State, clock: Clock, from_: str | None, to: str | None
) -> ComplianceReport:
    """The compliance findings (default: the last 30 days); the API and the page use it."""
    period = compliance.compliance_period(from_, to, clock.zone, today=clock.today())
    return compliance.compliance_report(
        session, period, clock.zone, retention_years=state.settings.retention_years,
        now=clock.now(),
    )  # fmt: skip


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
        from_: FromParam = None,
        to: When = None,
        sterilizer: QueryText(40) = None,
    ) -> Stream:
        return log_csv_response(db_session, state.db, clock, from_, to, sterilizer)

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
        from_: FromParam = None,
        to: When = None,
        sterilizer: QueryText(40) = None,
    ) -> Response[bytes]:
        return log_pdf_response(db_session, clock, from_, to, sterilizer)

    @get(
        "/compliance",
        sync_to_thread=True,
        summary="Compliance findings per sterilizer for a period (default: last 30 days)",
        description=(
            "Per sterilizer: ISO weeks with loads but no spore test (BI); days a pre-vacuum "
            "sterilizer ran loads without a passed Bowie-Dick test first; failed cycles and "
            "what followed; positive BIs with their recalls; implant packs used before a "
            "negative BI; used packs checked against their expiry; time out of service."
        ),
    )
    def get_compliance_report(
        self,
        db_session: Session,
        state: State,
        clock: Clock,
        from_: FromParam = None,
        to: When = None,
    ) -> ComplianceReport:
        return compliance_for(db_session, state, clock, from_, to)
