"""Inventory's HTML pages, one module per page resource:

| module | pages |
|---|---|
| `bins` | `/b/{location}/{sku}` (the tablet page a bin label opens) |
| `items` | `/catalogue/items[/new, /{sku}]` |
| `packagings` | `/catalogue/packagings[/{id}/remove]` (forms on the item page) |
| `par_levels` | `/catalogue/par-levels` |
| `suppliers` | `/catalogue/suppliers[/{id}]` (the page itself: `supplier_page`) |
| `order_formats` | `/catalogue/suppliers/{id}/order-format` (the supplier page's layout form) |
| `locations` | `/catalogue/locations[/{code}]` |
| `catalogue_import` | `/catalogue/import[/confirm, /items.csv, /par-levels.csv, /packagings.csv]` |
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
    order_formats,
    packagings,
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
    *packagings.page_handlers,
    *par_levels.page_handlers,
    *suppliers.page_handlers,
    *order_formats.page_handlers,
    *locations.page_handlers,
    *catalogue_import.page_handlers,
]
