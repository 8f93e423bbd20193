"""`/api/v1/reorder`: what to order now, the weekly CSV and the par review."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import pandas as pd
from litestar import Controller, Response, get
from litestar.params import QueryParameter
from sqlalchemy.orm import Session

from inventory import lookups, order_formats, reorder
from inventory.api.downloads import csv_attachment
from inventory.api.params import PAGED, SupplierFilter
from inventory.roles import can_read
from inventory.schemas.purchasing import ParReviewRow, SuggestionRow
from kernel.clock import Clock
from kernel.pagination import Page, PageParams
from kernel.problems import InvalidInput
from kernel.sites import SiteScope
from kernel.sites.query_scope import narrow_session
from kernel.sites.schemas import SiteParam

T = TypeVar("T", bound=Any)


def frame_page(df: pd.DataFrame, row: type[T], page: PageParams) -> Page[T]:
    """One page of a figures frame as response rows, with the frame's length as the total."""
    window = df.iloc[page.offset : page.offset + page.limit]
    return Page([row(**r) for r in reorder.records(window)], len(df), page.limit, page.offset)


def check_supplier(session: Session, supplier_id: int | None) -> None:
    if supplier_id is not None:
        lookups.get_supplier(session, supplier_id)  # 404 for an unknown supplier, not []


def reorder_csv(
    session: Session,
    clock: Clock,
    supplier_id: int | None,
    *,
    file_format: str = "standard",
    parallel: bool = True,
) -> Response[bytes]:
    """The reorder CSV download, standard or in the supplier's order format; the API and
    the purchasing page both answer with it."""
    check_supplier(session, supplier_id)
    today = clock.today()
    if file_format == "supplier":
        if supplier_id is None:
            raise InvalidInput.for_field(
                "supplier_id",
                "format=supplier writes one supplier's order file: give supplier_id.",
                source="query",
            )
        order = order_formats.render_order_file(
            session, supplier_id=supplier_id, today=today, zone=clock.zone, parallel=parallel
        )
        return csv_attachment(order.text, order.filename)
    df = reorder.suggestions(
        session, today=today, zone=clock.zone, supplier_id=supplier_id, parallel=parallel
    )
    return csv_attachment(reorder.to_csv(df), reorder.csv_filename(today, supplier_id))


FileFormat = Annotated[
    Literal["standard", "supplier"],
    QueryParameter(
        name="format",
        description="`standard`: the reorder CSV; `supplier`: the supplier's order file "
        "(its own columns, units or packs, delimiter; needs `supplier_id`)",
    ),
]


class ReorderController(Controller):
    path = "/api/v1/reorder"
    tags = ["reorder"]

    @get(
        "/suggestions",
        guards=[can_read],
        sync_to_thread=True,
        dependencies=PAGED,
        summary="What to order now, per site and item across the site's locations",
        description=(
            "One row per site and item at or below its reorder point (on hand + on order), "
            "sorted by site, supplier then SKU, with the suggested quantity in whole packs "
            "and the reason. Your sites, or `site`."
        ),
    )
    def get_reorder_suggestions(
        self,
        db_session: Session,
        clock: Clock,
        page: PageParams,
        sites: SiteScope,
        supplier_id: SupplierFilter = None,
        site: SiteParam = None,
    ) -> Page[SuggestionRow]:
        narrow_session(db_session, sites, site)
        check_supplier(db_session, supplier_id)
        df = reorder.suggestions(
            db_session, today=clock.today(), zone=clock.zone, supplier_id=supplier_id,
            parallel=True,
        )  # fmt: skip
        return frame_page(df, SuggestionRow, page)

    @get(
        "/suggestions.csv",
        guards=[can_read],
        sync_to_thread=True,
        summary="The weekly reorder CSV (download)",
        description=(
            "Columns: supplier,vendor_sku,sku,name,unit,pack_size,on_hand,on_order,par,"
            "suggested_qty,order_packs,unit_cost,line_total, then the figures behind them "
            "(a file of several sites starts with a `site` column; `site` narrows to one). "
            "With `format=supplier&supplier_id=`, that supplier's order file instead."
        ),
        media_type="text/csv",
    )
    def download_reorder_csv(
        self,
        db_session: Session,
        clock: Clock,
        sites: SiteScope,
        supplier_id: SupplierFilter = None,
        file_format: FileFormat = "standard",
        site: SiteParam = None,
    ) -> Response[bytes]:
        narrow_session(db_session, sites, site)
        return reorder_csv(db_session, clock, supplier_id, file_format=file_format)

    @get(
        "/par-review",
        guards=[can_read],
        sync_to_thread=True,
        dependencies=PAGED,
        summary="Items whose usage suggests a par level more than 25% different",
    )
    def get_par_review(
        self,
        db_session: Session,
        clock: Clock,
        page: PageParams,
        sites: SiteScope,
        supplier_id: SupplierFilter = None,
        site: SiteParam = None,
    ) -> Page[ParReviewRow]:
        narrow_session(db_session, sites, site)
        check_supplier(db_session, supplier_id)
        df = reorder.par_review(
            db_session, today=clock.today(), zone=clock.zone, supplier_id=supplier_id,
            parallel=True,
        )  # fmt: skip
        return frame_page(df, ParReviewRow, page)
