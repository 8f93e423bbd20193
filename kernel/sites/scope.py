"""`SiteScope`: the one place that decides which sites' records a request may see and write.

Every handler and page that touches a site-owned table takes the `sites` dependency and
asks it, never the user's role or site list directly:

    rows = session.scalars(select(Pack).where(sites.where(Pack.site_id)))   # lists
    pack = sites.require(pack, f"No pack {code!r}.")   # another site's: the same 404
    site = sites.site_for_write(data.site)             # create: the site a record goes to
    scope = sites.narrow(site_param)                   # `?site=` on reports and lists

A record of another site answers exactly like one that does not exist (never reveal it);
lists leave it out. See docs/sites.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, false, true

from kernel.clock import ClinicTime, zone_named
from kernel.problems import InvalidInput, NotFound
from kernel.sites.models import MAIN

T = TypeVar("T")


@dataclass(frozen=True)
class SiteInfo:
    """A site as a request sees it (a plain value, safe after the session closes)."""

    id: int
    code: str
    name: str
    timezone: str

    @property
    def zone(self) -> ClinicTime:
        """The zone the site counts its days and weeks in."""
        return zone_named(self.timezone)


class SiteScope:
    """The sites one request may see (`visible`) and write, optionally narrowed to one."""

    def __init__(
        self,
        sites: Iterable[SiteInfo],
        allowed: Iterable[int] | None,
        *,
        field: str = "site",
    ) -> None:
        self.all_sites = {s.id: s for s in sites}  # every site of the group, by id
        ids = self.all_sites.keys() if allowed is None else allowed
        self.unrestricted = allowed is None  # the user sees every site, present and future
        self._ids = frozenset(i for i in ids if i in self.all_sites)
        self._field = field

    # --- what the request sees --------------------------------------------------------
    @property
    def ids(self) -> frozenset[int]:
        return self._ids

    @property
    def visible(self) -> list[SiteInfo]:
        """The request's sites, by code."""
        return sorted((self.all_sites[i] for i in self._ids), key=lambda s: s.code)

    @property
    def sees_everything(self) -> bool:
        """True when no site is hidden from the request (no filter needed)."""
        return len(self._ids) == len(self.all_sites)

    @property
    def spans_several(self) -> bool:
        """True when a result may hold more than one site (exports add a `site` column)."""
        return len(self._ids) > 1

    def allows(self, site_id: int | None) -> bool:
        return site_id is not None and site_id in self._ids

    def where(self, column: Any) -> ColumnElement[bool]:
        """The filter on a `site_id` column: the request's sites only."""
        if self.sees_everything:
            return true()
        if not self._ids:
            return false()
        if len(self._ids) == 1:
            return column == next(iter(self._ids))
        return column.in_(sorted(self._ids))

    def require(self, record: T | None, detail: str, *, attr: str = "site_id") -> T:
        """The record, or the 404 it would get if it did not exist (another site's too)."""
        if record is None or not self.allows(getattr(record, attr)):
            raise NotFound(detail)
        return record

    # --- sites by code ----------------------------------------------------------------
    def site(self, site_id: int) -> SiteInfo:
        """A site by id (any site of the group: for labelling records already allowed)."""
        return self.all_sites[site_id]

    def code(self, site_id: int) -> str:
        return self.all_sites[site_id].code

    def zone(self, site_id: int) -> ClinicTime:
        return self.all_sites[site_id].zone

    def by_code(self, code: str, *, field: str | None = None, source: str = "body") -> SiteInfo:
        """One of the request's sites by code; unknown and not-yours read the same (422)."""
        wanted = code.strip().upper()
        for site_id in self._ids:
            if self.all_sites[site_id].code == wanted:
                return self.all_sites[site_id]
        raise InvalidInput.for_field(
            field or self._field,
            f"Unknown site {code!r}.",
            message="unknown site",
            source=source,
        )

    def default_site(self) -> SiteInfo | None:
        """Where a record goes without `site`: the user's only site, else `MAIN`."""
        if len(self._ids) == 1:
            return self.all_sites[next(iter(self._ids))]
        for site_id in self._ids:
            if self.all_sites[site_id].code == MAIN:
                return self.all_sites[site_id]
        return None

    def site_for_write(self, code: str | None, *, field: str | None = None) -> SiteInfo:
        """The site a new record goes to: `code` (one of the user's), else the default."""
        if code is not None:
            return self.by_code(code, field=field)
        site = self.default_site()
        if site is not None:
            return site
        name = field or self._field
        if not self._ids:
            raise InvalidInput.for_field(
                name,
                "You work at no site yet; an administrator must give you one.",
                message="no site",
            )
        raise InvalidInput.for_field(
            name,
            f"You work at several sites; say which one in `{name}`.",
            message="required",
        )

    def narrow(self, code: str | None, *, field: str = "site") -> SiteScope:
        """`?site=CODE`: this scope reduced to that one site (unknown or not yours → 422)."""
        if code is None or not code.strip():
            return self
        site = self.by_code(code, field=field, source="query")
        narrowed = SiteScope(self.all_sites.values(), [site.id], field=self._field)
        return narrowed

    def choose(self, code: str) -> SiteScope:
        """The page's site switcher: narrowed to `code` if it is one of the user's sites,
        else unchanged (a stale cookie never locks anyone out)."""
        wanted = code.strip().upper()
        for site_id in self._ids:
            if self.all_sites[site_id].code == wanted:
                return SiteScope(self.all_sites.values(), [site_id], field=self._field)
        return self

    def single(self, site_id: int) -> SiteScope:
        """This scope reduced to one of its sites (a report computed site by site)."""
        return SiteScope(self.all_sites.values(), [site_id] if site_id in self._ids else [])

    def among(self, site_ids: Iterable[int]) -> SiteScope:
        """This scope reduced to some of its sites (a report computed zone by zone)."""
        return SiteScope(self.all_sites.values(), [i for i in site_ids if i in self._ids])

    def only(self) -> SiteInfo | None:
        """The one site of the scope, if it holds exactly one."""
        return self.all_sites[next(iter(self._ids))] if len(self._ids) == 1 else None
