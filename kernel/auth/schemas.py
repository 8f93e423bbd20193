"""Request and response bodies for authentication and user management."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from kernel.auth.models import Role
from kernel.fields import NOT_BLANK, Email, Text

Username = Text(64, min_length=1)
EmailOrEmpty = Annotated[
    str, msgspec.Meta(max_length=254, pattern=r"^([^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+)?$")
]
# Passwords are hashed, never stored or shown, so any character may be in one.
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password


SiteCodes = Annotated[list[Text(20, min_length=1)], msgspec.Meta(max_length=200)]


class UserOut(msgspec.Struct):
    username: str
    full_name: str
    role: Role
    active: bool
    created_at: dt.datetime
    sites: list[str]  # the codes of the sites the user works at
    all_sites: bool  # sees every site (the default of admins and auditors)
    email: str | None = None


class TokenUser(msgspec.Struct):
    username: str
    role: Role


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_at: dt.datetime
    user: TokenUser


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Text(64, min_length=2)
    role: Role
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
    full_name: Text(200) = ""
    email: Email | None = None
    sites: SiteCodes | None = None  # default: MAIN
    all_sites: bool | None = None  # default: true for admins and auditors


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role | None = None
    active: bool | None = None
    full_name: Text(200) | None = None
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)] | None = None
    # An address sets it; "" removes it; left out: unchanged.
    email: EmailOrEmpty | None = None
    sites: SiteCodes | None = None  # replaces the user's sites
    all_sites: bool | None = None


Skill = Literal["sterilizer_operation", "hld", "instrument_processing"]


class CompetencyIn(msgspec.Struct, forbid_unknown_fields=True):
    skill: Skill
    granted_on: dt.date
    expires_on: dt.date | None = None
    evidence: Text(500, min_length=1, pattern=NOT_BLANK) | None = None


class CompetencyOut(msgspec.Struct):
    id: int
    username: str
    skill: str
    granted_on: dt.date
    expires_on: dt.date | None
    current: bool
    evidence: str | None
    recorded_by: str
    recorded_at: dt.datetime


class UntrainedOperationOut(msgspec.Struct):
    """A piece of work done without a current competency (compliance report)."""

    username: str
    skill: str
    reason: str
    kind: str
    ref: str
    what: str
    at: dt.datetime
