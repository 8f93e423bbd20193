"""`/api/v1/stock/movements` and `/api/v1/stock/receive-barcode`: the ledger, and the one
way stock changes (a stock action, `inventory.ledger.record_movement`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.openapi.spec import Discriminator, Operation, RequestBody, Schema
from litestar.params import Parameter
from litestar.types import Scope
from sqlalchemy.orm import Session

from inventory import ledger, stock_queries
from inventory.api.params import PAGED, CodeQuery, SkuQuery
from inventory.lookups import normalize_code, normalize_sku
from inventory.receiving import receive_scanned
from inventory.roles import (
    can_move_stock,
    can_read,
    check_kind_allowed,
    check_may_book_on_orders,
)
from inventory.schemas.stock import (
    MOVEMENT_ACTIONS,
    BarcodeReceive,
    MovementIn,
    MovementOut,
    MovementRow,
)
from kernel import idempotency
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import PRINTABLE, RowId
from kernel.idempotency import IdempotencyKeyHeader
from kernel.pagination import Page, PageParams
from kernel.write_batches import WriteBatcher


def record_once(
    db_session: Session,
    me: CurrentUser,
    key: str | None,
    *,
    scope: str,
    payload: Any,
    action: Callable[[], Any],
) -> Response[MovementOut]:
    """One stock action (`action`, through the ledger), once per `Idempotency-Key`; the
    response is encoded inside the write, so nothing can fail after its commit."""
    return idempotency.respond(
        db_session, me=me, key=key, scope=scope, payload=payload, status_code=201, action=action
    )


def lock_order(sku: str, location: str) -> tuple[str, str]:
    """The level row a stock action locks first, as the batch's sort key
    (`kernel.write_batches`): batches written at once lock rows in one order."""
    return normalize_sku(sku), normalize_code(location)


def committed(db_session: Session, response: Response[Any]) -> Response[Any]:
    """Commit a stock write in the handler's own thread instead of after the response is
    built: on SQLite the write lock is then held only while the database work runs (the
    benchmark showed it otherwise waiting ~1.5 ms per request for the event loop). The
    response is already fully encoded, so nothing can fail after the commit."""
    db_session.commit()
    return response


ACTIONS_DESCRIPTION = "\n".join(
    f"- `{kind}` ({action.__name__}): {' '.join(inspect.cleandoc(action.__doc__ or '').split())}"
    for kind, action in MOVEMENT_ACTIONS.items()
)


@dataclass
class StockActionOperation(Operation):
    """The request body's union with `kind` as its discriminator, so clients and Swagger UI
    pick the action's schema by it."""

    def __post_init__(self) -> None:
        if not isinstance(self.request_body, RequestBody):
            return
        for media in self.request_body.content.values():
            if isinstance(media.schema, Schema) and media.schema.one_of:
                media.schema.discriminator = Discriminator(
                    property_name="kind",
                    mapping={
                        kind: f"#/components/schemas/{action.__name__}"
                        for kind, action in MOVEMENT_ACTIONS.items()
                    },
                )


class MovementController(Controller):
    path = "/api/v1/stock"
    tags = ["inventory"]

    @get(
        "/movements",
        guards=[can_read],
        sync_to_thread=True,
        dependencies=PAGED,
        summary="The ledger, newest first",
    )
    def list_movements(
        self,
        db_session: Session,
        page: PageParams,
        sku: SkuQuery = None,
        location: CodeQuery = None,
        reference: Annotated[str | None, Parameter(max_length=64, pattern=PRINTABLE)] = None,
    ) -> Page[MovementRow]:
        rows, total = stock_queries.list_movements(
            db_session, sku=sku, location=location, reference=reference,
            limit=page.limit, offset=page.offset,
        )  # fmt: skip
        return Page(rows, total, page.limit, page.offset)

    @post(
        "/movements",
        guards=[can_move_stock],
        status_code=201,
        summary="Record a stock movement (receive, consume, transfer, count, adjust, discard)",
        description=(
            "One of six actions, chosen by `kind`. Stock never goes negative (409 with the "
            "on-hand figure). `consume` without a lot takes the earliest-expiring unexpired "
            "lot first. Send an `Idempotency-Key` header to make retries safe.\n\n"
            + ACTIONS_DESCRIPTION
        ),
        operation_class=StockActionOperation,
    )
    async def record_movement(
        self,
        data: MovementIn,
        me: CurrentUser,
        clock: Clock,
        write_batcher: WriteBatcher,
        scope: Scope,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[MovementOut]:
        check_kind_allowed(me, data.kind)

        def write(db_session: Session) -> Response[MovementOut]:
            return record_once(
                db_session, me, idempotency_key, scope="POST /api/v1/stock/movements",
                payload=data,
                action=lambda: ledger.record_movement(
                    db_session, actor=me.username, data=data, today=clock.today(),
                    now=clock.now(), zone=clock.zone,
                ),
            )  # fmt: skip

        return await write_batcher.run(write, scope, lock_order=lock_order(data.sku, data.location))

    @get(
        "/movements/{movement_id:int}",
        guards=[can_read],
        sync_to_thread=True,
        summary="One ledger row",
    )
    def get_movement(self, movement_id: RowId, db_session: Session) -> MovementRow:
        return stock_queries.get_movement(db_session, movement_id)

    @post(
        "/receive-barcode",
        guards=[can_move_stock],
        status_code=201,
        summary="Receive stock by scanning its GS1 barcode (GTIN, lot, expiry)",
        description=(
            "`quantity` counts packages of the level the GTIN names: the item's own GTIN is "
            "one unit, a packaging level's GTIN (`/items/{sku}/packagings`) that many units; "
            "the movement records units and the packaging. With `purchase_order_id` the "
            "receipt is booked on that submitted order (its outstanding quantity shrinks)."
        ),
    )
    async def receive_by_barcode(
        self,
        data: BarcodeReceive,
        me: CurrentUser,
        clock: Clock,
        write_batcher: WriteBatcher,
        scope: Scope,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[MovementOut]:
        if data.purchase_order_id is not None:
            check_may_book_on_orders(me)

        def write(db_session: Session) -> Response[MovementOut]:
            return record_once(
                db_session, me, idempotency_key, scope="POST /api/v1/stock/receive-barcode",
                payload=data,
                action=lambda: receive_scanned(
                    db_session, actor=me.username, data=data, today=clock.today(),
                    now=clock.now(), zone=clock.zone,
                ),
            )  # fmt: skip

        return await write_batcher.run(write, scope)
