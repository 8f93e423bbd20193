"""Loading the catalogue from the CSV files a clinic brings (and giving them back).

Two files, in the column formats the export writes, so export → edit in a spreadsheet →
import is a round trip:

- items: ``sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,lead_time_days,
  min_order_qty,lot_tracked,category`` (supplier by name, created if new);
- par levels: ``sku,location,par_level,reorder_point`` (location by code, created if new;
  a blank reorder point is half the par level, rounded up, as the PUT endpoint does);
- packagings: ``sku,gtin,units,name`` (a packaging level by its GTIN: created if new,
  its units and name updated; never removed by an import).

An import is all or nothing. Every row is checked first (and every problem of every row
is reported with its spreadsheet row number, the header being row 1); only a file without
problems is written, in the caller's transaction. The writes are set-based (one
executemany per table) because the ORM's per-object path took several seconds for a
2,000-item catalogue; each created or changed row still gets the same audit entry the API
writes (`item.create`, `item.update`, `item.par_level`, ...), plus one `catalogue.import`
summary entry naming the files' SHA-256.

Spreadsheet output is accepted as it comes: UTF-8 with or without BOM, comma or semicolon
(sniffed from the header), CRLF, `$1,234.50` / `1234.5` / `1.234,50` money,
`yes/no/true/false/1/0/y/n` booleans, blank optional cells, trailing blank rows, and the
leading apostrophe the export puts before cells a spreadsheet would run as formulas.

Modules, in the order an import runs: `reading` (the CSV as a table of strings), `rows`
(cells to typed values), `planning` (compared with the catalogue), `writing`, `importer`
(`import_catalogue`, the report); `export` writes the files back out.
"""

from inventory.catalogue_import.export import (
    items_csv,
    items_frame,
    packagings_csv,
    packagings_frame,
    par_levels_csv,
    par_levels_frame,
)
from inventory.catalogue_import.importer import import_catalogue
from inventory.catalogue_import.reading import (
    ITEM_COLUMNS,
    MAX_UPLOAD_BYTES,
    PACKAGING_COLUMNS,
    PAR_COLUMNS,
    ImportRejected,
    UploadTooLarge,
)

__all__ = [
    "ITEM_COLUMNS",
    "MAX_UPLOAD_BYTES",
    "PACKAGING_COLUMNS",
    "PAR_COLUMNS",
    "ImportRejected",
    "UploadTooLarge",
    "import_catalogue",
    "items_csv",
    "items_frame",
    "packagings_csv",
    "packagings_frame",
    "par_levels_csv",
    "par_levels_frame",
]
