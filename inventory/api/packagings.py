"""`/api/v1/items/{sku}/packagings`: an item's packaging levels (box, case), each with its
own GTIN (the rules are `inventory.packagings`')."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from sqlalchemy.orm import Session

from inventory import packagings
from inventory.api.params import PAGED
from inventory.roles import can_keep_catalogue, can_read
from inventory.schemas.catalogue import PackagingCreate, PackagingOut, PackagingUpdate
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey, RowId
from kernel.pagination import Page, PageParams


class PackagingController(Controller):
    path = "/api/v1/items/{sku:str}/packagings"
    tags = ["inventory"]

    @post(
        "/",
        guards=[can_keep_catalogue],
        sync_to_thread=True,
        summary="Add a packaging level (its GTIN and how many units it holds)",
        description=(
            'A box of 100: `{gtin, units: 100, name: "box"}`. Receiving by a barcode with '
            "this GTIN counts packages of this level. GTINs are unique across every item's "
            "own GTIN (its 1-unit level) and every packaging level (409 when taken)."
        ),
    )
    def create_packaging(
        self, sku: PathKey, data: PackagingCreate, db_session: Session, me: CurrentUser
    ) -> PackagingOut:
        return packagings.add_packaging(db_session, actor=me.username, sku=sku, data=data)

    @get("/", guards=[can_read], sync_to_thread=True, dependencies=PAGED,
         summary="An item's packaging levels, smallest first")  # fmt: skip
    def list_packagings(
        self, sku: PathKey, db_session: Session, page: PageParams
    ) -> Page[PackagingOut]:
        rows = packagings.list_packagings(db_session, sku)
        return Page(rows[page.offset : page.offset + page.limit], len(rows), page.limit,
                    page.offset)  # fmt: skip

    @get("/{packaging_id:int}", guards=[can_read], sync_to_thread=True,
         summary="One packaging level")  # fmt: skip
    def get_packaging(self, sku: PathKey, packaging_id: RowId, db_session: Session) -> PackagingOut:
        return packagings.get_packaging(db_session, sku, packaging_id)

    @patch(
        "/{packaging_id:int}",
        guards=[can_keep_catalogue],
        sync_to_thread=True,
        summary="Rename a packaging level, or change its units while nothing was received in it",
    )
    def update_packaging(
        self,
        sku: PathKey,
        packaging_id: RowId,
        data: PackagingUpdate,
        db_session: Session,
        me: CurrentUser,
    ) -> PackagingOut:
        return packagings.update_packaging(
            db_session, actor=me.username, sku=sku, packaging_id=packaging_id, data=data
        )

    @delete(
        "/{packaging_id:int}",
        guards=[can_keep_catalogue],
        sync_to_thread=True,
        summary="Remove a packaging level nothing was received in (409 otherwise)",
    )
    def delete_packaging(
        self, sku: PathKey, packaging_id: RowId, db_session: Session, me: CurrentUser
    ) -> None:
        packagings.remove_packaging(
            db_session, actor=me.username, sku=sku, packaging_id=packaging_id
        )
