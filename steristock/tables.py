"""Imports every table module so SQLModel.metadata knows the whole schema (Alembic, tests)."""

import equipment.models  # noqa: F401  (equipment, maintenance and HLD tables)
import sterilization.models
import sterilization.sets.models  # noqa: F401  (instrument sets, count sheets)
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
from kernel.audit.seal_models import RecordChange, RecordSeal, RecordSealHead
from kernel.auth.models import ApiToken, AuthGeneration, LoginFailure, User, UserCompetency
from kernel.idempotency import IdempotencyRecord
from kernel.notifications.models import (
    DeliveryAttempt,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    OutboundMail,
    SenderLease,
    Webhook,
)
from kernel.sites.models import Site, UserSite

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "AuthGeneration",
    "CatalogueUpload",
    "DeliveryAttempt",
    "IdempotencyRecord",
    "Item",
    "ItemPackaging",
    "Location",
    "LoginFailure",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "OutboundMail",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "RecordChange",
    "RecordSeal",
    "RecordSealHead",
    "SenderLease",
    "Site",
    "StockLevel",
    "StockLot",
    "StockMovement",
    "Supplier",
    "SupplierOrderFormat",
    "User",
    "UserCompetency",
    "UserSite",
    "Webhook",
]
