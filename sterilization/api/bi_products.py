"""`/api/v1/bi-products`: biological indicator products and their minimum incubation
(adding one is the admin's; everyone reads)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import Provide
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role
from kernel.auth.service import CurrentUser
from kernel.fields import PathKey
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from sterilization import bi_products
from sterilization.responses import bi_product_out
from sterilization.schemas import BiProductCreate, BiProductOut


class BiProductController(Controller):
    path = "/api/v1/bi-products"
    tags = ["sterilization"]
    dependencies = {"page": Provide(provide_page_params, sync_to_thread=False)}

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Add a BI product (admin)")
    def create_bi_product(
        self, data: BiProductCreate, db_session: Session, me: CurrentUser
    ) -> BiProductOut:
        product = bi_products.create_bi_product(
            db_session,
            code=data.code,
            name=data.name,
            manufacturer=data.manufacturer,
            min_incubation_minutes=data.min_incubation_minutes,
            actor=me.username,
        )
        return bi_product_out(product)

    @get("/", guards=[any_role], sync_to_thread=True, summary="BI products")
    def list_bi_products(self, db_session: Session, page: PageParams) -> Page[BiProductOut]:
        return paginate(db_session, bi_products.bi_products_by_code(), page, bi_product_out)

    @get("/{code:str}", guards=[any_role], sync_to_thread=True, summary="One BI product")
    def get_bi_product(self, code: PathKey, db_session: Session) -> BiProductOut:
        return bi_product_out(bi_products.get_bi_product(db_session, code))
