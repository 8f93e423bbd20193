"""HTTP handlers of the inventory API: thin wrappers over `catalogue` and `ledger`.

Roles (admin may do everything):
- read (catalogue, stock, expiring, restock list): ma, purchasing, auditor;
- catalogue writes (suppliers, locations, items, par levels): purchasing;
- stock movements: ma (every kind, restock rounds); purchasing only receives.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Response, get, patch, post, put
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from inventory import catalogue, ledger
from inventory.gs1 import parse_supply_barcode
from inventory.models import Item, Location, StockMovement, Supplier
from inventory.schemas import (
    MAX_ID,
    PRINTABLE,
    BarcodeReceive,
    ExpiringRow,
    ItemCreate,
    ItemOut,
    ItemUpdate,
    LocationCreate,
    LocationOut,
    LocationUpdate,
    MovementIn,
    MovementOut,
    MovementRow,
    ParLevelOut,
    ParLevelSet,
    RestockList,
    RestockRound,
    RestockRoundOut,
    StockRow,
    SupplierCreate,
    SupplierOut,
    SupplierUpdate,
)
from kernel import idempotency
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey
from kernel.idempotency import IdempotencyKeyHeader
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from kernel.problems import InvalidInput, PermissionDenied

can_read = requires_role(Role.MA, Role.PURCHASING, Role.AUDITOR)
can_edit_catalogue = requires_role(Role.PURCHASING)
can_move_stock = requires_role(Role.MA, Role.PURCHASING)
can_restock = requires_role(Role.MA)

CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,20}$"
SKU_PATTERN = r"^[A-Za-z0-9_./-]{1,40}$"
SupplierId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
PAGED = {"page": Provide(provide_page_params, sync_to_thread=False)}


def clinic_today(state: State) -> dt.date:
    return dt.datetime.now(state.settings.tz).date()


def committed(db_session: Session, response: Response[Any]) -> Response[Any]:
    """Commit a stock write in the handler's own thread instead of after the response is
    built: on SQLite the write lock is then held only while the database work runs (the
    benchmark showed it otherwise waiting ~1.5 ms per request for the event loop). The
    response is already fully encoded, so nothing can fail after the commit."""
    db_session.commit()
    return response


def check_kind_allowed(me: CurrentUser, kind: str) -> None:
    """Purchasing receives deliveries; taking, moving and counting stock is the MAs' job."""
    if me.role == Role.PURCHASING and kind != "receive":
        raise PermissionDenied(
            f"Your role (purchasing) may receive stock but not {kind} it; "
            "that needs one of: admin, ma."
        )


class SupplierController(Controller):
    path = "/api/v1/suppliers"
    tags = ["inventory"]

    @post("/", guards=[can_edit_catalogue], sync_to_thread=True, summary="Add a supplier")
    def create(self, data: SupplierCreate, db_session: Session, me: CurrentUser) -> SupplierOut:
        return catalogue.supplier_out(
            catalogue.create_supplier(db_session, actor=me.username, data=data)
        )

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED, summary="Suppliers")
    def list_suppliers(self, db_session: Session, page: PageParams) -> Page[SupplierOut]:
        statement = select(Supplier).order_by(Supplier.name)
        return paginate(db_session, statement, page, catalogue.supplier_out)

    @get("/{supplier_id:int}", guards=[can_read], sync_to_thread=True, summary="One supplier")
    def get_one(self, supplier_id: SupplierId, db_session: Session) -> SupplierOut:
        return catalogue.supplier_out(catalogue.get_supplier(db_session, supplier_id))

    @patch(
        "/{supplier_id:int}",
        guards=[can_edit_catalogue],
        sync_to_thread=True,
        summary="Change a supplier",
    )
    def update(
        self, supplier_id: SupplierId, data: SupplierUpdate, db_session: Session, me: CurrentUser
    ) -> SupplierOut:
        return catalogue.supplier_out(
            catalogue.update_supplier(
                db_session, actor=me.username, supplier_id=supplier_id, data=data
            )
        )


class LocationController(Controller):
    path = "/api/v1/locations"
    tags = ["inventory"]

    @post("/", guards=[can_edit_catalogue], sync_to_thread=True, summary="Add a location")
    def create(self, data: LocationCreate, db_session: Session, me: CurrentUser) -> LocationOut:
        return catalogue.location_out(
            catalogue.create_location(db_session, actor=me.username, data=data)
        )

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED, summary="Locations")
    def list_locations(self, db_session: Session, page: PageParams) -> Page[LocationOut]:
        statement = select(Location).order_by(Location.code)
        return paginate(db_session, statement, page, catalogue.location_out)

    @get("/{code:str}", guards=[can_read], sync_to_thread=True, summary="One location")
    def get_one(self, code: PathKey, db_session: Session) -> LocationOut:
        return catalogue.location_out(catalogue.get_location(db_session, code))

    @patch(
        "/{code:str}",
        guards=[can_edit_catalogue],
        sync_to_thread=True,
        summary="Rename or (de)activate a location",
    )
    def update(
        self, code: PathKey, data: LocationUpdate, db_session: Session, me: CurrentUser
    ) -> LocationOut:
        return catalogue.location_out(
            catalogue.update_location(db_session, actor=me.username, code=code, data=data)
        )


