"""Inventory's HTML pages, one module per page resource:

| module | pages |
|---|---|
| `bins` | `/b/{location}/{sku}` (the tablet page a bin label opens) |
| `items` | `/catalogue/items[/new, /{sku}]` |
| `par_levels` | `/catalogue/par-levels` |
| `suppliers` | `/catalogue/suppliers[/{id}]` |
| `locations` | `/catalogue/locations[/{code}]` |
| `catalogue_import` | `/catalogue/import[/confirm, /items.csv, /par-levels.csv]` |
| `purchasing` | `/purchasing`, `/purchasing/reorder.csv`, `/purchasing/from-suggestions` |
| `purchase_orders` | `/purchasing/orders[/new, /{id}, /{id}/submit, /{id}/receive]` |

Every form post goes through `kernel.web.forms.submit_form`.
"""

from __future__ import annotations

from typing import Any

from inventory.pages import (
    bins,
    catalogue_import,
    items,
    locations,
    par_levels,
    purchase_orders,
    purchasing,
    suppliers,
)

page_handlers: list[Any] = [
    *bins.page_handlers,
    *purchasing.page_handlers,
    *purchase_orders.page_handlers,
    *items.page_handlers,
    *par_levels.page_handlers,
    *suppliers.page_handlers,
    *locations.page_handlers,
    *catalogue_import.page_handlers,
]
