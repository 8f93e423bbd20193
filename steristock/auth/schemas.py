"""Request and response bodies for authentication and user management."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from steristock.auth.models import Role

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password


class UserOut(msgspec.Struct):
    username: str
    full_name: str
    role: Role
    active: bool
    created_at: dt.datetime


class TokenUser(msgspec.Struct):
    username: str
    role: Role


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_at: dt.datetime
    user: TokenUser


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=2, max_length=64)]
    role: Role
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
    full_name: Annotated[str, msgspec.Meta(max_length=200)] = ""


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role | None = None
    active: bool | None = None
    full_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)] | None = None
