"""`/api/v1/stock` and `/api/v1/stock/expiring`: what is on hand, and what expires."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.orm import Session

from inventory import stock_queries
from inventory.api.params import PAGED, CodeQuery, SkuQuery
from inventory.roles import can_read
from inventory.schemas.stock import ExpiringRow, StockRow
from kernel.clock import Clock
from kernel.pagination import Page, PageParams
from kernel.reads import Reader, run_read


class StockController(Controller):
    path = "/api/v1/stock"
    tags = ["inventory"]

    @get("/", guards=[can_read], dependencies=PAGED, summary="Stock levels")
    async def list_stock(
        self,
        reader: Reader,
        page: PageParams,
        location: CodeQuery = None,
        sku: SkuQuery = None,
        below_reorder: Annotated[
            bool, Parameter(description="Only rows at or below their reorder point")
        ] = False,
    ) -> Page[StockRow]:
        rows, total = await run_read(
            reader,
            stock_queries.find_stock,
            reader,
            location=location,
            sku=sku,
            below_reorder=below_reorder,
            limit=page.limit,
            offset=page.offset,
        )
        return Page(rows, total, page.limit, page.offset)

    @get(
        "/expiring",
        guards=[can_read],
        sync_to_thread=True,
        dependencies=PAGED,
        summary="Lots on hand expiring within N days (expired ones included)",
    )
    def list_expiring_lots(
        self,
        db_session: Session,
        page: PageParams,
        clock: Clock,
        within_days: Annotated[int, Parameter(ge=0, le=3650)] = 30,
        location: CodeQuery = None,
    ) -> Page[ExpiringRow]:
        rows, total = stock_queries.expiring_rows(
            db_session,
            today=clock.today(),
            within_days=within_days,
            location=location,
            limit=page.limit,
            offset=page.offset,
        )
        return Page(rows, total, page.limit, page.offset)
