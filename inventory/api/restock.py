"""`/api/v1/stock/restock`: the daily restock round (the list, and the round recorded)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import Parameter
from sqlalchemy.orm import Session

from inventory import lookups, restock
from inventory.api.movements import committed
from inventory.api.params import CODE_PATTERN
from inventory.roles import can_read, can_restock
from inventory.schemas.stock import RestockList, RestockRound, RestockRoundOut
from kernel import idempotency
from kernel.auth.service import CurrentUser
from kernel.clock import Clock
from kernel.idempotency import IdempotencyKeyHeader


class RestockController(Controller):
    path = "/api/v1/stock/restock"
    tags = ["inventory"]

    @get(
        "/",
        guards=[can_read],
        sync_to_thread=True,
        summary="The daily restock round: what to bring from the supply room",
    )
    def get_restock_list(
        self,
        db_session: Session,
        clock: Clock,
        from_location: Annotated[str, Parameter(pattern=CODE_PATTERN)] = "SUPPLY",
    ) -> RestockList:
        source = lookups.get_location(db_session, from_location)
        return RestockList(
            from_location=source.code,
            items=restock.restock_list(db_session, from_location=source.code, today=clock.today()),
        )

    @post(
        "/",
        guards=[can_restock],
        sync_to_thread=True,
        status_code=201,
        summary="Record a restock round as transfers (all lines or none)",
    )
    def record_restock_round(
        self,
        data: RestockRound,
        db_session: Session,
        me: CurrentUser,
        clock: Clock,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[RestockRoundOut]:
        def run() -> RestockRoundOut:
            reference, movements = restock.record_restock_round(
                db_session,
                actor=me.username,
                from_location=data.from_location,
                lines=data.lines,
                today=clock.today(),
                now=clock.now(),
            )
            return RestockRoundOut(
                from_location=lookups.normalize_code(data.from_location),
                reference=reference,
                movements=movements,
            )

        response = idempotency.respond(
            db_session,
            me=me,
            key=idempotency_key,
            scope="POST /api/v1/stock/restock",
            payload=data,
            status_code=201,
            action=run,
        )
        return committed(db_session, response)
