"""Who may do what in inventory (SPEC section 3; admin may do everything):

- read the catalogue, stock, expiring lots, restock lists, reorder figures and orders:
  ma, purchasing, auditor;
- keep the catalogue (suppliers, locations, items, par levels), purchase orders and the
  import: purchasing;
- move stock: ma (every kind, restock rounds); purchasing only receives deliveries.
"""

from __future__ import annotations

from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.problems import PermissionDenied

READERS = frozenset({Role.MA, Role.PURCHASING, Role.AUDITOR})

can_read = requires_role(*READERS)
can_keep_catalogue = requires_role(Role.PURCHASING)
can_purchase = can_keep_catalogue  # orders, receiving deliveries, the import: the same role
can_move_stock = requires_role(Role.MA, Role.PURCHASING)
can_restock = requires_role(Role.MA)


def keeps_catalogue(me: CurrentUser) -> bool:
    """The pages' test for showing the edit controls (what `can_keep_catalogue` allows)."""
    return me.role in (Role.PURCHASING, Role.ADMIN)


def check_kind_allowed(me: CurrentUser, kind: str) -> None:
    """Purchasing receives deliveries; taking, moving and counting stock is the MAs' job."""
    if me.role == Role.PURCHASING and kind != "receive":
        raise PermissionDenied(
            f"Your role (purchasing) may receive stock but not {kind} it; "
            "that needs one of: admin, ma."
        )


def check_may_book_on_orders(me: CurrentUser) -> None:
    """Booking a receipt on a purchase order is purchasing's (as its receive endpoint)."""
    if not keeps_catalogue(me):
        raise PermissionDenied(
            f"Your role ({me.role}) may receive stock but not book it on a purchase order; "
            "that needs one of: admin, purchasing.",
            field="purchase_order_id",
        )
