"""Imports every table module so SQLModel.metadata knows the whole schema (Alembic, tests)."""

import sterilization.models  # noqa: F401  (sterilization tables)
from inventory.models import Item, Location, StockLevel, StockLot, StockMovement, Supplier
from steristock.audit.models import AuditEntry, AuditHead
from steristock.auth.models import ApiToken, LoginFailure, User
from steristock.idempotency import IdempotencyRecord

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "IdempotencyRecord",
    "Item",
    "Location",
    "LoginFailure",
    "StockLevel",
    "StockLot",
    "StockMovement",
    "Supplier",
    "User",
]
