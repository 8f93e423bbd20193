"""Reading the stock: levels per item and location, lots expiring, what a bin holds, the
movement ledger, and consumption per clinic day. Reads only; the writes are
`inventory.ledger`'s."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from inventory.ledger import find_item_and_location, is_expired
from inventory.ledger_statements import LOTS_BY_EXPIRY
from inventory.lookups import normalize_code, normalize_sku
from inventory.models import Item, ItemPackaging, Location, StockLevel, StockLot, StockMovement
from inventory.responses import movement_row
from inventory.schemas.stock import ExpiringRow, MovementRow, StockRow
from kernel.clock import ClinicTime
from kernel.problems import NotFound
from kernel.reads import PreparedRead, Reader
from kernel.sites.query_scope import visible_site_ids

_levels_t = StockLevel.__table__  # type: ignore[attr-defined]
_items_t = Item.__table__  # type: ignore[attr-defined]
_locations_t = Location.__table__  # type: ignore[attr-defined]


def _stock_select(
    by_location: bool, by_sku: bool, below_reorder: bool, sites: ColumnElement[bool] | None
) -> tuple[Any, Any]:
    """(count, page) statements for one combination of filters; `sites`: the condition on
    the location's site (the user's sites: this is connection-level SQL)."""
    conditions = [_items_t.c.active.is_(True)]
    if sites is not None:
        conditions.append(sites)
    if by_location:
        conditions.append(_locations_t.c.code == bindparam("location"))
    if by_sku:
        conditions.append(_items_t.c.sku == bindparam("sku"))
    if below_reorder:
        conditions.append(
            and_(
                _levels_t.c.reorder_point.is_not(None),
                _levels_t.c.on_hand <= _levels_t.c.reorder_point,
            )
        )
    base = (
        select(
            _items_t.c.sku, _items_t.c.name, _locations_t.c.code, _levels_t.c.on_hand,
            _levels_t.c.par_level, _levels_t.c.reorder_point,
        )
        .select_from(_levels_t)
        .join(_items_t, _items_t.c.id == _levels_t.c.item_id)
        .join(_locations_t, _locations_t.c.id == _levels_t.c.location_id)
        .where(*conditions)
    )  # fmt: skip
    count = select(func.count()).select_from(base.subquery())
    page = (
        base.order_by(_items_t.c.sku, _locations_t.c.code)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return count, page


@functools.cache
def _stock_statements(
    by_location: bool, by_sku: bool, below_reorder: bool, by_site: bool = False
) -> tuple[Any, Any]:
    """(count, page) statements for a session, built once (the sites as a parameter)."""
    sites = _locations_t.c.site_id.in_(bindparam("site_ids", expanding=True)) if by_site else None
    return _stock_select(by_location, by_sku, below_reorder, sites)


@functools.lru_cache(maxsize=256)
def _stock_reads(
    by_location: bool, by_sku: bool, below_reorder: bool, site_ids: tuple[int, ...] | None
) -> tuple[PreparedRead, PreparedRead]:
    """(count, page) reads for one combination of filters and one set of sites (a few
    per group), compiled once: the site ids are written into the SQL (integers)."""
    sites = (
        _locations_t.c.site_id.in_([literal_column(str(int(i))) for i in site_ids])
        if site_ids is not None
        else None
    )
    count, page = _stock_select(by_location, by_sku, below_reorder, sites)
    return PreparedRead(count), PreparedRead(page)


def find_stock(
    reader: Reader,
    *,
    location: str | None,
    sku: str | None,
    below_reorder: bool,
    limit: int,
    offset: int,
) -> tuple[list[StockRow], int]:
    """`GET /api/v1/stock`: levels of the user's sites, read without a session (the
    look-up of one SKU is the hot read of restocking)."""
    count, page = _stock_reads(bool(location), bool(sku), below_reorder, reader.site_ids())
    params = _stock_params(location, sku, limit, offset)
    rows = [StockRow(*r) for r in page.all(reader.db, params)]
    return rows, _total(rows, limit, offset, lambda: count.first(reader.db, params)[0])


def _stock_params(location: str | None, sku: str | None, limit: int, offset: int) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if location:
        params["location"] = normalize_code(location)
    if sku:
        params["sku"] = normalize_sku(sku)
    return params


def _total(rows: list[StockRow], limit: int, offset: int, count: Callable[[], int]) -> int:
    """The number of matching rows: counted only when this page does not hold them all."""
    return len(rows) if offset == 0 and len(rows) < limit else count()


def stock_rows(
    session: Session,
    *,
    location: str | None,
    sku: str | None,
    below_reorder: bool,
    limit: int,
    offset: int,
) -> tuple[list[StockRow], int]:
    site_ids = visible_site_ids(session)
    count, page = _stock_statements(bool(location), bool(sku), below_reorder, site_ids is not None)
    params = _stock_params(location, sku, limit, offset)
    if site_ids is not None:
        params["site_ids"] = site_ids
    connection = session.connection()
    rows = [StockRow(*r) for r in connection.execute(page, params)]
    return rows, _total(rows, limit, offset, lambda: connection.execute(count, params).scalar_one())


def expiring_rows(
    session: Session, *, today: dt.date, within_days: int, location: str | None,
    limit: int, offset: int,
) -> tuple[list[ExpiringRow], int]:  # fmt: skip
    cutoff = today + dt.timedelta(days=within_days)
    conditions = [StockLot.quantity > 0, StockLot.expires_on <= cutoff]
    if location:
        conditions.append(Location.code == normalize_code(location))
    base = (
        select(
            Item.sku, Item.name, Location.code, StockLot.lot, StockLot.expires_on,
            StockLot.quantity,
        )
        .join(Item, Item.id == StockLot.item_id)
        .join(Location, Location.id == StockLot.location_id)
        .where(*conditions)
    )  # fmt: skip
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(StockLot.expires_on, Item.sku, Location.code).limit(limit).offset(offset)
    )
    return [
        ExpiringRow(
            sku=r[0], name=r[1], location=r[2], lot=r[3] or None, expires_on=r[4],
            quantity=r[5], expired=is_expired(r[4], today),
        )
        for r in rows
    ], total  # fmt: skip


def _ledger_rows(*conditions: Any) -> Any:
    return (
        select(StockMovement, Item.sku, Location.code, ItemPackaging.gtin)
        .join(Item, Item.id == StockMovement.item_id)
        .join(Location, Location.id == StockMovement.location_id)
        .outerjoin(ItemPackaging, ItemPackaging.id == StockMovement.packaging_id)
        .where(*conditions)
    )


def list_movements(
    session: Session,
    *,
    sku: str | None,
    location: str | None,
    reference: str | None,
    limit: int,
    offset: int,
) -> tuple[list[MovementRow], int]:
    """The ledger in recording order, newest first, optionally of one item, location or
    reference."""
    conditions: list[Any] = []
    if sku:
        conditions.append(Item.sku == normalize_sku(sku))
    if location:
        conditions.append(Location.code == normalize_code(location))
    if reference:
        conditions.append(StockMovement.reference == reference)
    base = _ledger_rows(*conditions)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(StockMovement.id.desc()).limit(limit).offset(offset)).all()
    return [movement_row(m, s, c, g) for m, s, c, g in rows], total


def get_movement(session: Session, movement_id: int) -> MovementRow:
    """One ledger row by its id; 404 when there is none."""
    row = session.execute(_ledger_rows(StockMovement.id == movement_id)).first()
    if row is None:
        raise NotFound(f"No stock movement {movement_id}.")
    return movement_row(*row)


@dataclass(frozen=True)
class BinLot:
    lot: str | None
    expires_on: dt.date | None
    quantity: int
    expired: bool


def lots_in_bin(session: Session, *, sku: str, location: str, today: dt.date) -> list[BinLot]:
    """The lots of one item at one location that hold stock, earliest expiry first (for
    the bin page: what is on the shelf and which box to take first)."""
    item, loc = find_item_and_location(session, sku, location)
    rows = session.connection().execute(LOTS_BY_EXPIRY, {"item_id": item.id, "location_id": loc.id})
    return [
        BinLot(lot or None, expires_on, quantity, is_expired(expires_on, today))
        for _, lot, expires_on, quantity in rows
        if quantity > 0
    ]


@dataclass(frozen=True)
class ItemConsumption:
    """How much of one item was used on each day of a period (oldest day first): its
    ledger rows' `used` (consumption and count shortfalls), on the day they happened."""

    sku: str
    name: str
    unit: str
    total: int
    per_day: list[int]


