"""Sites and users' sites as plain functions over a session (admin writes are audited)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from zoneinfo import available_timezones

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.auth.models import Role, User
from kernel.problems import Conflict, InvalidInput, NotFound
from kernel.sites.models import MAIN, Site, UserSite
from kernel.sites.scope import SiteInfo, SiteScope

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,19}$")
ALL_SITES_ROLES = (Role.ADMIN, Role.AUDITOR)  # roles that see every site unless told not to


@lru_cache(maxsize=1)
def iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def normalize_code(code: str) -> str:
    return code.strip().upper()


def check_timezone(name: str, *, field: str = "timezone") -> str:
    """An IANA zone name ("America/Chicago"), or a 422 naming the field."""
    name = name.strip()
    if name not in iana_zones():
        raise InvalidInput.for_field(
            field,
            f"{name!r} is not an IANA time zone (like 'Europe/Berlin' or 'America/Chicago').",
            message="unknown time zone",
        )
    return name


def site_info(site: Site) -> SiteInfo:
    return SiteInfo(id=site.id, code=site.code, name=site.name, timezone=site.timezone)  # type: ignore[arg-type]


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)))


def get_site(session: Session, code: str) -> Site:
    site = session.scalar(select(Site).where(Site.code == normalize_code(code)))
    if site is None:
        raise NotFound(f"No site {code!r}.")
    return site


def create_site(session: Session, *, actor: str, code: str, name: str, timezone: str) -> Site:
    code = normalize_code(code)
    if not CODE_RE.match(code):
        raise InvalidInput.for_field(
            "code",
            "A site code is 1-20 letters, digits, '-' or '_' (like 'MAIN' or 'NORTH-2').",
            message="invalid",
        )
    if not name.strip():
        raise InvalidInput.for_field("name", "A site needs a name.", message="required")
    zone = check_timezone(timezone)
    if session.scalar(select(Site.id).where(Site.code == code)) is not None:
        raise Conflict(f"A site {code!r} already exists.", field="code")
    site = Site(code=code, name=name.strip(), timezone=zone)
    session.add(site)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="site.create",
        entity="site",
        entity_id=code,
        after=audit.snapshot(site),
    )
    return site


# --- users' sites ------------------------------------------------------------------------


def user_site_codes(session: Session, user_id: int) -> list[str]:
    rows = session.scalars(
        select(Site.code)
        .join(UserSite, UserSite.site_id == Site.id)
        .where(UserSite.user_id == user_id)
        .order_by(Site.code)
    )
    return list(rows)


def sites_by_code(session: Session, codes: Sequence[str], *, field: str = "sites") -> list[Site]:
    """The sites named, each once; an unknown code is a 422 naming it."""
    wanted = list(dict.fromkeys(normalize_code(c) for c in codes))
    found = {s.code: s for s in session.scalars(select(Site).where(Site.code.in_(wanted)))}  # type: ignore[attr-defined]
    for index, code in enumerate(wanted):
        if code not in found:
            raise InvalidInput.for_field(
                f"{field}[{index}]", f"Unknown site {code!r}.", message="unknown site"
            )
    return [found[c] for c in wanted]


def set_user_sites(
    session: Session,
    user: User,
    *,
    sites: Sequence[str] | None,
    all_sites: bool | None,
    creating: bool,
) -> None:
    """Give a user their sites. On create: admins and auditors default to all sites, and
    anyone given no `sites` gets `MAIN`. On update only what is sent changes."""
    if creating and all_sites is None:
        all_sites = Role(user.role) in ALL_SITES_ROLES
    if all_sites is not None:
        user.all_sites = all_sites
    if sites is None and creating:
        sites = [MAIN]
    if sites is None:
        return
    chosen = sites_by_code(session, sites)
    session.execute(delete(UserSite).where(UserSite.user_id == user.id))  # type: ignore[arg-type]
    session.add_all([UserSite(user_id=user.id, site_id=s.id) for s in chosen])  # type: ignore[arg-type]
    session.flush()


# --- the request's scope ---------------------------------------------------------------


def scope_for_user(session: Session, user_id: int | None) -> SiteScope:
    """The sites a user may see: all of them with `all_sites`, else their `user_sites`."""
    # Plain rows, not ORM objects: every request of a group of 50 sites reads them all.
    sites = [
        SiteInfo(id=i, code=code, name=name, timezone=timezone)
        for i, code, name, timezone in session.execute(
            select(Site.id, Site.code, Site.name, Site.timezone)  # type: ignore[arg-type]
        )
    ]
    if user_id is None:
        return SiteScope(sites, ())
    rows = session.execute(
        select(User.all_sites, UserSite.site_id)
        .outerjoin(UserSite, UserSite.user_id == User.id)
        .where(User.id == user_id)
    ).all()
    if any(all_sites for all_sites, _ in rows):
        return SiteScope(sites, None)
    return SiteScope(sites, [site_id for _, site_id in rows if site_id is not None])


def main_site_id(session: Session) -> int:
    """The id of site MAIN (created by migration 0011_sites)."""
    return session.scalar(select(Site.id).where(Site.code == MAIN))  # type: ignore[return-value]


def site_id_or_main(session: Session, site_id: int | None) -> int:
    """`site_id`, or MAIN's when None: services called by scripts, the demo and tests.
    Handlers always pass the site their `SiteScope` chose."""
    return site_id if site_id is not None else main_site_id(session)
