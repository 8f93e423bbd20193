"""Query and path parameters the inventory API shares, and its paging dependency."""

from __future__ import annotations

from typing import Annotated

from litestar.di import Provide
from litestar.params import Parameter

from kernel.fields import MAX_ID
from kernel.pagination import provide_page_params

CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,20}$"
SKU_PATTERN = r"^[A-Za-z0-9_./-]{1,40}$"

PAGED = {"page": Provide(provide_page_params, sync_to_thread=False)}
CodeQuery = Annotated[str | None, Parameter(pattern=CODE_PATTERN)]
SkuQuery = Annotated[str | None, Parameter(pattern=SKU_PATTERN)]
SupplierId = Annotated[int, Parameter(ge=1, le=MAX_ID)]
SupplierFilter = Annotated[
    int | None, Parameter(ge=1, le=MAX_ID, description="Only this supplier's items")
]