class ItemController(Controller):
    path = "/api/v1/items"
    tags = ["inventory"]

    @post("/", guards=[can_edit_catalogue], sync_to_thread=True, summary="Add an item")
    def create(self, data: ItemCreate, db_session: Session, me: CurrentUser) -> ItemOut:
        item = catalogue.create_item(db_session, actor=me.username, data=data)
        return catalogue.item_out(item, db_session.get(Supplier, item.supplier_id))

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED, summary="Items")
    def list_items(
        self,
        db_session: Session,
        page: PageParams,
        q: Annotated[
            str | None,
            Parameter(max_length=100, pattern=PRINTABLE, description="Text in SKU or name"),
        ] = None,
        category: Annotated[str | None, Parameter(max_length=64, pattern=PRINTABLE)] = None,
        supplier_id: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        active: bool | None = None,
    ) -> Page[ItemOut]:
        conditions: list[Any] = []
        if q:
            pattern = f"%{q.lower()}%"
            conditions.append(
                or_(func.lower(Item.sku).like(pattern), func.lower(Item.name).like(pattern))
            )
        if category:
            conditions.append(Item.category == category)
        if supplier_id is not None:
            conditions.append(Item.supplier_id == supplier_id)
        if active is not None:
            conditions.append(Item.active.is_(active))
        total = db_session.scalar(select(func.count()).select_from(Item).where(*conditions)) or 0
        rows = db_session.execute(
            select(Item, Supplier)
            .join(Supplier, Supplier.id == Item.supplier_id)
            .where(*conditions)
            .order_by(Item.sku)
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        return Page(
            items=[catalogue.item_out(i, s) for i, s in rows],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )

    @get("/{sku:str}", guards=[can_read], sync_to_thread=True, summary="One item")
    def get_one(self, sku: PathKey, db_session: Session) -> ItemOut:
        item = catalogue.get_item(db_session, sku)
        return catalogue.item_out(item, db_session.get(Supplier, item.supplier_id))

    @patch("/{sku:str}", guards=[can_edit_catalogue], sync_to_thread=True, summary="Change an item")
    def update(
        self, sku: PathKey, data: ItemUpdate, db_session: Session, me: CurrentUser
    ) -> ItemOut:
        item = catalogue.update_item(db_session, actor=me.username, sku=sku, data=data)
        return catalogue.item_out(item, db_session.get(Supplier, item.supplier_id))

    @put(
        "/{sku:str}/par-levels/{location_code:str}",
        guards=[can_edit_catalogue],
        sync_to_thread=True,
        summary="Set an item's par level (and reorder point) at a location",
        description="The reorder point defaults to half the par level, rounded up.",
    )
    def set_par_level(
        self,
        sku: PathKey,
        location_code: PathKey,
        data: ParLevelSet,
        db_session: Session,
        me: CurrentUser,
    ) -> ParLevelOut:
        return catalogue.set_par_level(
            db_session,
            actor=me.username,
            sku=sku,
            location_code=location_code,
            par_level=data.par_level,
            reorder_point=data.reorder_point,
        )


class StockController(Controller):
    path = "/api/v1/stock"
    tags = ["inventory"]

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED, summary="Stock levels")
    def list_stock(
        self,
        db_session: Session,
        page: PageParams,
        location: Annotated[str | None, Parameter(pattern=CODE_PATTERN)] = None,
        sku: Annotated[str | None, Parameter(pattern=SKU_PATTERN)] = None,
        below_reorder: Annotated[
            bool, Parameter(description="Only rows at or below their reorder point")
        ] = False,
    ) -> Page[StockRow]:
        rows, total = ledger.stock_rows(
            db_session,
            location=location,
            sku=sku,
            below_reorder=below_reorder,
            limit=page.limit,
            offset=page.offset,
        )
        return Page(items=rows, total=total, limit=page.limit, offset=page.offset)

    @get(
        "/expiring",
        guards=[can_read],
        sync_to_thread=True,
        dependencies=PAGED,
        summary="Lots on hand expiring within N days (expired ones included)",
    )
    def expiring(
        self,
        db_session: Session,
        page: PageParams,
        state: State,
        within_days: Annotated[int, Parameter(ge=0, le=3650)] = 30,
        location: Annotated[str | None, Parameter(pattern=CODE_PATTERN)] = None,
    ) -> Page[ExpiringRow]:
        rows, total = ledger.expiring_rows(
            db_session,
            today=clinic_today(state),
            within_days=within_days,
            location=location,
            limit=page.limit,
            offset=page.offset,
        )
        return Page(items=rows, total=total, limit=page.limit, offset=page.offset)

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
        sku: Annotated[str | None, Parameter(pattern=SKU_PATTERN)] = None,
        location: Annotated[str | None, Parameter(pattern=CODE_PATTERN)] = None,
        reference: Annotated[str | None, Parameter(max_length=64, pattern=PRINTABLE)] = None,
    ) -> Page[MovementRow]:
        conditions: list[Any] = []
        if sku:
            conditions.append(Item.sku == catalogue.normalize_sku(sku))
        if location:
            conditions.append(Location.code == catalogue.normalize_code(location))
        if reference:
            conditions.append(StockMovement.reference == reference)
        base = (
            select(StockMovement, Item.sku, Location.code)
            .join(Item, Item.id == StockMovement.item_id)
            .join(Location, Location.id == StockMovement.location_id)
            .where(*conditions)
        )
        total = db_session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = db_session.execute(
            base.order_by(StockMovement.id.desc()).limit(page.limit).offset(page.offset)
        ).all()
        return Page(
            items=[
                MovementRow(
                    id=m.id or 0, kind=m.kind, sku=s, location=c, lot=m.lot or None,
                    expires_on=m.expires_on, quantity=m.quantity, at=m.at, actor=m.actor,
                    reason=m.reason, reference=m.reference,
                )
                for m, s, c in rows
            ],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )  # fmt: skip

    @post(
        "/movements",
        guards=[can_move_stock],
        sync_to_thread=True,
        status_code=201,
        summary="Record a stock movement (receive, consume, transfer, count, adjust, discard)",
        description=(
            "Stock never goes negative (409 with the on-hand figure). `consume` without a lot "
            "takes the earliest-expiring unexpired lot first. Send an `Idempotency-Key` "
            "header to make retries safe."
        ),
    )
    def record_movement(
        self,
        data: MovementIn,
        db_session: Session,
        me: CurrentUser,
        state: State,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[MovementOut]:
        check_kind_allowed(me, data.kind)
        response = idempotency.respond(
            db_session,
            me=me,
            key=idempotency_key,
            scope="POST /api/v1/stock/movements",
            payload=data,
            status_code=201,
            action=lambda: ledger.record_movement(
                db_session, actor=me.username, data=data, today=clinic_today(state)
            ),
        )
        return committed(db_session, response)

    @post(
        "/receive-barcode",
        guards=[can_move_stock],
        sync_to_thread=True,
        status_code=201,
        summary="Receive stock by scanning its GS1 barcode (GTIN, lot, expiry)",
    )
    def receive_barcode(
        self,
        data: BarcodeReceive,
        db_session: Session,
        me: CurrentUser,
        state: State,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[MovementOut]:
        scanned = parse_supply_barcode(data.barcode)
        sku = db_session.scalar(select(Item.sku).where(Item.gtin == scanned.gtin))
        if sku is None:
            raise InvalidInput(
                f"No item has GTIN {scanned.gtin}; add the GTIN to the item first.",
                extra={
                    "gtin": scanned.gtin,
                    "errors": [{"field": "barcode", "message": "unknown GTIN", "source": "body"}],
                },
            )
        movement = MovementIn(
            kind="receive",
            sku=sku,
            location=data.location,
            quantity=data.quantity,
            lot=scanned.lot,
            expires_on=scanned.expires_on,
        )
        response = idempotency.respond(
            db_session,
            me=me,
            key=idempotency_key,
            scope="POST /api/v1/stock/receive-barcode",
            payload=data,
            status_code=201,
            action=lambda: ledger.record_movement(
                db_session, actor=me.username, data=movement, today=clinic_today(state)
            ),
        )
        return committed(db_session, response)

    @get(
        "/restock",
        guards=[can_read],
        sync_to_thread=True,
        summary="The daily restock round: what to bring from the supply room",
    )
    def restock(
        self,
        db_session: Session,
        state: State,
        from_location: Annotated[str, Parameter(pattern=CODE_PATTERN)] = "SUPPLY",
    ) -> RestockList:
        source = catalogue.get_location(db_session, from_location)
        return RestockList(
            from_location=source.code,
            items=ledger.restock_list(
                db_session, from_location=source.code, today=clinic_today(state)
            ),
        )

    @post(
        "/restock",
        guards=[can_restock],
        sync_to_thread=True,
        status_code=201,
        summary="Record a restock round as transfers (all lines or none)",
    )
    def record_restock(
        self,
        data: RestockRound,
        db_session: Session,
        me: CurrentUser,
        state: State,
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Response[RestockRoundOut]:
        def run() -> RestockRoundOut:
            reference, movements = ledger.record_restock_round(
                db_session,
                actor=me.username,
                from_location=data.from_location,
                lines=data.lines,
                today=clinic_today(state),
            )
            return RestockRoundOut(
                from_location=catalogue.normalize_code(data.from_location),
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


route_handlers: list[Any] = [
    SupplierController,
    LocationController,
    ItemController,
    StockController,
]
