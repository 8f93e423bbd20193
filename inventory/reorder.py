"""Reorder suggestions and the par review, computed with pandas from a few set-based queries.

Per item, across all locations (spec sections 3 and 13, "Reorder and purchasing"):

- ``on_hand``: usable units, summed over locations: lots past their expiry date are left
  out and shown as ``expired_on_hand`` (they are thrown away, not used, so counting them
  would under-order exactly the items being discarded); ``on_order``: unreceived units on
  submitted and partially received purchase orders; ``par``: sum of par levels;
  ``reorder_point``: sum of reorder points; ``position = on_hand + on_order``.
- The item needs ordering when ``position <= reorder_point`` (and ``par > position``, so
  there is something to order). Then ``need = par - position``,
  ``order_packs = ceil(need / pack_size)`` raised so ``order_packs * pack_size >=
  min_order_qty``, ``suggested_qty = order_packs * pack_size``,
  ``line_total = suggested_qty * unit_cost``.
- Usage: ``units_used`` = the units that left the shelf as use on the 56 complete clinic
  days before today (the ledger rows' ``used``: consumption, plus shortfalls a count found
  in usable stock; see `inventory.ledger`), placed on the day they happened;
  ``avg_daily_usage = units_used / 56``; ``days_of_cover = on_hand / avg_daily_usage``
  (null without usage); ``usage_par = ceil(avg_daily_usage * (lead_time_days + 7) * 1.2)``,
  with the lead time of the item, else its supplier's, else 7 days.

Every quantity is an integer and money is kept in exact ten-thousandths (how `Money`
stores it), so no figure carries binary float noise; ``usage_par`` is computed with
integer arithmetic (``ceil(consumed * (lead + 7) * 12 / 560)``), not floats.

Inactive items and items without any par level never appear. An item whose supplier is
missing appears under an empty supplier with ``supplier_missing`` true.

The whole computation is five aggregate queries (items, levels, expired lots, on order,
usage) into DataFrames, whatever the number of items: no per-item queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, case, func, select, type_coerce
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from inventory.catalogue import DEFAULT_LEAD_TIME_DAYS
from inventory.models import (
    OPEN_ON_ORDER,
    Item,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    StockLot,
    StockMovement,
    Supplier,
)
from kernel.clock import ClinicTime
from kernel.csv_export import frame_csv
from kernel.sites.codes import site_codes
from kernel.sites.query_scope import visible_site_ids

USAGE_WINDOW_DAYS = 56  # 8 weeks

PAR_REVIEW_TOLERANCE = 0.25  # usage_par differing from par by more than this fraction

CSV_COLUMNS = [
    "supplier", "vendor_sku", "sku", "name", "unit", "pack_size", "on_hand", "on_order",
    "par", "suggested_qty", "order_packs", "unit_cost", "line_total",
]  # fmt: skip
EXTRA_COLUMNS = [
    "supplier_id", "supplier_missing", "reorder_point", "position", "need", "min_order_qty",
    "lead_time_days", "expired_on_hand", "units_used", "avg_daily_usage", "days_of_cover",
    "usage_par", "gtin", "pack_cost", "reason", "site",
]  # fmt: skip
SUGGESTION_COLUMNS = CSV_COLUMNS + EXTRA_COLUMNS
PAR_REVIEW_COLUMNS = [
    "supplier", "supplier_id", "sku", "name", "unit", "par", "usage_par", "change",
    "change_pct", "units_used", "avg_daily_usage", "lead_time_days", "on_hand",
    "expired_on_hand", "reason", "site",
]  # fmt: skip

_USAGE_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reorder-usage")

_items = Item.__table__  # type: ignore[attr-defined]
_suppliers = Supplier.__table__  # type: ignore[attr-defined]
_levels = StockLevel.__table__  # type: ignore[attr-defined]
_lots = StockLot.__table__  # type: ignore[attr-defined]
_movements = StockMovement.__table__  # type: ignore[attr-defined]
_po = PurchaseOrder.__table__  # type: ignore[attr-defined]
_lines = PurchaseOrderLine.__table__  # type: ignore[attr-defined]
_locations = Location.__table__  # type: ignore[attr-defined]


def usage_window(today: dt.date, zone: ClinicTime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the 56 complete clinic days before `today` (`zone`'s days)."""
    return zone.days_bounds(
        today - dt.timedelta(days=USAGE_WINDOW_DAYS), today - dt.timedelta(days=1)
    )


