"""The stock ledger: every change of stock is a movement, and balances follow in the same
transaction.

How the invariants hold:
- Every movement first locks the `stock_levels` row of its item at each location it
  touches (`SELECT ... FOR UPDATE`, rows in location-id order so two transfers in opposite
  directions cannot deadlock). On SQLite a write transaction already holds the database
  write lock (BEGIN IMMEDIATE); on PostgreSQL the row lock makes concurrent movements of
  the same item queue, and each then re-reads the committed lot balances. So two tablets
  taking the last unit cannot both succeed.
- Each movement row changes one lot balance and the level total by the same signed
  amount, so ``on_hand == sum(lots) == sum(movements)`` per item and location.
- Quantities are checked before anything is written; CHECK constraints (>= 0) back it up.

Time: `at` is when the movement happened: now, or the request's `occurred_at` (not in
the future, at most 7 days back). A back-dated movement is applied to the books when it
is recorded: the stock rules (never negative, FEFO) are checked against the balances as
they are now, with expiry judged on the day it happened, and its `on_hand_after` is the
balance right after it was recorded (rows are never rewritten, so in `id` order each row's
`on_hand_after` is the previous row's plus its quantity). A back-dated count compares the
counted total with the books *as of its time*: the balance now minus what the movements
placed after that time changed.

Usage: each row carries `used`, the units it took off the shelf as use: every unit a
consume takes, and a count's shortfall as far as it comes from lots that were usable that
day (a count takes a shortfall from usable lots first, earliest expiry first, since
expired units are never consumed; only a shortfall beyond the usable stock comes from
expired lots, and that is expired stock gone, not use). Receipts, transfers, adjustments,
discards and count gains are never use.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from inventory.ledger_statements import (
    CHANGED_SINCE,
    ITEM_AND_LOCATION,
    ITEM_LOCATION_LEVEL,
    LOCATION_BY_CODE,
    LOCK_LEVELS,
    LOT_CHANGED_SINCE,
    LOT_EXPIRY,
    LOTS,
    MOVEMENT_COLUMNS,
    NEW_LOT,
    NEW_MOVEMENT,
    PG_ONE_CHANGE,
    SET_LEVEL,
    SET_LOT,
    movements_t,
)
from inventory.lookups import normalize_code, normalize_sku
from inventory.models import NO_LOT
from inventory.schemas.stock import (
    AdjustStock,
    ConsumeStock,
    CountStock,
    DiscardStock,
    LotChange,
    MovementIn,
    MovementOut,
    PackagingUse,
    ReceiveStock,
    TransferStock,
)
from inventory.stock_levels import ensure_stock_levels
from kernel import audit
from kernel.audit import sealing
from kernel.clock import ClinicTime
from kernel.db import utcnow
from kernel.problems import Conflict, InvalidInput, NotFound
from kernel.sites.query_scope import site_visible

REASON_REQUIRED = frozenset({"adjust", "discard"})
MAX_BACKDATE = dt.timedelta(days=7)
CLOCK_SKEW = dt.timedelta(minutes=2)  # a tablet's clock a little ahead is not "the future"
USE_KINDS = frozenset({"consume", "count"})  # the kinds whose taking can be use


@dataclass
class ItemRef:
    id: int
    sku: str
    name: str
    unit: str
    lot_tracked: bool
    active: bool


@dataclass
class LocationRef:
    id: int
    code: str
    active: bool
    site_id: int


@dataclass
class LevelRow:
    id: int
    on_hand: int
    before: int


@dataclass
class LotRow:
    id: int | None  # None until inserted
    lot: str
    expires_on: dt.date | None
    quantity: int
    before: int


@dataclass(frozen=True)
class PackagingRef:
    """The packaging level a receipt was scanned at (`inventory.packagings`)."""

    id: int
    gtin: str
    name: str
    units: int


def find_item_and_location(session: Session, sku: str, code: str) -> tuple[ItemRef, LocationRef]:
    """The item and the location of a movement, in one round trip."""
    row = (
        session.connection()
        .execute(ITEM_AND_LOCATION, {"sku": normalize_sku(sku), "code": normalize_code(code)})
        .first()
    )
    if row is None:
        raise NotFound(f"No item with SKU {sku!r}.")
    if row[6] is None or not site_visible(session, row[9]):  # another site's: not found
        raise NotFound(f"No location with code {code!r}.", field="location")
    return ItemRef(*row[:6]), LocationRef(*row[6:])


def lock_item_at(
    session: Session, sku: str, code: str
) -> tuple[ItemRef, LocationRef, dict[int, LevelRow]] | None:
    """The item, the location and the item's locked level there, in one round trip; None
    if any of them is missing (the caller then finds out which, and makes the level)."""
    rows = ITEM_LOCATION_LEVEL.run(
        session.connection(), {"sku": normalize_sku(sku), "code": normalize_code(code)}
    )
    if not rows:
        return None
    row = rows[0]
    if not site_visible(session, row[9]):  # another site's: not found
        raise NotFound(f"No location with code {code!r}.", field="location")
    level = LevelRow(row[10], row[11], row[11])
    return ItemRef(*row[:6]), LocationRef(*row[6:10]), {row[6]: level}


def find_location(session: Session, code: str, *, field: str = "location") -> LocationRef:
    row = session.connection().execute(LOCATION_BY_CODE, {"code": normalize_code(code)}).first()
    if row is None or not site_visible(session, row[3]):  # another site's: not found
        raise NotFound(f"No location with code {code!r}.", field=field)
    return LocationRef(*row)


def lock_levels(session: Session, item_id: int, location_ids: Sequence[int]) -> dict[int, LevelRow]:
    """Lock (creating if needed) the item's level rows at these locations, in id order."""
    wanted = sorted(set(location_ids))
    params = {"item_id": item_id, "location_ids": wanted}

    def select_locked() -> dict[int, LevelRow]:
        rows = session.connection().execute(LOCK_LEVELS, params)
        return {loc: LevelRow(level_id, on_hand, on_hand) for level_id, loc, on_hand in rows}

    levels = select_locked()
    if len(levels) < len(wanted):
        ensure_stock_levels(session, item_id, [i for i in wanted if i not in levels])
        levels = select_locked()
    return levels


