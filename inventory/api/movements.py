"""`/api/v1/stock/movements` and `/api/v1/stock/receive-barcode`: the ledger, and the one
way stock changes (a stock action, `inventory.ledger.record_movement`)."""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.openapi.spec import Discriminator, Operation, RequestBody, Schema
from litestar.params import Parameter
from sqlalchemy.orm import Session

from inventory import ledger, lookups, stock_queries
from inventory.api.params import PAGED, CodeQuery, SkuQuery
from inventory.gs1 import parse_supply_barcode
from inventory.roles import can_move_stock, can_read, check_kind_allowed
from inventory.schemas.stock import (
    MOVEMENT_ACTIONS,
    BarcodeReceive,
    MovementIn,
    MovementOut,
    MovementRow,
    ReceiveStock,
)
from kernel import idempotency
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.fields import PRINTABLE
from kernel.idempotency import IdempotencyKeyHeader
from kernel.pagination import Page, PageParams
from kernel.problems import InvalidInput


def record_once(
    db_session: Session,
    me: CurrentUser,
    key: str | None,
    *,
    scope: str,
    payload: Any,
    movement: MovementIn,
    today: dt.date,
) -> Response[MovementOut]:
    """One stock action through the ledger, once per `Idempotency-Key`, committed."""
    response = idempotency.respond(
        db_session, me=me, key=key, scope=scope, payload=payload, status_code=201,
        action=lambda: ledger.record_movement(
            db_session, actor=me.username, data=movement, today=today
        ),
    )  # fmt: skip
    return committed(db_session, response)


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
        sync_to_thread=True,
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
    def record_movement(
        self,
        data: MovementIn,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[MovementOut]:
        check_kind_allowed(me, data.kind)
        return record_once(
            db_session, me, idempotency_key, scope="POST /api/v1/stock/movements",
            payload=data, movement=data, today=clock.today(),
        )  # fmt: skip

    @post(
        "/receive-barcode",
        guards=[can_move_stock],
        sync_to_thread=True,
        status_code=201,
        summary="Receive stock by scanning its GS1 barcode (GTIN, lot, expiry)",
    )
    def receive_by_barcode(
        self,
        data: BarcodeReceive,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[MovementOut]:
        scanned = parse_supply_barcode(data.barcode)
        item = lookups.find_item_by_gtin(db_session, scanned.gtin)
        if item is None:
            raise InvalidInput(
                f"No item has GTIN {scanned.gtin}; add the GTIN to the item first.",
                extra={
                    "gtin": scanned.gtin,
                    "errors": [{"field": "barcode", "message": "unknown GTIN", "source": "body"}],
                },
            )
        movement = ReceiveStock(
            sku=item.sku,
            location=data.location,
            quantity=data.quantity,
            lot=scanned.lot,
            expires_on=scanned.expires_on,
        )
        return record_once(
            db_session, me, idempotency_key, scope="POST /api/v1/stock/receive-barcode",
            payload=data, movement=movement, today=clock.today(),
        )  # fmt: skip
