"""The CSV exports of each equipment log, for everyone signed in (the auditor's files):
`/api/v1/equipment/tests.csv`, `/api/v1/equipment/runs.csv`, `/api/v1/maintenance.csv`,
`/api/v1/hld-devices/runs.csv`, `/api/v1/hld-devices/uses.csv`. The compliance page
serves the same files (`equipment/pages/exports.py`)."""

from __future__ import annotations

from litestar import Response, get
from sqlalchemy.orm import Session

from equipment.reports.exports import EXPORTS, export_filename
from kernel.auth.guards import any_role
from kernel.clock import Clock
from kernel.csv_export import MEDIA_TYPE
from kernel.fields import FromParam, QueryText
from kernel.periods import parse_period

When = QueryText(40)
DESCRIPTION = (
    "`from`/`to` are clinic dates (both included) or date-times with offset; without "
    "them, the whole log. Times are in the clinic's zone with offset."
)


def csv_response(
    log: str, session: Session, clock: Clock, from_: str | None, to: str | None
) -> Response[str]:
    """One log as a CSV download; the API and the pages both answer with it."""
    export = EXPORTS[log]
    period = parse_period(from_, to, clock.zone)
    name = export_filename(export.stem, period, clock.zone, clock.today())
    return Response(
        export.write(session, period, clock.zone),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _handler(log: str, path: str, name: str, summary: str):
    def handler(
        db_session: Session, clock: Clock, from_: FromParam = None, to: When = None
    ) -> Response[str]:
        return csv_response(log, db_session, clock, from_, to)

    handler.__name__ = name
    handler.__qualname__ = name
    return get(
        path, guards=[any_role], sync_to_thread=True, summary=summary, description=DESCRIPTION,
        media_type="text/csv", tags=["equipment"],
    )(handler)  # fmt: skip


download_equipment_tests_csv = _handler(
    "equipment-tests", "/api/v1/equipment/tests.csv", "download_equipment_tests_csv",
    "The efficacy test log as CSV",
)  # fmt: skip
download_equipment_runs_csv = _handler(
    "equipment-runs", "/api/v1/equipment/runs.csv", "download_equipment_runs_csv",
    "The equipment run log as CSV",
)  # fmt: skip
download_maintenance_csv = _handler(
    "maintenance", "/api/v1/maintenance.csv", "download_maintenance_csv",
    "The maintenance log as CSV",
)  # fmt: skip
download_hld_runs_csv = _handler(
    "hld-runs", "/api/v1/hld-devices/runs.csv", "download_hld_runs_csv",
    "The high-level disinfection log as CSV",
)  # fmt: skip
download_hld_uses_csv = _handler(
    "hld-uses", "/api/v1/hld-devices/uses.csv", "download_hld_uses_csv",
    "HLD device uses on encounters as CSV",
)  # fmt: skip

export_handlers = [
    download_equipment_tests_csv,
    download_equipment_runs_csv,
    download_maintenance_csv,
    download_hld_runs_csv,
    download_hld_uses_csv,
]
