"""Catalogue import benchmark: 2,000 items and 8,000 par levels through HTTP.

The synthetic catalogue of `tests/inventory/import_factories.py` (8 suppliers, 8 rooms, `$1,234.50`
money, a BOM) is posted to the real app (`steristock serve`, Granian, 1 worker) per
database, one request at a time, timing whole requests from the client:

- first import (every row created: suppliers, items, locations, par levels, and one
  audit entry per row plus a summary);
- a dry run of files changing every row (reads only);
- the same files again (every row unchanged: only the summary entry);
- files changing every item's cost and every par level (every row updated);
- both exports (`GET /api/v1/items.csv`, `GET /api/v1/par-levels.csv`).

The bound is 5 s for items + par levels (the two requests together); the test
`tests/test_catalogue_import_speed.py` asserts it on every run.

Usage: python scripts/bench.py import [--backend sqlite|postgres|both] (always the full
2,000 items, whatever `--scale`; each run starts from an empty database).
"""

from __future__ import annotations

import sys
import time

import benchkit
import httpx

sys.path.insert(0, str(benchkit.ROOT))

from tests.inventory.import_factories import synthetic_catalogue

ITEMS = 2000
LOCATIONS_PER_ITEM = 4


def post(client: httpx.Client, path: str, content: bytes, *, dry_run: bool = False) -> float:
    start = time.perf_counter()
    response = client.post(
        path,
        params={"dry_run": "true"} if dry_run else None,
        files={"file": ("upload.csv", content, "text/csv")},
    )
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.text[:500]}")
    return elapsed


def both(client: httpx.Client, items: bytes, par: bytes, *, dry_run: bool = False) -> float:
    """Seconds for the items file and then the par-levels file, as the clinic sends them."""
    return post(client, "/api/v1/items/import", items, dry_run=dry_run) + post(
        client, "/api/v1/par-levels/import", par, dry_run=dry_run
    )


def run_backend(backend: str, url: str, items_count: int) -> list[benchkit.Figure]:
    if url.startswith("postgresql"):
        benchkit.reset_postgres(url)
    else:
        benchkit.remove_sqlite(url)
    benchkit.migrate(url)
    username, password = benchkit.ensure_user(url, role="purchasing")
    items, par = synthetic_catalogue(items_count, LOCATIONS_PER_ITEM)
    changed_items, changed_par = synthetic_catalogue(items_count, LOCATIONS_PER_ITEM, cost_cents=7)
    with benchkit.serve(url) as base_url:
        headers = benchkit.login(base_url, username, password)
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
            first = both(client, items, par)
            dry = both(client, changed_items, changed_par, dry_run=True)
            same = both(client, items, par)
            changed = both(client, changed_items, changed_par)
            start = time.perf_counter()
            for path in ("/api/v1/items.csv", "/api/v1/par-levels.csv"):
                client.get(path).raise_for_status()
            exports = time.perf_counter() - start

    def figure(name: str, seconds: float, **target: object) -> benchkit.Figure:
        return benchkit.Figure(name, backend, round(seconds, 2), "s", **target)  # type: ignore[arg-type]

    return [
        figure("first import, items + par levels (all created)", first, target=5, comparison="<"),
        figure("every row changed", changed, target=5, comparison="<"),
        figure("dry run, every row changed", dry),
        figure("same files again (all unchanged)", same),
        figure("both exports (items.csv + par-levels.csv)", exports),
    ]


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    items_count = ITEMS  # the bound is for this size; it loads in seconds at any scale
    figures: list[benchkit.Figure] = []
    for backend, url in ctx.urls("import"):
        figures += run_backend(backend, url, items_count)
    return benchkit.ScenarioResult(
        dataset=f"{items_count:,} items from 8 suppliers and "
        f"{items_count * LOCATIONS_PER_ITEM:,} par levels, posted over HTTP one request at a "
        "time (BOM, `$1,234.50` money)",
        figures=figures,
    )