def _frame(connection: Connection, statement: Any, columns: list[str]) -> pd.DataFrame:
    """A query's rows as a DataFrame, built column-wise (from_records over 20,000 Row
    objects costs several times the query itself)."""
    rows = connection.execute(statement).all()
    if not rows:
        return pd.DataFrame({name: [] for name in columns})
    return pd.DataFrame(dict(zip(columns, zip(*rows, strict=True), strict=True)))


def _usage_frame(engine: Engine, statement: Any, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as connection:
        return _frame(connection, statement, columns)


def usage_query(start: dt.datetime, end: dt.datetime, site_ids: Sequence[int] | None = None) -> Any:
    """Units used per site and item in [start, end): the ledger's `used`, by when it
    happened (the partial index `ix_stock_movements_usage`, joined to the movements'
    locations for their site)."""
    statement = (
        select(_locations.c.site_id, _movements.c.item_id, func.sum(_movements.c.used))
        .select_from(_movements.join(_locations, _locations.c.id == _movements.c.location_id))
        .where(_movements.c.used > 0, _movements.c.at >= start, _movements.c.at < end)
        .group_by(_locations.c.site_id, _movements.c.item_id)
    )
    if site_ids is not None:
        statement = statement.where(_locations.c.site_id.in_(site_ids))
    return statement


def _load(
    session: Session,
    *,
    today: dt.date,
    zone: ClinicTime,
    supplier_id: int | None,
    parallel: bool,
    site_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One row per site and active item with a par level there: the raw figures, before
    any formula. The sites are `site_ids`, else the session user's (kernel.sites: this is
    table-level SQL, which the query scope does not see).

    With `parallel`, the usage query (the expensive one: millions of movements) runs on a
    second connection while this one reads the rest. The usage is an 8-week statistic of
    complete past days, which only a movement recorded after the fact (at most 7 days
    back) can still change, so reading it a moment apart from the stock is harmless;
    on-hand, expired stock and on-order, which a receipt changes together, are read in
    the same transaction. Only for read-only sessions (a writer's second connection would
    wait for its lock).
    """
    if site_ids is None:
        site_ids = visible_site_ids(session)
    start, end = usage_window(today, zone)
    usage_q = usage_query(start, end, site_ids)
    usage_columns = ["site_id", "item_id", "consumed"]
    connection = session.connection()
    if not parallel:
        df = _load_current(connection, today=today, supplier_id=supplier_id, site_ids=site_ids)
        usage = _frame(connection, usage_q, usage_columns)
    else:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        future = _USAGE_POOL.submit(_usage_frame, engine, usage_q, usage_columns)
        try:
            df = _load_current(connection, today=today, supplier_id=supplier_id, site_ids=site_ids)
        finally:
            usage = future.result()  # never leave the other connection running
    if df.empty:
        return df
    df = df.merge(usage, on=["site_id", "item_id"], how="left")
    codes = site_codes(session)
    df["site"] = df["site_id"].map(codes)
    return df


def _load_current(
    connection: Connection,
    *,
    today: dt.date,
    supplier_id: int | None,
    site_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Items, their summed levels, their expired lots and what is on order, from one
    transaction."""
    item_q = (
        select(
            _items.c.id, _items.c.sku, _items.c.name, _items.c.unit, _items.c.pack_size,
            _items.c.supplier_id, _items.c.vendor_sku,
            type_coerce(_items.c.unit_cost, BigInteger),  # exact ten-thousandths
            _items.c.lead_time_days, _items.c.min_order_qty, _suppliers.c.name,
            _suppliers.c.lead_time_days, _items.c.gtin,
        )
        .select_from(_items.outerjoin(_suppliers, _suppliers.c.id == _items.c.supplier_id))
        .where(_items.c.active.is_(True))
    )  # fmt: skip
    if supplier_id is not None:
        item_q = item_q.where(_items.c.supplier_id == supplier_id)
    items = _frame(
        connection,
        item_q,
        ["item_id", "sku", "name", "unit", "pack_size", "supplier_id", "vendor_sku",
         "unit_cost_e4", "item_lead", "min_order_qty", "supplier", "supplier_lead", "gtin"],
    )  # fmt: skip
    if items.empty:
        return items
    has_par = _levels.c.par_level.is_not(None)
    default_point = (_levels.c.par_level + 1) / 2  # what catalogue.set_par_level defaults to
    at_site = _locations.c.site_id
    level_q = (
        select(
            at_site,
            _levels.c.item_id,
            func.sum(_levels.c.on_hand),
            func.sum(_levels.c.par_level),
            func.sum(
                case(
                    (has_par, func.coalesce(_levels.c.reorder_point, default_point)),
                    else_=0,
                )
            ),
            func.count(_levels.c.par_level),
        )
        .select_from(_levels.join(_locations, _locations.c.id == _levels.c.location_id))
        .group_by(at_site, _levels.c.item_id)
    )  # fmt: skip
    on_order_q = (
        select(
            _po.c.site_id,
            _lines.c.item_id,
            func.sum(_lines.c.quantity - _lines.c.received_quantity),
        )
        .select_from(_lines.join(_po, _po.c.id == _lines.c.purchase_order_id))
        .where(_po.c.status.in_(OPEN_ON_ORDER))
        .group_by(_po.c.site_id, _lines.c.item_id)
    )
    # A lot is usable through its expiry date (`inventory.ledger.is_expired`).
    expired_q = (
        select(at_site, _lots.c.item_id, func.sum(_lots.c.quantity))
        .select_from(_lots.join(_locations, _locations.c.id == _lots.c.location_id))
        .where(_lots.c.expires_on < today, _lots.c.quantity > 0)
        .group_by(at_site, _lots.c.item_id)
    )
    if site_ids is not None:
        level_q = level_q.where(at_site.in_(site_ids))
        on_order_q = on_order_q.where(_po.c.site_id.in_(site_ids))
        expired_q = expired_q.where(at_site.in_(site_ids))
    levels = _frame(
        connection,
        level_q,
        ["site_id", "item_id", "on_hand", "par", "reorder_point", "par_count"],
    )
    on_order = _frame(connection, on_order_q, ["site_id", "item_id", "on_order"])
    expired = _frame(connection, expired_q, ["site_id", "item_id", "expired_on_hand"])
    df = items.merge(levels, on="item_id", how="inner")
    df = df[df["par_count"] > 0]
    keys = ["site_id", "item_id"]
    return df.merge(on_order, on=keys, how="left").merge(expired, on=keys, how="left")


def _ceil_div(a: pd.Series, b: pd.Series | int) -> pd.Series:
    """Exact integer ceil(a / b) for a >= 0, b > 0."""
    return -((-a) // b)


def _money(e4: pd.Series, *, cents: bool) -> pd.Series:
    """Ten-thousandths as decimal strings: cents (half up) or 2 to 4 places as needed."""
    e4 = e4.astype("int64")
    if cents:
        c = (e4 + 50) // 100
        return (c // 100).astype(str) + "." + (c % 100).astype(str).str.zfill(2)
    frac = (e4 % 10_000).astype(str).str.zfill(4).str.rstrip("0").str.pad(2, "right", "0")
    return (e4 // 10_000).astype(str) + "." + frac


def compute(
    session: Session,
    *,
    today: dt.date,
    zone: ClinicTime,
    supplier_id: int | None = None,
    parallel: bool = False,
    site_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Every figure for every site and active item with a par level there (ordering or
    not): each site orders for its own locations.

    `parallel=True` only for read-only sessions (see `_load`)."""
    df = _load(
        session, today=today, zone=zone, supplier_id=supplier_id, parallel=parallel,
        site_ids=site_ids,
    )  # fmt: skip
    if df.empty:
        empty = pd.DataFrame(columns=[*SUGGESTION_COLUMNS, "consumed", "item_id", "site_id"])
        empty["to_order"] = pd.Series(dtype=bool)
        return empty
    ints = ["pack_size", "min_order_qty", "on_hand", "par", "reorder_point", "unit_cost_e4"]
    for col in ints:
        df[col] = df[col].astype("int64")
    df["expired_on_hand"] = df["expired_on_hand"].fillna(0).astype("int64")
    df["on_hand"] = df["on_hand"] - df["expired_on_hand"]  # usable stock only
    df["on_order"] = df["on_order"].fillna(0).astype("int64")
    df["gtin"] = df["gtin"].fillna("")
    df["consumed"] = df["consumed"].fillna(0).astype("int64")
    df["supplier_missing"] = df["supplier"].isna()
    df["supplier"] = df["supplier"].fillna("")
    df["supplier_id"] = df["supplier_id"].astype("Int64")
    df["vendor_sku"] = df["vendor_sku"].fillna("")
    df["lead_time_days"] = (
        df["item_lead"].fillna(df["supplier_lead"]).fillna(DEFAULT_LEAD_TIME_DAYS).astype("int64")
    )

    df["position"] = df["on_hand"] + df["on_order"]
    df["need"] = (df["par"] - df["position"]).clip(lower=0)
    df["to_order"] = (df["position"] <= df["reorder_point"]) & (df["need"] > 0)
    packs = _ceil_div(df["need"], df["pack_size"])
    min_packs = _ceil_div(df["min_order_qty"], df["pack_size"])
    raised = df["to_order"] & (min_packs > packs)
    df["order_packs"] = np.where(df["to_order"], np.maximum(packs, min_packs), 0).astype("int64")
    df["suggested_qty"] = df["order_packs"] * df["pack_size"]
    line_total_e4 = df["suggested_qty"] * df["unit_cost_e4"]

    consumed = df["consumed"]
    df["units_used"] = consumed
    df["avg_daily_usage"] = (consumed / USAGE_WINDOW_DAYS).round(3)
    df["days_of_cover"] = (df["on_hand"] * USAGE_WINDOW_DAYS / consumed.where(consumed > 0)).round(
        1
    )
    df["usage_par"] = _ceil_div(consumed * (df["lead_time_days"] + 7) * 12, 560)

    df["unit_cost"] = _money(df["unit_cost_e4"], cents=False)
    df["pack_cost"] = _money(df["unit_cost_e4"] * df["pack_size"], cents=False)
    df["line_total"] = _money(line_total_e4, cents=True)

    where = np.where(df["position"] < df["reorder_point"], "below", "at")
    reason = (
        pd.Series(where, index=df.index)
        + " reorder point "
        + df["reorder_point"].astype(str)
        + ": on hand "
        + df["on_hand"].astype(str)
        + np.where(
            df["expired_on_hand"] > 0,
            " usable (" + df["expired_on_hand"].astype(str) + " expired not counted)",
            "",
        )
        + " + on order "
        + df["on_order"].astype(str)
        + "; "
        + df["need"].astype(str)
        + " to reach par "
        + df["par"].astype(str)
        + " = "
        + packs.astype(str)
        + " x "
        + df["pack_size"].astype(str)
    )
    reason = reason.where(
        ~raised,
        reason + "; raised to minimum order " + df["min_order_qty"].astype(str),
    )
    reason = reason.where(~df["supplier_missing"], reason + "; NO SUPPLIER: set one to order")
    df["reason"] = reason.where(df["to_order"], "")
    return df


def suggestions(
    session: Session,
    *,
    today: dt.date,
    zone: ClinicTime,
    supplier_id: int | None = None,
    parallel: bool = False,
    with_item_id: bool = False,
    site_ids: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The items to order, sorted by site, supplier then SKU, in the output columns' order
    (and `item_id`, `site_id` last with `with_item_id`)."""
    df = compute(
        session, today=today, zone=zone, supplier_id=supplier_id, parallel=parallel,
        site_ids=site_ids,
    )  # fmt: skip
    df = df[df["to_order"]].sort_values(["site", "supplier", "sku"], kind="stable")
    columns = [*SUGGESTION_COLUMNS, "item_id", "site_id"] if with_item_id else SUGGESTION_COLUMNS
    return df[columns].reset_index(drop=True)


def sample_rows(
    session: Session, *, today: dt.date, zone: ClinicTime, supplier_id: int, count: int
) -> pd.DataFrame:
    """The supplier's first items with a par level (by SKU) as if one pack of each were
    ordered: what an order-file preview shows when there is nothing to order."""
    df = compute(session, today=today, zone=zone, supplier_id=supplier_id)
    df = df.sort_values("sku", kind="stable").head(count).copy()
    if df.empty:
        return df[[*SUGGESTION_COLUMNS, "item_id"]]
    df["order_packs"] = 1
    df["suggested_qty"] = df["pack_size"]
    df["line_total"] = _money(df["pack_size"] * df["unit_cost_e4"], cents=True)
    df["reason"] = "sample row: nothing to order now"
    return df[[*SUGGESTION_COLUMNS, "item_id"]].reset_index(drop=True)


def par_review(
    session: Session,
    *,
    today: dt.date,
    zone: ClinicTime,
    supplier_id: int | None = None,
    parallel: bool = False,
) -> pd.DataFrame:
    """Items whose usage-based par differs from the set par by more than 25%."""
    df = compute(session, today=today, zone=zone, supplier_id=supplier_id, parallel=parallel)
    if df.empty:
        return pd.DataFrame(columns=PAR_REVIEW_COLUMNS)
    change = df["usage_par"] - df["par"]
    # |usage_par - par| > 0.25 * par, in integers: 4 * |change| > par
    df = df[(4 * change.abs()) > df["par"]].copy()
    df["change"] = df["usage_par"] - df["par"]
    df["change_pct"] = (df["change"] * 100 / df["par"].where(df["par"] > 0)).round(1)
    direction = np.where(df["change"] > 0, "raise", "lower")
    df["reason"] = (
        pd.Series(direction, index=df.index)
        + " par "
        + df["par"].astype(str)
        + " to "
        + df["usage_par"].astype(str)
        + ": uses "
        + df["avg_daily_usage"].map("{:g}".format)
        + "/day over "
        + (df["lead_time_days"] + 7).astype(str)
        + " days (lead time + 7) x 1.2"
    )
    df = df.sort_values(["site", "supplier", "sku"], kind="stable")
    return df[PAR_REVIEW_COLUMNS].reset_index(drop=True)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (NaN/NA → None, numpy ints → int) for JSON."""
    out = df.astype(object).where(df.notna(), None).to_dict("records")
    return out


def to_csv(df: pd.DataFrame) -> str:
    """The CSV purchasing uploads: exact leading columns, integers without decimals,
    formula-like text defused (`kernel.csv_export`). A file of several sites' orders
    starts with a `site` column; a file of one site has none."""
    if "site" in df.columns:
        several = df["site"].nunique() > 1
        rest = [c for c in df.columns if c != "site"]
        df = df[["site", *rest]] if several else df[rest]
    return frame_csv(df)


def csv_filename(today: dt.date, supplier_id: int | None = None) -> str:
    suffix = f"-supplier-{supplier_id}" if supplier_id is not None else ""
    return f"reorder-{today.isoformat()}{suffix}.csv"
