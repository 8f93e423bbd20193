"""Inventory's HTTP API, one module per resource:

| module | routes |
|---|---|
| `suppliers` | `/api/v1/suppliers[/{id}]` |
| `order_formats` | `/api/v1/suppliers/{id}/order-format` |
| `locations` | `/api/v1/locations[/{code}]` |
| `items` | `/api/v1/items[/{sku}]` |
| `par_levels` | `GET/PUT /api/v1/items/{sku}/par-levels/{code}` |
| `packagings` | `/api/v1/items/{sku}/packagings[/{id}]` |
| `stock` | `/api/v1/stock`, `/api/v1/stock/expiring` |
| `movements` | `/api/v1/stock/movements[/{id}]`, `POST /api/v1/stock/receive-barcode` |
| `restock` | `/api/v1/stock/restock` |
| `reorder` | `/api/v1/reorder/suggestions[.csv]`, `/api/v1/reorder/par-review` |
| `purchase_orders` | `/api/v1/purchase-orders[/...]` |
| `labels` | `/api/v1/labels/bins.pdf` |
| `catalogue_import` | `/api/v1/{items,par-levels,packagings}/import` and `.csv` |

Handlers are named `verb_resource` (the OpenAPI operationId); they hold no SQL.
"""

from __future__ import annotations

from typing import Any

from inventory.api import (
    catalogue_import,
    items,
    labels,
    locations,
    movements,
    order_formats,
    packagings,
    par_levels,
    purchase_orders,
    reorder,
    restock,
    stock,
    suppliers,
)

route_handlers: list[Any] = [
    suppliers.SupplierController,
    order_formats.OrderFormatController,
    locations.LocationController,
    items.ItemController,
    par_levels.ParLevelController,
    packagings.PackagingController,
    stock.StockController,
    movements.MovementController,
    restock.RestockController,
    reorder.ReorderController,
    purchase_orders.PurchaseOrderController,
    labels.BinLabelController,
    catalogue_import.import_items,
    catalogue_import.import_par_levels,
    catalogue_import.download_items_csv,
    catalogue_import.download_par_levels_csv,
    catalogue_import.import_packagings,
    catalogue_import.download_packagings_csv,
]
