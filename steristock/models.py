"""Imports every table module so SQLModel.metadata knows the whole schema (Alembic, tests)."""

import sterilization.models  # noqa: F401  (sterilization tables)
from steristock.audit.models import AuditEntry, AuditHead
from steristock.auth.models import ApiToken, LoginFailure, User

__all__ = ["ApiToken", "AuditEntry", "AuditHead", "LoginFailure", "User"]
