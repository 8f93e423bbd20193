"""The equipment logs' CSV files for the pages (the compliance page links them): the same
files as the API's, under a page path so the signed-in browser session can fetch them."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from sqlalchemy.orm import Session

from equipment.api.exports import csv_response
from equipment.guards import equipment_readers
from equipment.reports.exports import EXPORTS
from kernel.clock import Clock
from kernel.fields import FromParam, QueryText
from kernel.problems import NotFound


@get("/equipment/exports/{log:str}", guards=[equipment_readers], sync_to_thread=True,
     media_type="text/csv")  # fmt: skip
def equipment_log_csv(
    log: str,
    db_session: Session,
    clock: Clock,
    from_: FromParam = None,
    to: QueryText(40) = None,
) -> Response[str]:
    if log not in EXPORTS:
        raise NotFound(f"No log called {log!r}; the logs are {', '.join(EXPORTS)}.")
    return csv_response(log, db_session, clock, from_ or None, to or None)


page_handlers: list[Any] = [equipment_log_csv]
