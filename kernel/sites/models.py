"""Tables of sites (one clinic of a group) and which users work at which sites.

A site is the unit of "who sees what": every site-owned table carries a `site_id`
(see docs/sites.md). `users.all_sites` (a column of the users table, migration
0011_sites) lets a user see every site, present and future; otherwise `user_sites`
lists theirs.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from kernel.db import UTCDateTime, utcnow

MAIN = "MAIN"  # the site existing data moved into, and the default site of new users


class Site(SQLModel, table=True):
    __tablename__ = "sites"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=200)
    timezone: str = Field(max_length=64)  # an IANA zone name ("Europe/Berlin")
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UserSite(SQLModel, table=True):
    """One site a user works at (users with `all_sites` need no rows)."""

    __tablename__ = "user_sites"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    site_id: int = Field(foreign_key="sites.id", primary_key=True, index=True)
