"""Inventory benchmark: consume throughput and stock look-up latency at clinic-group size.

Dataset (generated with set-based SQL, never through the API): 20,000 items, 10 locations,
every item stocked at every location (200,000 stock levels), 20% of items lot-tracked with
two lots, and 2,000,000 ledger movements over the past year whose sums equal the balances.

Measured through the real HTTP app (`steristock serve`, Granian) with wrk, per database:
- `GET /api/v1/users/me` (baseline: auth + one query), 16 connections;
- `POST /api/v1/stock/movements` consume of 1 unit, cycling over 4,000 item/location pairs,
  16 connections: movements per second and the ratio to the baseline;
- `GET /api/v1/stock?sku=` for random SKUs: p50/p99 at 16 and at 4 connections.

Usage: python scripts/bench.py inventory [--sqlite-only|--postgres-only] [--duration N]
       [--workers N] [--regenerate]
PostgreSQL: BENCH_INVENTORY_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/bench_inventory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import benchkit
from sqlalchemy import create_engine, text

ITEMS = 20_000
LOCATIONS = 10
MOVEMENTS = 2_000_000
LOT_TRACKED_EVERY = 5  # 20% of items
SQLITE_PATH = Path(
    os.environ.get("BENCH_INVENTORY_SQLITE", Path(tempfile.gettempdir()) / "bench_inventory.db")
)
POSTGRES_URL = os.environ.get(
    "BENCH_INVENTORY_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_inventory"
)
MARKER = "bench_inventory_v1"


def location_codes() -> list[str]:
    return ["SUPPLY", *[f"EXAM{i}" for i in range(1, LOCATIONS - 1)], "STERILE"]


def sku(i: int) -> str:
    return f"BN-{i:06d}"


def generate() -> dict[str, list[tuple]]:
    """All rows, deterministic. Each (item, location) gets 10 movements on average."""
    rng = random.Random(42)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.date()
    created = now.isoformat()
    suppliers = [(i, f"Bench supplier {i}", None, None, None, 3 + i, created) for i in (1, 2, 3)]
    locations = [
        (i + 1, code, code.title(), True, created) for i, code in enumerate(location_codes())
    ]
    items = []
    for i in range(1, ITEMS + 1):
        lot_tracked = i % LOT_TRACKED_EVERY == 0
        items.append(
            (i, sku(i), f"Bench consumable {i}", "each", 100, 1 + i % 3, None,
             (i % 500 + 1) * 100, None, None, 0, lot_tracked, "bench", True, created, created)
        )  # fmt: skip
    levels, lots, movements = [], [], []
    pairs = ITEMS * LOCATIONS
    per_pair = MOVEMENTS // pairs
    level_id = lot_id = move_id = 0
    for item_id in range(1, ITEMS + 1):
        lot_tracked = item_id % LOT_TRACKED_EVERY == 0
        for loc_id in range(1, LOCATIONS + 1):
            level_id += 1
            lot_names = [f"L{item_id}A", f"L{item_id}B"] if lot_tracked else [""]
            balances = {}
            expiry = {}
            for n, lot in enumerate(lot_names):
                exp = today + dt.timedelta(days=200 + 200 * n) if lot_tracked else None
                expiry[lot] = exp
                qty = 100_000
                balances[lot] = qty
                move_id += 1
                at = now - dt.timedelta(days=365, minutes=rng.randint(0, 1440))
                movements.append((move_id, "receive", item_id, loc_id, lot, exp, qty, at,
                                  "bench", None, f"r{move_id}"))  # fmt: skip
            for _ in range(per_pair - len(lot_names)):
                lot = lot_names[0]
                q = rng.randint(1, 20)
                balances[lot] -= q
                move_id += 1
                at = now - dt.timedelta(minutes=rng.randint(0, 364 * 1440))
                movements.append((move_id, "consume", item_id, loc_id, lot, expiry[lot], -q, at,
                                  "bench", None, f"c{move_id}"))  # fmt: skip
            for lot in lot_names:
                lot_id += 1
                lots.append((lot_id, item_id, loc_id, lot, expiry[lot], balances[lot]))
            par = 50 + item_id % 100
            levels.append((level_id, item_id, loc_id, sum(balances.values()), par, (par + 1) // 2))
    return {
        "suppliers": suppliers,
        "locations": locations,
        "items": items,
        "stock_levels": levels,
        "stock_lots": lots,
        "stock_movements": movements,
    }


COLUMNS = {
    "suppliers": "id, name, account_number, email, phone, lead_time_days, created_at",
    "locations": "id, code, name, active, created_at",
    "items": "id, sku, name, unit, pack_size, supplier_id, vendor_sku, unit_cost, gtin, "
    "lead_time_days, min_order_qty, lot_tracked, category, active, created_at, updated_at",
    "stock_levels": "id, item_id, location_id, on_hand, par_level, reorder_point",
    "stock_lots": "id, item_id, location_id, lot, expires_on, quantity",
    "stock_movements": "id, kind, item_id, location_id, lot, expires_on, quantity, at, actor, "
    "reason, reference",
}


def _sqlite_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and value[:4].isdigit() and "T" in value and value.endswith("+00:00"):
        return value.replace("T", " ").removesuffix("+00:00")
    return value


def load_sqlite(path: Path, rows: dict[str, list[tuple]]) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    benchkit.migrate(url)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    for table, data in rows.items():
        marks = ",".join("?" * len(data[0]))
        conn.executemany(
            f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})",  # noqa: S608
            ([_sqlite_value(v) for v in row] for row in data),
        )
    conn.execute(f"CREATE TABLE {MARKER} (done INTEGER)")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _copy_lines(data: list[tuple]) -> Iterator[tuple]:
    for row in data:
        yield tuple(v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for v in row)


def load_postgres(url: str, rows: dict[str, list[tuple]]) -> None:
    benchkit.reset_postgres(url)
    benchkit.migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            for table, data in rows.items():
                with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    for row in _copy_lines(data):
                        copy.write_row(row)
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            cur.execute(f"CREATE TABLE {MARKER} (done INTEGER)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def has_dataset(url: str) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text(f"SELECT 1 FROM {MARKER}"))  # noqa: S608
            count = conn.execute(text("SELECT count(*) FROM stock_movements")).scalar()
        engine.dispose()
        return count == MOVEMENTS
    except Exception:
        return False


def ensure_postgres_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def consume_bodies(count: int = 4000) -> list[str]:
    rng = random.Random(7)
    codes = location_codes()
    return [
        json.dumps(
            {
                "kind": "consume",
                "sku": sku(rng.randint(1, ITEMS)),
                "location": codes[rng.randint(1, LOCATIONS - 1)],
                "quantity": 1,
            }
        )
        for _ in range(count)
    ]


def stock_paths(count: int = 2000) -> list[str]:
    rng = random.Random(11)
    return [f"/api/v1/stock?sku={sku(rng.randint(1, ITEMS))}" for _ in range(count)]


def run_backend(name: str, url: str, args: argparse.Namespace) -> list[benchkit.LoadResult]:
    username, password = benchkit.ensure_user(url)
    results = []
    with benchkit.serve(url, workers=args.workers) as base:
        headers = benchkit.login(base, username, password)
        d = args.duration
        # warm-up (imports, pools, caches)
        benchkit.wrk(base, label="warmup", paths=["/api/v1/users/me"], headers=headers,
                     duration=2)  # fmt: skip
        results.append(benchkit.baseline(base, headers, connections=16, duration=d))
        results.append(
            benchkit.wrk(
                base, label=f"{name} POST /stock/movements consume (16 conns)",
                paths=["/api/v1/stock/movements"], method="POST", bodies=consume_bodies(),
                headers=headers, connections=16, duration=d,
            )
        )  # fmt: skip
        for conns in (16, 4):
            results.append(
                benchkit.wrk(
                    base, label=f"{name} GET /stock?sku= ({conns} conns)",
                    paths=stock_paths(), headers=headers, connections=conns, duration=d,
                )
            )  # fmt: skip
    results[0].label = f"{name} GET /users/me baseline (16 conns)"
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.py inventory")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    backends = []
    if not args.postgres_only:
        backends.append(("SQLite", f"sqlite:///{SQLITE_PATH}"))
    if not args.sqlite_only:
        ensure_postgres_database(POSTGRES_URL)
        backends.append(("PostgreSQL", POSTGRES_URL))
    rows = None
    for name, url in backends:
        if args.regenerate or not has_dataset(url):
            if rows is None:
                started = time.monotonic()
                rows = generate()
                print(f"generated rows in {time.monotonic() - started:.1f}s")
            started = time.monotonic()
            if name == "SQLite":
                load_sqlite(SQLITE_PATH, rows)
            else:
                load_postgres(url, rows)
            print(f"loaded {name} dataset in {time.monotonic() - started:.1f}s")
    rows = None
    summary = []
    for name, url in backends:
        results = run_backend(name, url, args)
        base, consume = results[0], results[1]
        for r in results:
            print(r.line())
        print(
            f"{name}: consume {consume.requests_per_sec:,.0f}/s = "
            f"{consume.requests_per_sec / base.requests_per_sec:.2f}x baseline "
            f"({base.requests_per_sec:,.0f}/s)"
        )
        summary.extend(results)
    out = Path(
        os.environ.get("BENCH_INVENTORY_JSON", Path(tempfile.gettempdir()) / "bench_inventory.json")
    )
    out.write_text(benchkit.as_json(summary))
    print(f"raw figures: {out}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
