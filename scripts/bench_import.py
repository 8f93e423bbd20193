"""Catalogue import benchmark: 2,000 items and 8,000 par levels through HTTP.

The synthetic catalogue of `tests/import_factories.py` (8 suppliers, 8 rooms, `$1,234.50`
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

Usage: python scripts/bench.py import [--sqlite-only|--postgres-only] [--items N]
PostgreSQL: BENCH_IMPORT_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/bench_import; its schema is dropped).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import benchkit
import httpx

sys.path.insert(0, str(benchkit.ROOT))

from tests.import_factories import synthetic_catalogue

POSTGRES_URL = os.environ.get(
    "BENCH_IMPORT_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_import"
)


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


def both(client: httpx.Client, items: bytes, par: bytes, *, dry_run: bool = False) -> str:
    a = post(client, "/api/v1/items/import", items, dry_run=dry_run)
    b = post(client, "/api/v1/par-levels/import", par, dry_run=dry_run)
    return f"{a + b:6.2f} s  (items {a:.2f} s + par levels {b:.2f} s)"


def run(label: str, url: str, items_count: int) -> None:
    if url.startswith("postgresql"):
        benchkit.reset_postgres(url)
    benchkit.migrate(url)
    username, password = benchkit.ensure_user(url, role="purchasing")
    items, par = synthetic_catalogue(items_count, 4)
    changed_items, changed_par = synthetic_catalogue(items_count, 4, cost_cents=7)
    print(f"\n{label}: {items_count} items, {items_count * 4} par levels "
          f"({len(items) // 1024} KiB + {len(par) // 1024} KiB)")  # fmt: skip
    with benchkit.serve(url) as base_url:
        headers = benchkit.login(base_url, username, password)
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
            print(f"  first import (all created)    {both(client, items, par)}")
            dry = both(client, changed_items, changed_par, dry_run=True)
            print(f"  dry run, every row changed    {dry}")
            print(f"  same files (all unchanged)    {both(client, items, par)}")
            print(f"  every row changed             {both(client, changed_items, changed_par)}")
            for path in ("/api/v1/items.csv", "/api/v1/par-levels.csv"):
                start = time.perf_counter()
                response = client.get(path)
                response.raise_for_status()
                print(f"  GET {path:<26} {time.perf_counter() - start:6.2f} s")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.py import")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--items", type=int, default=2000)
    args = parser.parse_args(argv)
    if not args.postgres_only:
        path = Path(tempfile.mkdtemp(prefix="bench-import-")) / "bench.db"
        run("SQLite", f"sqlite:///{path}", args.items)
    if not args.sqlite_only:
        run("PostgreSQL", POSTGRES_URL, args.items)


if __name__ == "__main__":
    main(sys.argv[1:])
