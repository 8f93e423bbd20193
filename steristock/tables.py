"""Imports every table module so SQLModel.metadata knows the whole schema (Alembic, tests)."""

import sterilization.models  # noqa: F401  (sterilization tables)
from inventory.models import (
    CatalogueUpload,
    Item,
    ItemPackaging,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockLot,
    StockMovement,
    Supplier,
    SupplierOrderFormat,
)
from kernel.audit.models import AuditEntry, AuditHead
from kernel.auth.models import ApiToken, LoginFailure, User
from kernel.idempotency import IdempotencyRecord

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "CatalogueUpload",
    "IdempotencyRecord",
    "Item",
    "ItemPackaging",
    "Location",
    "LoginFailure",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "StockLevel",
    "StockLot",
    "StockMovement",
    "Supplier",
    "SupplierOrderFormat",
    "User",
]
