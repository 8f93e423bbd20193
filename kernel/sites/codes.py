"""Site codes and zones of records, for responses (`"site": "MAIN"`) and for counting a
record's days in its site's zone, read once per session.

Sites never change once created, so a session keeps the id → (code, zone) map it read
first (`session.info`); a site made later in the session is read when first asked for.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from kernel.clock import ClinicTime, zone_named
from kernel.sites.models import Site

_KEY = "kernel.sites.codes"


def _sites(session: Session) -> dict[int, tuple[str, str]]:
    found = session.info.get(_KEY)
    if found is None:
        rows = session.execute(select(Site.id, Site.code, Site.timezone)).all()
        found = {site_id: (code, zone) for site_id, code, zone in rows}
        session.info[_KEY] = found
    return found


def _site(session: Session, site_id: int) -> tuple[str, str]:
    found = _sites(session)
    if site_id not in found:  # made in this session after the map was read
        forget_site_codes(session)
        found = _sites(session)
    return found[site_id]


def site_codes(session: Session) -> dict[int, str]:
    return {site_id: code for site_id, (code, _) in _sites(session).items()}


def site_code(session: Session, site_id: int) -> str:
    return _site(session, site_id)[0]


def site_zone(session: Session, site_id: int) -> ClinicTime:
    """The zone site `site_id` counts its days and weeks in."""
    return zone_named(_site(session, site_id)[1])


def zone_of(record: Any, default: ClinicTime | None = None) -> ClinicTime:
    """The zone of the site a loaded record (with `site_id`) belongs to (`default` for a
    record no session holds)."""
    session = object_session(record)
    if session is None or getattr(record, "site_id", None) is None:
        if default is None:
            raise RuntimeError("zone_of needs a record attached to a session")
        return default
    return site_zone(session, record.site_id)


def code_of(record: Any) -> str:
    """The code of the site a loaded record (with `site_id`) belongs to."""
    session = object_session(record)
    if session is None:
        raise RuntimeError("code_of needs a record attached to a session")
    return site_code(session, record.site_id)


def forget_site_codes(session: Session) -> None:
    session.info.pop(_KEY, None)


def remember(session: Session, sites: dict[int, tuple[str, str]]) -> None:
    """Sites read elsewhere in this session (the site scope), so codes need no query."""
    session.info.setdefault(_KEY, sites)
