"""`/api/v1/purchase-orders`: drafts, submitting, receiving deliveries, cancelling
(the rules are `inventory.purchasing`'s)."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from sqlalchemy.orm import Session

from inventory import purchasing
from inventory.api.params import PAGED, SupplierFilter
from inventory.po_pdf import po_pdf_response
from inventory.roles import can_purchase, can_read
from inventory.schemas.purchasing import (
    CancelIn,
    FromSuggestions,
    FromSuggestionsOut,
    PoMailOut,
    PoStatus,
    PurchaseOrderCreate,
    PurchaseOrderOut,
    PurchaseOrderSummary,
    ReceiptOut,
    ReceiveIn,
)
from kernel import idempotency
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import RowId
from kernel.idempotency import IdempotencyKeyHeader
from kernel.pagination import Page, PageParams
from kernel.sites import SiteScope


class PurchaseOrderController(Controller):
    path = "/api/v1/purchase-orders"
    tags = ["purchasing"]

    @post("/", guards=[can_purchase], sync_to_thread=True, status_code=201,
          summary="Create a draft purchase order")  # fmt: skip
    def create_purchase_order(
        self,
        data: PurchaseOrderCreate,
        db_session: Session,
        me: CurrentUser,
        sites: SiteScope,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PurchaseOrderOut]:
        return idempotency.respond(
            db_session, me=me, key=idempotency_key, scope="POST /api/v1/purchase-orders",
            payload=data, status_code=201,
            action=lambda: purchasing.po_out(
                db_session,
                purchasing.create_po(
                    db_session, actor=me.username, data=data,
                    site_id=sites.site_for_write(data.site).id,
                ),
            ),
        )  # fmt: skip

    @post(
        "/from-suggestions",
        guards=[can_purchase],
        sync_to_thread=True,
        status_code=201,
        summary="One draft per supplier from the current reorder suggestions",
        description="Items already on an open draft (or without a supplier) are skipped.",
    )
    def create_purchase_orders_from_suggestions(
        self,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        sites: SiteScope,
        data: FromSuggestions | None = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FromSuggestionsOut]:
        body = data or FromSuggestions()
        return idempotency.respond(
            db_session, me=me, key=idempotency_key,
            scope="POST /api/v1/purchase-orders/from-suggestions", payload=body, status_code=201,
            action=lambda: purchasing.create_from_suggestions(
                db_session, actor=me.username, today=clock.today(), zone=clock.zone,
                supplier_id=body.supplier_id, site_id=sites.site_for_write(body.site).id,
            ),
        )  # fmt: skip

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED,
         summary="Purchase orders, newest first")  # fmt: skip
    def list_purchase_orders(
        self,
        db_session: Session,
        page: PageParams,
        status: PoStatus | None = None,
        supplier_id: SupplierFilter = None,
    ) -> Page[PurchaseOrderSummary]:
        rows, total = purchasing.list_pos(
            db_session, status=status, supplier_id=supplier_id, limit=page.limit,
            offset=page.offset,
        )  # fmt: skip
        return Page(rows, total, page.limit, page.offset)

    @get("/{po_id:int}", guards=[can_read], sync_to_thread=True, summary="One purchase order")
    def get_purchase_order(self, po_id: RowId, db_session: Session) -> PurchaseOrderOut:
        return purchasing.po_out(db_session, purchasing.get_po(db_session, po_id))

    @get(
        "/{po_id:int}/pdf",
        guards=[can_read],
        sync_to_thread=True,
        media_type="application/pdf",
        opt={"path_alias": "/api/v1/purchase-orders/{po_id}.pdf"},
        summary="The purchase order as a printable PDF (also at /purchase-orders/{po_id}.pdf)",
        description=(
            "Letterhead and ship-to from STERISTOCK_CLINIC_NAME / STERISTOCK_CLINIC_ADDRESS, "
            "the supplier and the clinic's account number there, one line per item with the "
            "vendor item number, the quantity in packs and units, costs and the total. A "
            "draft or cancelled order is marked across the page."
        ),
    )
    def get_purchase_order_pdf(
        self, po_id: RowId, db_session: Session, state: State, clock: Clock
    ) -> Response[bytes]:
        return po_pdf_response(db_session, state.settings, clock, po_id)

    @post(
        "/{po_id:int}/send",
        guards=[can_purchase],
        sync_to_thread=True,
        status_code=202,
        summary="E-mail the purchase order (PDF attached) to the supplier",
        description=(
            "Queues the e-mail in the notification outbox; the sender delivers it with its "
            "next run (within minutes), retrying with backoff. 409 when the order is not "
            "submitted, the supplier has no e-mail address or e-mail is not configured."
        ),
    )
    def send_purchase_order(
        self, po_id: RowId, db_session: Session, me: CurrentUser, state: State, clock: Clock
    ) -> PoMailOut:
        from inventory.po_mail import send_po

        mail = send_po(
            db_session, state.settings, po_id=po_id, actor=me.username, zone=clock.zone,
            now=clock.now(),
        )  # fmt: skip
        return PoMailOut(
            id=mail.id,  # type: ignore[arg-type]
            purchase_order_id=po_id,
            to=mail.to_address,
            subject=mail.subject,
            status=mail.status,
            queued_at=mail.created_at,
        )

    @post(
        "/{po_id:int}/submit",
        guards=[can_purchase],
        sync_to_thread=True,
        status_code=200,
        summary="Submit a draft: its quantities now count as on order",
    )
    def submit_purchase_order(
        self,
        po_id: RowId,
        db_session: Session,
        me: CurrentUser,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PurchaseOrderOut]:
        return idempotency.respond(
            db_session, me=me, key=idempotency_key,
            scope=f"POST /api/v1/purchase-orders/{po_id}/submit", payload=None, status_code=200,
            action=lambda: purchasing.po_out(
                db_session, purchasing.submit(db_session, actor=me.username, po_id=po_id)
            ),
        )  # fmt: skip

    @post(
        "/{po_id:int}/receive",
        guards=[can_purchase],
        sync_to_thread=True,
        status_code=201,
        summary="Receive a (partial) delivery into a location",
        description=(
            "Writes `receive` movements (lot and expiry required for lot-tracked items). "
            "Receiving more than is outstanding on a line → 409, nothing written."
        ),
    )
    def receive_purchase_order(
        self,
        po_id: RowId,
        data: ReceiveIn,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[ReceiptOut]:
        return idempotency.respond(
            db_session, me=me, key=idempotency_key,
            scope=f"POST /api/v1/purchase-orders/{po_id}/receive", payload=data, status_code=201,
            action=lambda: purchasing.receive(
                db_session, actor=me.username, po_id=po_id, data=data, today=clock.today(),
                now=clock.now(),
            ),
        )  # fmt: skip

    @post("/{po_id:int}/cancel", guards=[can_purchase], sync_to_thread=True,
          status_code=200,
          summary="Cancel an order (a reason is required once it was submitted)")  # fmt: skip
    def cancel_purchase_order(
        self, po_id: RowId, db_session: Session, me: CurrentUser, data: CancelIn | None = None
    ) -> PurchaseOrderOut:
        reason = data.reason if data else None
        return purchasing.po_out(
            db_session, purchasing.cancel(db_session, actor=me.username, po_id=po_id, reason=reason)
        )