def daily_consumption(
    session: Session, *, first_day: dt.date, days: int, zone: ClinicTime, top: int = 5
) -> list[ItemConsumption]:
    """Units used per clinic day over `days` days from `first_day`, for the `top` most-used
    items of the period (most first). Days are `zone`'s."""
    start, end = zone.days_bounds(first_day, first_day + dt.timedelta(days=days - 1))
    in_period = (
        StockMovement.used > 0,
        StockMovement.at >= start,
        StockMovement.at < end,
    )
    consumed = func.sum(StockMovement.used)
    leaders = session.execute(
        select(StockMovement.item_id, consumed)
        .where(*in_period)
        .group_by(StockMovement.item_id)
        .order_by(consumed.desc(), StockMovement.item_id)
        .limit(top)
    ).all()
    if not leaders:
        return []
    ids = [item_id for item_id, _ in leaders]
    per_day: dict[int, list[int]] = {item_id: [0] * days for item_id in ids}
    for item_id, at, used in session.execute(
        select(StockMovement.item_id, StockMovement.at, StockMovement.used).where(
            *in_period, StockMovement.item_id.in_(ids)
        )
    ):
        index = (zone.local_date(at) - first_day).days
        if 0 <= index < days:
            per_day[item_id][index] += used
    items = {
        row.id: row
        for row in session.execute(
            select(Item.id, Item.sku, Item.name, Item.unit).where(Item.id.in_(ids))
        )
    }
    return [
        ItemConsumption(
            items[item_id].sku, items[item_id].name, items[item_id].unit, int(total),
            per_day[item_id],
        )
        for item_id, total in leaders
    ]  # fmt: skip
