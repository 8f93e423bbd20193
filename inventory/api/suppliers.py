"""`/api/v1/suppliers`: who the clinic orders from."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from sqlalchemy.orm import Session

from inventory import catalogue, catalogue_queries, lookups
from inventory.api.params import PAGED, SupplierId
from inventory.responses import supplier_out
from inventory.roles import can_keep_catalogue, can_read
from inventory.schemas.catalogue import SupplierCreate, SupplierOut, SupplierUpdate
from kernel.auth.service import CurrentUser
from kernel.pagination import Page, PageParams


class SupplierController(Controller):
    path = "/api/v1/suppliers"
    tags = ["inventory"]

    @post("/", guards=[can_keep_catalogue], sync_to_thread=True, summary="Add a supplier")
    def create_supplier(
        self, data: SupplierCreate, db_session: Session, me: CurrentUser
    ) -> SupplierOut:
        return supplier_out(catalogue.create_supplier(db_session, actor=me.username, data=data))

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED, summary="Suppliers")
    def list_suppliers(self, db_session: Session, page: PageParams) -> Page[SupplierOut]:
        rows, total = catalogue_queries.list_suppliers(
            db_session, limit=page.limit, offset=page.offset
        )
        return Page([supplier_out(s) for s in rows], total, page.limit, page.offset)

    @get("/{supplier_id:int}", guards=[can_read], sync_to_thread=True, summary="One supplier")
    def get_supplier(self, supplier_id: SupplierId, db_session: Session) -> SupplierOut:
        return supplier_out(lookups.get_supplier(db_session, supplier_id))

    @patch(
        "/{supplier_id:int}",
        guards=[can_keep_catalogue],
        sync_to_thread=True,
        summary="Change a supplier",
    )
    def update_supplier(
        self, supplier_id: SupplierId, data: SupplierUpdate, db_session: Session, me: CurrentUser
    ) -> SupplierOut:
        return supplier_out(
            catalogue.update_supplier(
                db_session, actor=me.username, supplier_id=supplier_id, data=data
            )
        )
