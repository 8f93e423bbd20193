"""Request and response bodies of the sites API."""

from __future__ import annotations

import datetime as dt

import msgspec

from kernel.fields import NOT_BLANK, QueryText, Text

SiteCode = Text(20, min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class SiteCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: SiteCode
    name: Text(200, min_length=1, pattern=NOT_BLANK)
    timezone: Text(64, min_length=1)


class SiteOut(msgspec.Struct):
    code: str
    name: str
    timezone: str
    created_at: dt.datetime


# `?site=CODE`: narrows a list, report or export to one of the user's sites.
SiteParam = QueryText(20, description="Only this site (one of yours); default: all your sites")
