"""The daily restock round: what to bring from the supply room to each room at or below
its reorder point, and the round recorded as transfers (all lines or none)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.ledger import record_movement
from inventory.lookups import get_location, normalize_code, normalize_sku
from inventory.models import Item, Location, StockLevel, StockLot
from inventory.schemas.stock import MovementOut, RestockLine, RestockRow, TransferStock
from kernel.problems import Conflict, InvalidInput


def restock_list(session: Session, *, from_location: str, today: dt.date) -> list[RestockRow]:
    """What to bring from the supply room: every other location at or below its reorder
    point gets up to par, as far as the source's unexpired stock reaches (locations in
    code order)."""
    source = get_location(session, from_location)
    rows = session.execute(
        select(
            Item.id, Item.sku, Item.name, Location.code, StockLevel.on_hand,
            StockLevel.par_level, StockLevel.reorder_point,
        )
        .join(Item, Item.id == StockLevel.item_id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(
            StockLevel.location_id != source.id,
            Location.active.is_(True),
            Item.active.is_(True),
            StockLevel.par_level.is_not(None),
            StockLevel.reorder_point.is_not(None),
            StockLevel.on_hand <= StockLevel.reorder_point,
            StockLevel.on_hand < StockLevel.par_level,
        )
        .order_by(Item.sku, Location.code)
    ).all()  # fmt: skip
    item_ids = sorted({r[0] for r in rows})
    usable: dict[int, int] = {}
    for chunk_start in range(0, len(item_ids), 500):
        chunk = item_ids[chunk_start : chunk_start + 500]
        for item_id, qty in session.execute(
            select(StockLot.item_id, func.sum(StockLot.quantity))
            .where(
                StockLot.location_id == source.id,
                StockLot.item_id.in_(chunk),
                (StockLot.expires_on.is_(None)) | (StockLot.expires_on >= today),
            )
            .group_by(StockLot.item_id)
        ):
            usable[item_id] = int(qty or 0)
    left = dict(usable)
    out = []
    for item_id, sku, name, code, on_hand, par, rp in rows:
        needed = par - on_hand
        bring = min(needed, left.get(item_id, 0))
        left[item_id] = left.get(item_id, 0) - bring
        out.append(
            RestockRow(
                sku=sku, name=name, to_location=code, on_hand=on_hand, par_level=par,
                reorder_point=rp, needed=needed, quantity=bring,
                source_on_hand=usable.get(item_id, 0),
            )
        )  # fmt: skip
    return out


def record_restock_round(
    session: Session,
    *,
    actor: str,
    from_location: str,
    lines: list[RestockLine],
    today: dt.date,
    now: dt.datetime | None = None,
) -> tuple[str, list[MovementOut]]:
    """The whole round as transfers in one transaction: all lines succeed or none."""
    source = get_location(session, from_location)
    seen: set[tuple[str, str]] = set()
    for index, line in enumerate(lines):
        key = (normalize_sku(line.sku), normalize_code(line.to_location))
        if key in seen:
            raise InvalidInput(
                f"Line {index + 1}: {key[0]} to {key[1]} appears twice; combine the lines.",
            )
        if key[1] == source.code:
            raise InvalidInput(f"Line {index + 1}: {key[1]} is the source location.")
        seen.add(key)
    reference = uuid.uuid4().hex
    # Items in SKU order so concurrent rounds lock the same rows in the same order.
    ordered = sorted(lines, key=lambda ln: (normalize_sku(ln.sku), normalize_code(ln.to_location)))
    results = []
    for line in ordered:
        try:
            results.append(
                record_movement(
                    session,
                    actor=actor,
                    data=TransferStock(
                        sku=line.sku,
                        location=source.code,
                        quantity=line.quantity,
                        to_location=line.to_location,
                        reason="restock round",
                    ),
                    today=today,
                    reference=reference,
                    now=now,
                )
            )
        except (Conflict, InvalidInput) as exc:
            raise type(exc)(
                f"{normalize_sku(line.sku)} to {normalize_code(line.to_location)}: {exc.detail} "
                f"Nothing from this round was recorded.",
                extra=exc.extra,
            ) from exc
    return reference, results
