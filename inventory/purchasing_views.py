"""HTTP handlers for reorder suggestions, the weekly CSV, the par review and purchase orders.

Roles (admin may do everything): purchasing writes purchase orders; ma, purchasing and
auditor read suggestions, the par review and orders.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy.orm import Session

from inventory import purchasing, reorder
from inventory.catalogue import get_supplier
from inventory.purchasing_schemas import (
    CancelIn,
    FromSuggestions,
    FromSuggestionsOut,
    ParReviewRow,
    PoStatus,
    PurchaseOrderCreate,
    PurchaseOrderOut,
    PurchaseOrderSummary,
    ReceiptOut,
    ReceiveIn,
    SuggestionRow,
)
from kernel import idempotency
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.fields import MAX_ID, RowId
from kernel.idempotency import IdempotencyKeyHeader
from kernel.pagination import Page, PageParams, provide_page_params

can_read = requires_role(Role.MA, Role.PURCHASING, Role.AUDITOR)
can_purchase = requires_role(Role.PURCHASING)

PAGED = {"page": Provide(provide_page_params, sync_to_thread=False)}
SupplierFilter = Annotated[
    int | None, Parameter(ge=1, le=MAX_ID, description="Only this supplier's items")
]


def clinic_today(state: State) -> dt.date:
    return dt.datetime.now(state.settings.tz).date()


def _check_supplier(session: Session, supplier_id: int | None) -> None:
    if supplier_id is not None:
        get_supplier(session, supplier_id)  # 404 for an unknown supplier, not an empty list


def reorder_csv_response(
    session: Session, state: State, supplier_id: int | None, *, parallel: bool = True
) -> Response[bytes]:
    """The reorder CSV download; the API and the purchasing page both answer with it."""
    _check_supplier(session, supplier_id)
    today = clinic_today(state)
    df = reorder.suggestions(
        session, today=today, tz=state.settings.tz, supplier_id=supplier_id, parallel=parallel
    )
    filename = reorder.csv_filename(today, supplier_id)
    return Response(
        content=reorder.to_csv(df).encode(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


class ReorderController(Controller):
    path = "/api/v1/reorder"
    tags = ["reorder"]

    @get(
        "/suggestions",
        guards=[can_read],
        sync_to_thread=True,
        dependencies=PAGED,
        summary="What to order now, per item across all locations",
        description=(
            "One row per item at or below its reorder point (on hand + on order), sorted by "
            "supplier then SKU, with the suggested quantity in whole packs and the reason."
        ),
    )
    def suggestions(
        self,
        db_session: Session,
        state: State,
        page: PageParams,
        supplier_id: SupplierFilter = None,
    ) -> Page[SuggestionRow]:
        _check_supplier(db_session, supplier_id)
        df = reorder.suggestions(
            db_session,
            today=clinic_today(state),
            tz=state.settings.tz,
            supplier_id=supplier_id,
            parallel=True,
        )
        window = df.iloc[page.offset : page.offset + page.limit]
        return Page(
            items=[SuggestionRow(**row) for row in reorder.records(window)],
            total=len(df),
            limit=page.limit,
            offset=page.offset,
        )

    @get(
        "/suggestions.csv",
        guards=[can_read],
        sync_to_thread=True,
        summary="The weekly reorder CSV (download)",
        description=(
            "Columns: supplier,vendor_sku,sku,name,unit,pack_size,on_hand,on_order,par,"
            "suggested_qty,order_packs,unit_cost,line_total, then the figures behind them."
        ),
        media_type="text/csv",
    )
    def suggestions_csv(
        self, db_session: Session, state: State, supplier_id: SupplierFilter = None
    ) -> Response[bytes]:
        return reorder_csv_response(db_session, state, supplier_id)

    @get(
        "/par-review",
        guards=[can_read],
        sync_to_thread=True,
        dependencies=PAGED,
        summary="Items whose usage suggests a par level more than 25% different",
    )
    def par_review(
        self,
        db_session: Session,
        state: State,
        page: PageParams,
        supplier_id: SupplierFilter = None,
    ) -> Page[ParReviewRow]:
        _check_supplier(db_session, supplier_id)
        df = reorder.par_review(
            db_session,
            today=clinic_today(state),
            tz=state.settings.tz,
            supplier_id=supplier_id,
            parallel=True,
        )
        window = df.iloc[page.offset : page.offset + page.limit]
        return Page(
            items=[ParReviewRow(**row) for row in reorder.records(window)],
            total=len(df),
            limit=page.limit,
            offset=page.offset,
        )


class PurchaseOrderController(Controller):
    path = "/api/v1/purchase-orders"
    tags = ["purchasing"]

    @post("/", guards=[can_purchase], sync_to_thread=True, status_code=201,
          summary="Create a draft purchase order")  # fmt: skip
    def create(
        self,
        data: PurchaseOrderCreate,
        db_session: Session,
        me: CurrentUser,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[PurchaseOrderOut]:
        return idempotency.respond(
            db_session, me=me, key=idempotency_key, scope="POST /api/v1/purchase-orders",
            payload=data, status_code=201,
            action=lambda: purchasing.po_out(
                db_session, purchasing.create_po(db_session, actor=me.username, data=data)
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
    def from_suggestions(
        self,
        db_session: Session,
        me: CurrentUser,
        state: State,
        data: FromSuggestions | None = None,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[FromSuggestionsOut]:
        body = data or FromSuggestions()
        return idempotency.respond(
            db_session, me=me, key=idempotency_key,
            scope="POST /api/v1/purchase-orders/from-suggestions", payload=body, status_code=201,
            action=lambda: purchasing.create_from_suggestions(
                db_session, actor=me.username, today=clinic_today(state), tz=state.settings.tz,
                supplier_id=body.supplier_id,
            ),
        )  # fmt: skip

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED,
         summary="Purchase orders, newest first")  # fmt: skip
    def list_pos(
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
        return Page(items=rows, total=total, limit=page.limit, offset=page.offset)

    @get("/{po_id:int}", guards=[can_read], sync_to_thread=True, summary="One purchase order")
    def get_one(self, po_id: RowId, db_session: Session) -> PurchaseOrderOut:
        return purchasing.po_out(db_session, purchasing.get_po(db_session, po_id))

    @post("/{po_id:int}/submit", guards=[can_purchase], sync_to_thread=True, status_code=200,
          summary="Submit a draft: its quantities now count as on order")  # fmt: skip
    def submit(
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
    def receive(
        self,
        po_id: RowId,
        data: ReceiveIn,
        db_session: Session,
        me: CurrentUser,
        state: State,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[ReceiptOut]:
        return idempotency.respond(
            db_session, me=me, key=idempotency_key,
            scope=f"POST /api/v1/purchase-orders/{po_id}/receive", payload=data, status_code=201,
            action=lambda: purchasing.receive(
                db_session, actor=me.username, po_id=po_id, data=data, today=clinic_today(state)
            ),
        )  # fmt: skip

    @post("/{po_id:int}/cancel", guards=[can_purchase], sync_to_thread=True, status_code=200,
          summary="Cancel an order (a reason is required once it was submitted)")  # fmt: skip
    def cancel(
        self, po_id: RowId, db_session: Session, me: CurrentUser, data: CancelIn | None = None
    ) -> PurchaseOrderOut:
        reason = data.reason if data else None
        return purchasing.po_out(
            db_session, purchasing.cancel(db_session, actor=me.username, po_id=po_id, reason=reason)
        )


route_handlers: list[Any] = [ReorderController, PurchaseOrderController]
