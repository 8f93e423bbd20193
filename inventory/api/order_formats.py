"""`/api/v1/suppliers/{id}/order-format`: the layout of a supplier's bulk-order upload
file (the rules are `inventory.order_formats`'); the file itself is
`GET /api/v1/reorder/suggestions.csv?supplier_id=&format=supplier`."""

from __future__ import annotations

from litestar import Controller, delete, get, put
from sqlalchemy.orm import Session

from inventory import order_formats
from inventory.api.params import SupplierId
from inventory.roles import can_keep_catalogue, can_read
from inventory.schemas.purchasing import OrderFormatIn, OrderFormatOut
from kernel.auth.service import CurrentUser

FIELDS_TEXT = "; ".join(f"`{name}`: {text}" for name, text in order_formats.ORDER_FIELDS.items())


class OrderFormatController(Controller):
    path = "/api/v1/suppliers/{supplier_id:int}/order-format"
    tags = ["purchasing"]

    @put(
        "/",
        guards=[can_keep_catalogue],
        sync_to_thread=True,
        summary="Set the supplier's order file layout",
        description=(
            "`{columns: [{header, field}], quantity_in: units|packs, delimiter?, header_row?}`"
            " with each `field` one of: " + FIELDS_TEXT + ". The file needs a column naming "
            "the item and one with the quantity. 409 when the supplier supplies no active item."
        ),
    )
    def set_order_format(
        self, supplier_id: SupplierId, data: OrderFormatIn, db_session: Session, me: CurrentUser
    ) -> OrderFormatOut:
        return order_formats.set_order_format(
            db_session, actor=me.username, supplier_id=supplier_id, data=data
        )

    @get("/", guards=[can_read], sync_to_thread=True,
         summary="The supplier's order file layout (404 when it has none)")  # fmt: skip
    def get_order_format(self, supplier_id: SupplierId, db_session: Session) -> OrderFormatOut:
        return order_formats.get_order_format(db_session, supplier_id)

    @delete("/", guards=[can_keep_catalogue], sync_to_thread=True,
            summary="Remove the layout (the standard reorder CSV applies again)")  # fmt: skip
    def delete_order_format(
        self, supplier_id: SupplierId, db_session: Session, me: CurrentUser
    ) -> None:
        order_formats.remove_order_format(db_session, actor=me.username, supplier_id=supplier_id)
