"""Request and response bodies for authentication and user management."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from kernel.auth.models import Role
from kernel.fields import Text

Username = Text(64, min_length=1)
# Passwords are hashed, never stored or shown, so any character may be in one.
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
    username: Text(64, min_length=2)
    role: Role
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
    full_name: Text(200) = ""


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role | None = None
    active: bool | None = None
    full_name: Text(200) | None = None
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=256)] | None = None
