"""A synthetic clinic-group catalogue for the import's speed test and benchmark: N items
from 8 suppliers and 4 par levels per item (8 rooms), as the export writes them."""

from __future__ import annotations

import io

ITEM_HEADER = (
    "sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,lead_time_days,"
    "min_order_qty,lot_tracked,category"
)
ROOMS = ("SUPPLY", "EXAM1", "EXAM2", "EXAM3", "PROC1", "PROC2", "LAB", "STERI")


def gtin14(number: int) -> str:
    body = f"2061414{number:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def synthetic_catalogue(
    items: int = 2000, pars_per_item: int = 4, *, cost_cents: int = 0, money: str = "${:,.2f}"
) -> tuple[bytes, bytes]:
    """(items CSV, par-levels CSV). A different `cost_cents` changes every item's cost,
    so a re-import updates every row."""
    out = io.StringIO()
    out.write("\ufeff" + ITEM_HEADER + "\r\n")
    for n in range(items):
        cost = (n % 5000) / 100 + 0.05 + cost_cents / 100
        out.write(
            f'BENCH-{n:05d},"Synthetic supply {n}, sterile",box,{1 + n % 100},'
            f'Supplier {n % 8},V{n:06d},"{money.format(cost)}",{gtin14(n)},{n % 30},'
            f"{n % 4},{'yes' if n % 3 == 0 else 'no'},Category {n % 12}\r\n"
        )
    par = io.StringIO()
    par.write("sku,location,par_level,reorder_point\r\n")
    for n in range(items):
        for k in range(pars_per_item):
            room = ROOMS[(n + k) % len(ROOMS)]
            level = 4 + (n + k) % 40
            point = "" if k % 2 else str(level // 3)
            par.write(f"BENCH-{n:05d},{room},{level + cost_cents},{point}\r\n")
    return out.getvalue().encode(), par.getvalue().encode()
