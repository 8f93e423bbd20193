"""The auditor's exports of the sterilization record: the cycle log as CSV (streamed) and
PDF, and the compliance findings. Everyone signed in may read them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.response import Stream
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.auth.guards import any_role
from kernel.db import Database, utcnow
from kernel.fields import FromParam, QueryText
from kernel.problems import InvalidInput
from sterilization.clinic import Clinic
from sterilization.log_pdf import render_log_pdf
from sterilization.models import Cycle
from sterilization.reports import (
    ComplianceReport,
    Period,
    compliance_report,
    find_sterilizer,
    iter_log,
    log_csv_chunks,
    parse_period,
)

When = QueryText(40)
# The printable log is built in memory; longer ranges belong in the CSV.
PDF_MAX_CYCLES = 20_000
COMPLIANCE_DEFAULT_DAYS = 30


def _clinic(state: State) -> Clinic:
    return Clinic.from_settings(state.settings)


def _filename(stem: str, period: Period, clinic: Clinic, ext: str) -> str:
    first, last = period.first_day(clinic), period.last_day(clinic)
    if first is None and last is None:
        return f"{stem}-to-{clinic.local_date(utcnow())}.{ext}"
    return f"{stem}-{first or 'start'}-to-{last or clinic.local_date(utcnow())}.{ext}"


def _stream_log(
    db: Database, period: Period, sterilizer_id: int | None, clinic: Clinic
) -> Iterator[str]:
    """One read transaction for the whole export, a batch of rows per chunk."""
    with db.session(write=False) as session:
        yield from log_csv_chunks(
            iter_log(session, period, sterilizer_id=sterilizer_id, raw=True), clinic
        )


def log_csv_response(
    session: Session, state: State, from_: str | None, to: str | None, sterilizer: str | None
) -> Stream:
    """The streamed log CSV; the API and the compliance page both answer with it."""
    clinic = _clinic(state)
    period = parse_period(from_, to, clinic)
    sterilizer_id = find_sterilizer(session, sterilizer).id if sterilizer else None
    name = _filename(f"sterilization-log{'-' + sterilizer if sterilizer else ''}", period,
                     clinic, "csv")  # fmt: skip
    return Stream(
        _stream_log(state.db, period, sterilizer_id, clinic),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def log_pdf_response(
    session: Session, state: State, from_: str | None, to: str | None, sterilizer: str | None
) -> Response[bytes]:
    """The printable log; the API and the compliance page both answer with it."""
    clinic = _clinic(state)
    period = parse_period(from_, to, clinic)
    sterilizer_id = find_sterilizer(session, sterilizer).id if sterilizer else None
    where: list[Any] = period.where(Cycle.started_at)
    if sterilizer_id is not None:
        where.append(Cycle.sterilizer_id == sterilizer_id)
    count = session.scalar(select(func.count()).select_from(Cycle).where(*where)) or 0
    if count > PDF_MAX_CYCLES:
        raise InvalidInput(
            f"The period holds {count} cycles; the printable log takes at most "
            f"{PDF_MAX_CYCLES}. Choose a shorter period or download log.csv.",
            extra={"cycles": count},
        )
    content = render_log_pdf(session, period, clinic, sterilizer_id=sterilizer_id)
    name = _filename("sterilization-log", period, clinic, "pdf")
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


def compliance_for(
    session: Session, state: State, from_: str | None, to: str | None
) -> ComplianceReport:
    """The compliance findings (default: the last 30 days); the API and the page use it."""
    clinic = _clinic(state)
    period = parse_period(from_, to, clinic, default_days=COMPLIANCE_DEFAULT_DAYS)
    if period.start and period.end and period.end - period.start > dt.timedelta(days=3700):
        raise InvalidInput("The compliance report covers at most ten years at a time.")
    return compliance_report(
        session, period, clinic, retention_years=state.settings.retention_years
    )


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
    def log_csv(
        self,
        db_session: Session,
        state: State,
        from_: FromParam = None,
        to: When = None,
        sterilizer: QueryText(40) = None,
    ) -> Stream:
        return log_csv_response(db_session, state, from_, to, sterilizer)

    @get(
        "/log.pdf",
        sync_to_thread=True,
        summary="The printable sterilization log (PDF)",
        media_type="application/pdf",
    )
    def log_pdf(
        self,
        db_session: Session,
        state: State,
        from_: FromParam = None,
        to: When = None,
        sterilizer: QueryText(40) = None,
    ) -> Response[bytes]:
        return log_pdf_response(db_session, state, from_, to, sterilizer)

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
    def compliance(
        self,
        db_session: Session,
        state: State,
        from_: FromParam = None,
        to: When = None,
    ) -> ComplianceReport:
        return compliance_for(db_session, state, from_, to)


route_handlers: list[Any] = [SterilizationReportController]
