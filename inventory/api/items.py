"""`/api/v1/items`: the catalogue's items (the search is `inventory.search`'s)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import Parameter
from sqlalchemy.orm import Session

from inventory import catalogue, lookups, search
from inventory.api.params import PAGED
from inventory.models import Supplier
from inventory.responses import item_out
from inventory.roles import can_keep_catalogue, can_read
from inventory.schemas.catalogue import ItemCreate, ItemOut, ItemUpdate
from kernel.auth.service import CurrentUser
from kernel.fields import MAX_ID, PRINTABLE, PathKey
from kernel.pagination import Page, PageParams


class ItemController(Controller):
    path = "/api/v1/items"
    tags = ["inventory"]

    @post("/", guards=[can_keep_catalogue], sync_to_thread=True, summary="Add an item")
    def create_item(self, data: ItemCreate, db_session: Session, me: CurrentUser) -> ItemOut:
        item = catalogue.create_item(db_session, actor=me.username, data=data)
        return item_out(item, db_session.get(Supplier, item.supplier_id))

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED, summary="Items")
    def list_items(
        self,
        db_session: Session,
        page: PageParams,
        q: Annotated[
            str | None,
            Parameter(
                max_length=100,
                pattern=PRINTABLE,
                description="Text in the SKU, name, vendor SKU or GTIN (any case; % and _ "
                "are plain characters)",
            ),
        ] = None,
        category: Annotated[str | None, Parameter(max_length=64, pattern=PRINTABLE)] = None,
        supplier_id: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
        active: bool | None = None,
    ) -> Page[ItemOut]:
        status = "all" if active is None else "active" if active else "inactive"
        found = search.ItemFilter(
            q=q or "", supplier_id=supplier_id, category=category or "", status=status
        )
        rows, total = search.find_items(db_session, found, limit=page.limit, offset=page.offset)
        return Page([item_out(i, s) for i, s in rows], total, page.limit, page.offset)

    @get("/{sku:str}", guards=[can_read], sync_to_thread=True, summary="One item")
    def get_item(self, sku: PathKey, db_session: Session) -> ItemOut:
        item = lookups.get_item(db_session, sku)
        return item_out(item, db_session.get(Supplier, item.supplier_id))

    @patch("/{sku:str}", guards=[can_keep_catalogue], sync_to_thread=True, summary="Change an item")
    def update_item(
        self, sku: PathKey, data: ItemUpdate, db_session: Session, me: CurrentUser
    ) -> ItemOut:
        item = catalogue.update_item(db_session, actor=me.username, sku=sku, data=data)
        return item_out(item, db_session.get(Supplier, item.supplier_id))
