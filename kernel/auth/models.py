"""Tables for users, their API tokens and failed logins (for throttling)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from kernel.db import UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    MA = "ma"
    PURCHASING = "purchasing"
    AUDITOR = "auditor"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)  # notifications (e-mail)
    role: str = Field(max_length=20)  # a Role value; checked by a constraint
    password_hash: str = Field(max_length=255)
    active: bool = Field(default=True)
    # Sees every site of the group, present and future (else `user_sites`: kernel.sites).
    all_sites: bool = Field(default=False)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 is stored, so a database leak exposes no token."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(default="api", max_length=20)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """One failed login; recent rows per username or client drive the throttle."""

    __tablename__ = "login_failures"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    client: str = Field(max_length=64, index=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


SKILLS = ("sterilizer_operation", "hld", "instrument_processing")


class UserCompetency(SQLModel, table=True):
    """A skill a person was trained and signed off for, from `granted_on` until
    `expires_on` (inclusive; open-ended when absent). Never edited: a renewal is a
    further grant, so the record shows what was current on any past day."""

    __tablename__ = "user_competencies"
    __table_args__ = (
        CheckConstraint(
            "skill IN ('sterilizer_operation','hld','instrument_processing')",
            name="ck_user_competencies_skill",
        ),
        Index("ix_user_competencies_user_skill", "user_id", "skill"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    skill: str = Field(max_length=40)
    granted_on: dt.date = Field()
    expires_on: dt.date | None = Field(default=None)
    evidence: str | None = Field(default=None, max_length=500)
    recorded_by: str = Field(max_length=64)
    recorded_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuthGeneration(SQLModel, table=True):
    """One row: bumped by database triggers whenever a token or user changes in a way that
    can end or change access, so every worker's token cache knows to look again."""

    __tablename__ = "auth_generation"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    generation: int = Field(default=0, sa_type=BigInteger)