def is_expired(expires_on: dt.date | None, today: dt.date) -> bool:
    """A lot may be used through its expiry date; it is expired the day after."""
    return expires_on is not None and expires_on < today


@dataclass
class _Change:
    lot: LotRow
    location: LocationRef
    quantity: int  # signed
    on_hand_after: int  # the level's on-hand right after this row
    used: int = 0  # units taken off the shelf as use


class _Move:
    """One movement request in progress: the locked levels, the lots read under that lock,
    and the changes, held in memory and written by `write()` only once every rule passed."""

    def __init__(
        self, session: Session, *, item: ItemRef, levels: dict[int, LevelRow], today: dt.date
    ) -> None:
        self.session = session
        self.connection = session.connection()  # the transaction's (asked for once)
        self.item = item
        self.levels = levels
        self.today = today
        self.changes: list[_Change] = []
        self._lots: dict[int, list[LotRow]] = {}

    def lots_at(self, location: LocationRef) -> list[LotRow]:
        """The item's lots at a location, earliest expiry first (no expiry last)."""
        if location.id not in self._lots:
            rows = LOTS.run(self.connection, {"item_id": self.item.id, "location_id": location.id})
            self._lots[location.id] = [LotRow(i, lot, e, q, q) for i, lot, e, q in rows]
        return self._lots[location.id]

    def take(
        self,
        location: LocationRef,
        quantity: int,
        *,
        lot: str | None,
        usable_only: bool,
        as_use: bool = False,
        usable_first: bool = False,
    ) -> list[tuple[LotRow, int]]:
        """Remove `quantity` units: from `lot` if given, else earliest expiry first (with
        `usable_first`, unexpired lots before expired ones). With `as_use`, what comes
        from lots usable that day is use (`used`)."""
        level = self.levels[location.id]
        item = self.item
        where = f"{item.sku} at {location.code}"
        lots = self.lots_at(location)
        if lot is not None:
            row = next((r for r in lots if r.lot == lot), None)
            have = row.quantity if row else 0
            if row is None or have < quantity:
                raise Conflict(
                    f"Lot {lot} of {where} has {have} {item.unit} on hand; cannot take {quantity}.",
                    extra={"on_hand": level.on_hand, "lot_on_hand": have},
                )
            if usable_only and is_expired(row.expires_on, self.today):
                raise Conflict(
                    f"Lot {lot} of {where} expired on {row.expires_on}; do not use it "
                    f"(record it as discarded).",
                    extra={"on_hand": level.on_hand, "expired_on": str(row.expires_on)},
                )
            picked = [(row, quantity)]
        else:
            candidates = [
                r
                for r in lots
                if r.quantity > 0 and not (usable_only and is_expired(r.expires_on, self.today))
            ]
            if usable_first:  # stable: earliest expiry first within each group
                candidates.sort(key=lambda r: is_expired(r.expires_on, self.today))
            available = sum(r.quantity for r in candidates)
            if available < quantity:
                raise self._shortage(location, level, quantity, available, usable_only)
            picked = []
            remaining = quantity
            for row in candidates:
                step = min(row.quantity, remaining)
                picked.append((row, step))
                remaining -= step
                if remaining == 0:
                    break
        for row, step in picked:
            row.quantity -= step
            level.on_hand -= step
            used = step if as_use and not is_expired(row.expires_on, self.today) else 0
            self.changes.append(_Change(row, location, -step, level.on_hand, used))
        return picked

    def _shortage(
        self, location: LocationRef, level: LevelRow, wanted: int, usable: int, usable_only: bool
    ) -> Conflict:
        item = self.item
        on_hand = level.on_hand
        where = f"{item.sku} ({item.name}) at {location.code}"
        extra = {"on_hand": on_hand, "usable": usable, "requested": wanted}
        if usable_only and on_hand >= wanted:
            expired = on_hand - usable
            if usable == 0:
                return Conflict(
                    f"All {on_hand} {item.unit} of {where} are expired; none can be used. "
                    f"Discard the expired stock and restock.",
                    extra=extra,
                )
            return Conflict(
                f"Only {usable} {item.unit} of {where} are usable: {expired} of the {on_hand} "
                f"on hand are expired.",
                extra=extra,
            )
        return Conflict(
            f"Only {on_hand} {item.unit} of {where} on hand; cannot take {wanted}.",
            extra=extra,
        )

    def put(
        self, location: LocationRef, quantity: int, *, lot: str, expires_on: dt.date | None
    ) -> LotRow:
        """Add `quantity` units (>= 0) to a lot, creating the lot balance if new."""
        level = self.levels[location.id]
        lots = self.lots_at(location)
        row = next((r for r in lots if r.lot == lot), None)
        if lot != NO_LOT:
            recorded = row.expires_on if row is not None else None
            if row is None:
                recorded = (
                    self.session.connection()
                    .execute(LOT_EXPIRY, {"item_id": self.item.id, "lot": lot})
                    .scalar()
                )
            if recorded is not None and expires_on is not None and recorded != expires_on:
                raise InvalidInput.for_field(
                    "expires_on",
                    f"Lot {lot} of {self.item.sku} is recorded as expiring on {recorded}, "
                    f"not {expires_on}; check the label.",
                )
            expires_on = expires_on or recorded
        if row is None:
            if self.item.lot_tracked and lot != NO_LOT and expires_on is None:
                raise InvalidInput.for_field(
                    "expires_on", f"{self.item.sku} is lot-tracked: a new lot needs an expiry date."
                )
            row = LotRow(None, lot, expires_on, 0, 0)
            lots.append(row)
        row.quantity += quantity
        level.on_hand += quantity
        self.changes.append(_Change(row, location, quantity, level.on_hand))
        return row

    def changed_since(self, location: LocationRef, since: dt.datetime, lot: str | None) -> int:
        """The net change the movements placed after `since` made (at this location, of
        `lot` if given): the books as of `since` are today's balance minus this."""
        params = {"item_id": self.item.id, "location_id": location.id, "since": since}
        if lot is None:
            return int(self.connection.execute(CHANGED_SINCE, params).scalar_one())
        statement = LOT_CHANGED_SINCE
        return int(self.connection.execute(statement, params | {"lot": lot}).scalar_one())

    def write(
        self,
        *,
        kind: str,
        actor: str,
        reason: str | None,
        reference: str,
        at: dt.datetime,
        recorded_at: dt.datetime,
        packaging: PackagingRef | None = None,
    ) -> list[int]:
        """Write the lot balances, level totals and movement rows; the movement ids."""
        conn = self.connection
        lots = [{"lot_id": r.id, "new_quantity": r.quantity}
                for rows in self._lots.values() for r in rows
                if r.id is not None and r.quantity != r.before]  # fmt: skip
        levels = [{"level_id": v.id, "new_on_hand": v.on_hand}
                  for v in self.levels.values() if v.on_hand != v.before]  # fmt: skip
        one_change = (
            conn.dialect.name == "postgresql"
            and len(self.changes) == len(lots) == len(levels) == 1
            and all(r.id is not None for rows in self._lots.values() for r in rows)
        )
        if not one_change:  # else written with the movement, in its statement
            for location_id, rows in self._lots.items():
                for row in rows:
                    if row.id is None:
                        row.id = conn.execute(
                            NEW_LOT,
                            {"item_id": self.item.id, "location_id": location_id, "lot": row.lot,
                             "expires_on": row.expires_on, "quantity": row.quantity},
                        ).scalar_one()  # fmt: skip
            for params in lots:
                SET_LOT.run(conn, params)
            for params in levels:
                SET_LEVEL.run(conn, params)
        ids = []
        for change in self.changes:
            balances = lots[0] | levels[0] if one_change else {}
            (returned,) = (PG_ONE_CHANGE if one_change else NEW_MOVEMENT).run(
                conn,
                balances
                | {"kind": kind, "item_id": self.item.id, "location_id": change.location.id,
                 "lot": change.lot.lot, "expires_on": change.lot.expires_on,
                 "quantity": change.quantity, "at": at, "actor": actor, "reason": reason,
                 "reference": reference, "recorded_at": recorded_at, "used": change.used,
                 "on_hand_after": change.on_hand_after,
                 "packaging_id": packaging.id if packaging else None,
                 "packages": change.quantity // packaging.units if packaging else None},
            )  # fmt: skip
            stored = dict(zip(MOVEMENT_COLUMNS, returned, strict=True))
            sealing.note_stored(conn, movements_t, stored)
            ids.append(stored["id"])
        return ids


def _validate(data: MovementIn, item: ItemRef) -> None:
    kind, q = data.kind, data.quantity
    if kind == "count":
        if q < 0:
            raise InvalidInput.for_field("quantity", "A count is the total counted: 0 or more.")
    elif kind == "adjust":
        if q == 0:
            raise InvalidInput.for_field(
                "quantity", "An adjustment must change the quantity (not 0)."
            )
    elif q <= 0:
        raise InvalidInput.for_field("quantity", f"The quantity to {kind} must be at least 1.")
    if kind in REASON_REQUIRED and not (data.reason or "").strip():
        raise InvalidInput.for_field("reason", f"A reason is required to {kind} stock.")
    if kind == "transfer":
        if not data.to_location:
            raise InvalidInput.for_field("to_location", "A transfer needs to_location.")
        if normalize_code(data.to_location) == normalize_code(data.location):
            raise InvalidInput.for_field("to_location", "A transfer needs two different locations.")
    elif data.to_location is not None:
        raise InvalidInput.for_field("to_location", "to_location is only for transfers.")
    if data.expires_on is not None and data.lot is None:
        raise InvalidInput.for_field(
            "expires_on", "An expiry date belongs to a lot: give the lot too."
        )
    if kind == "receive" and item.lot_tracked and (data.lot is None or data.expires_on is None):
        raise InvalidInput.for_field(
            "lot" if data.lot is None else "expires_on",
            f"{item.sku} is lot-tracked: receiving needs its lot and expiry date.",
        )


def occurred_instant(occurred_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """When a movement recorded after the fact happened: not in the future (a clock up to
    two minutes ahead is taken as now), at most 7 days back."""
    if occurred_at > now + CLOCK_SKEW:
        raise InvalidInput.for_field(
            "occurred_at", "occurred_at is in the future; record what has already happened."
        )
    if occurred_at < now - MAX_BACKDATE:
        raise InvalidInput.for_field(
            "occurred_at",
            "occurred_at is more than 7 days back; correct older stock with a count or an "
            "adjustment dated now.",
        )
    return min(occurred_at.astimezone(dt.UTC), now)


def record_movement(
    session: Session,
    *,
    actor: str,
    data: MovementIn,
    today: dt.date,
    reference: str | None = None,
    now: dt.datetime | None = None,
    zone: ClinicTime | None = None,
    packaging: PackagingRef | None = None,
) -> MovementOut:
    """Apply one stock action; all or nothing (raises before anything is written).

    `today` is the clinic's day (expiry is judged on it); `now` the time of recording
    (default: the system clock); `zone` the clinic's zone, which places a back-dated
    movement (`occurred_at`) on its day. `packaging`: a receipt counted in packages of
    that level (`quantity` is already in units)."""
    now = now or utcnow()
    at, day = now, today
    if data.occurred_at is not None:
        at = occurred_instant(data.occurred_at, now)
        day = (zone or ClinicTime(dt.UTC)).local_date(at)
    found = None if data.to_location else lock_item_at(session, data.sku, data.location)
    if found is not None:
        item, location, levels = found
    else:
        item, location = find_item_and_location(session, data.sku, data.location)
    to_location = (
        find_location(session, data.to_location, field="to_location") if data.to_location else None
    )
    _validate(data, item)
    if packaging is not None and data.kind != "receive":
        raise InvalidInput("Only receipts are counted in packages.")
    if data.kind == "receive" and not item.active:
        raise Conflict(f"{item.sku} is inactive; reactivate it before receiving stock.")
    if data.kind in ("receive", "transfer"):
        target = to_location or location
        if not target.active:
            raise Conflict(f"Location {target.code} is inactive; stock cannot be moved there.")
    if found is None:
        ids = [location.id] + ([to_location.id] if to_location else [])
        levels = lock_levels(session, item.id, ids)
    move = _Move(session, item=item, levels=levels, today=day)
    lot = data.lot.strip() if data.lot else None
    kind, quantity = data.kind, data.quantity
    expected: int | None = None

    match data:
        case ReceiveStock():
            move.put(location, quantity, lot=lot or NO_LOT, expires_on=data.expires_on)
        case ConsumeStock():
            move.take(location, quantity, lot=lot, usable_only=True, as_use=True)
        case DiscardStock():
            move.take(location, quantity, lot=lot, usable_only=False)
        case TransferStock():
            assert to_location is not None
            # Without a lot only unexpired stock moves; naming a lot moves it regardless.
            for row, step in move.take(location, quantity, lot=lot, usable_only=lot is None):
                move.put(to_location, step, lot=row.lot, expires_on=row.expires_on)
        case AdjustStock() if quantity > 0:
            if item.lot_tracked and lot is None:
                raise InvalidInput.for_field(
                    "lot", f"{item.sku} is lot-tracked: say which lot to adjust."
                )
            move.put(location, quantity, lot=lot or NO_LOT, expires_on=data.expires_on)
        case AdjustStock():
            move.take(location, -quantity, lot=lot, usable_only=False)
        case CountStock():
            as_of = at if data.occurred_at is not None else None
            expected = _count(
                move, location, quantity, lot=lot, expires_on=data.expires_on, as_of=as_of
            )

    reference = reference or uuid.uuid4().hex
    reason = data.reason.strip() if data.reason else None
    movement_ids = move.write(
        kind=kind, actor=actor, reason=reason, reference=reference, at=at, recorded_at=now,
        packaging=packaging,
    )  # fmt: skip
    level = levels[location.id]
    lots = [
        LotChange(
            location=c.location.code,
            lot=c.lot.lot or None,
            expires_on=c.lot.expires_on,
            quantity=c.quantity,
            used=c.used,
        )
        for c in move.changes
    ]
    used = sum(c.used for c in move.changes)
    single = move.changes[0].lot if len({c.lot.lot for c in move.changes}) == 1 else None
    out = MovementOut(
        id=movement_ids[0],
        kind=kind,
        sku=item.sku,
        location=location.code,
        quantity=quantity,
        on_hand_after=level.on_hand,
        at=at,
        recorded_at=now,
        actor=actor,
        reference=reference,
        lots=lots,
        used=used,
        lot=(single.lot or None) if single else None,
        expires_on=single.expires_on if single else None,
        to_location=to_location.code if to_location else None,
        to_on_hand_after=levels[to_location.id].on_hand if to_location else None,
        reason=reason,
        expected_on_hand=expected,
        packaging=PackagingUse(
            gtin=packaging.gtin, name=packaging.name, units=packaging.units,
            packages=quantity // packaging.units,
        ) if packaging else None,
    )  # fmt: skip
    audit.record(
        session,
        actor=actor,
        action=f"stock.{kind}",
        entity="item",
        entity_id=item.sku,
        before={"location": location.code, "on_hand": level.before}
        | ({"to_location": to_location.code, "to_on_hand": levels[to_location.id].before}
           if to_location else {}),
        after={
            "location": location.code,
            "on_hand": level.on_hand,
            "quantity": quantity,
            "reference": reference,
            "reason": reason,
            "lots": [[c.location, c.lot, c.quantity] for c in lots],
        }
        | ({"to_location": out.to_location, "to_on_hand": out.to_on_hand_after}
           if to_location else {})
        | ({"occurred_at": at.isoformat()} if data.occurred_at is not None else {})
        | ({"used": used} if used else {})
        | ({"expected_on_hand": expected} if expected is not None else {})
        | ({"packaging": packaging.gtin, "packages": out.packaging.packages}
           if packaging and out.packaging else {}),
    )  # fmt: skip
    return out


def _count(
    move: _Move, location: LocationRef, counted: int, *, lot: str | None,
    expires_on: dt.date | None, as_of: dt.datetime | None,
) -> int:  # fmt: skip
    """Record the difference between the counted total and the books (as of `as_of` for a
    count recorded after the fact); the expected on-hand it was compared with.

    A shortfall comes off usable lots first (earliest expiry first) and is use; only what
    exceeds the usable stock comes off expired lots (expired stock gone, not use)."""
    level = move.levels[location.id]
    if lot is not None:
        row = next((r for r in move.lots_at(location) if r.lot == lot), None)
        current = row.quantity if row else 0
    else:
        current = level.on_hand
    expected = current - (move.changed_since(location, as_of, lot) if as_of else 0)
    diff = counted - expected
    if diff < 0:
        if -diff > current:
            what = f"lot {lot} of {move.item.sku}" if lot else move.item.sku
            raise Conflict.for_field(
                "quantity",
                f"The count of {what} at {location.code} found {counted} when the books held "
                f"{expected}, but only {current} are on hand now: movements recorded after "
                f"the count's time took the rest. Check the count's time and quantity.",
                extra={"on_hand": level.on_hand, "expected_on_hand": expected},
            )
        move.take(location, -diff, lot=lot, usable_only=False, as_use=True, usable_first=True)
    elif diff > 0 or not move.changes:
        if lot is None and diff > 0 and move.item.lot_tracked:
            raise InvalidInput.for_field(
                "lot",
                f"{move.item.sku} is lot-tracked and the count found {diff} more than recorded; "
                f"count that lot and give its lot number.",
            )
        move.put(location, diff, lot=lot or NO_LOT, expires_on=expires_on)
    return expected
