"""Inventory benchmark: consume throughput and stock look-up latency at clinic-group size.

Dataset (generated with set-based SQL, never through the API): 20,000 items, 10 locations,
every item stocked at every location (200,000 stock levels), 20% of items lot-tracked with
two lots, and 2,000,000 ledger movements over the past year whose sums equal the balances.

Measured through the real HTTP app (`steristock serve`, Granian) with wrk, per database:
- `GET /api/v1/users/me` (baseline: auth + one query), 16 connections;
- `POST /api/v1/stock/movements` consume of 1 unit, cycling over 4,000 item/location pairs,
  16 connections: movements per second and the ratio to the baseline;
- `GET /api/v1/stock?sku=` for random SKUs: p50/p99 at 16 and at 4 connections.

Targets: consumes with 16 clients at least 1,000/s on SQLite and 600/s on PostgreSQL
(issue 22; issue 3 asked 600 on both), 0 errors and the ledger exact afterwards; p99 of
the stock look-up under 20 ms. `--scale` shrinks items and movements together (10 movements
per item and location at any scale).

Usage: python scripts/bench.py inventory [--scale F] [--duration S] [--backend B]
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import benchkit
from sqlalchemy import create_engine, text

ITEMS = 20_000  # at scale 1
LOCATIONS = 10
MOVEMENTS = 2_000_000  # at scale 1
LOT_TRACKED_EVERY = 5  # 20% of items
MARKER = "bench_inventory_v1"
CONSUME_TARGET = {"SQLite": 1_000, "PostgreSQL": 600}  # consumes/s, 16 clients (issue 22)


@dataclass(frozen=True)
class Shape:
    items: int
    movements: int

    @classmethod
    def at(cls, scale: float) -> Shape:
        items = max(100, round(ITEMS * scale))
        return cls(items=items, movements=items * LOCATIONS * (MOVEMENTS // (ITEMS * LOCATIONS)))


def location_codes() -> list[str]:
    return ["SUPPLY", *[f"EXAM{i}" for i in range(1, LOCATIONS - 1)], "STERILE"]


def sku(i: int) -> str:
    return f"BN-{i:06d}"


def generate(shape: Shape) -> dict[str, list[tuple]]:
    """All rows, deterministic. Each (item, location) gets 10 movements on average."""
    rng = random.Random(42)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.date()
    created = now.isoformat()
    suppliers = [(i, f"Bench supplier {i}", None, None, None, 3 + i, created) for i in (1, 2, 3)]
    locations = [
        (i + 1, code, code.title(), True, created, benchkit.MAIN_SITE_ID)
        for i, code in enumerate(location_codes())
    ]
    items = []
    for i in range(1, shape.items + 1):
        lot_tracked = i % LOT_TRACKED_EVERY == 0
        items.append(
            (i, sku(i), f"Bench consumable {i}", "each", 100, 1 + i % 3, None,
             (i % 500 + 1) * 100, None, None, 0, lot_tracked, "bench", True, created, created)
        )  # fmt: skip
    levels, lots, movements = [], [], []
    pairs = shape.items * LOCATIONS
    per_pair = shape.movements // pairs
    level_id = lot_id = move_id = 0
    for item_id in range(1, shape.items + 1):
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
                                  "bench", None, f"r{move_id}", at, 0,
                                  sum(balances.values())))  # fmt: skip
            for _ in range(per_pair - len(lot_names)):
                lot = lot_names[0]
                q = rng.randint(1, 20)
                balances[lot] -= q
                move_id += 1
                at = now - dt.timedelta(minutes=rng.randint(0, 364 * 1440))
                movements.append((move_id, "consume", item_id, loc_id, lot, expiry[lot], -q, at,
                                  "bench", None, f"c{move_id}", at, q,
                                  sum(balances.values())))  # fmt: skip
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
    "locations": "id, code, name, active, created_at, site_id",
    "items": "id, sku, name, unit, pack_size, supplier_id, vendor_sku, unit_cost, gtin, "
    "lead_time_days, min_order_qty, lot_tracked, category, active, created_at, updated_at",
    "stock_levels": "id, item_id, location_id, on_hand, par_level, reorder_point",
    "stock_lots": "id, item_id, location_id, lot, expires_on, quantity",
    "stock_movements": "id, kind, item_id, location_id, lot, expires_on, quantity, at, actor, "
    "reason, reference, recorded_at, used, on_hand_after",
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
    benchkit.check_main_site(url)
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
    conn.execute(benchkit.FORGET_PENDING_SEALS)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def _copy_lines(data: list[tuple]) -> Iterator[tuple]:
    for row in data:
        yield tuple(v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for v in row)


def load_postgres(url: str, rows: dict[str, list[tuple]]) -> None:
    benchkit.reset_postgres(url)
    benchkit.migrate(url)
    benchkit.check_main_site(url)
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
            cur.execute(benchkit.FORGET_PENDING_SEALS)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def has_dataset(url: str, shape: Shape) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text(f"SELECT 1 FROM {MARKER}"))  # noqa: S608
            count = conn.execute(text("SELECT count(*) FROM stock_movements")).scalar()
            items = conn.execute(text("SELECT count(*) FROM items")).scalar()
        engine.dispose()
        return items == shape.items and count >= shape.movements  # runs append consumes
    except Exception:
        return False


# Levels whose on-hand differs from the sum of their lots or of their ledger movements.
_UNEVEN_LEVELS = """
SELECT count(*) FROM stock_levels l
LEFT JOIN (SELECT item_id, location_id, sum(quantity) AS q FROM stock_lots
           GROUP BY item_id, location_id) lots
       ON lots.item_id = l.item_id AND lots.location_id = l.location_id
LEFT JOIN (SELECT item_id, location_id, sum(quantity) AS q FROM stock_movements
           GROUP BY item_id, location_id) moved
       ON moved.item_id = l.item_id AND moved.location_id = l.location_id
WHERE l.on_hand <> coalesce(lots.q, 0) OR l.on_hand <> coalesce(moved.q, 0)
"""


@dataclass(frozen=True)
class LedgerState:
    movements: int
    sealed: int  # movements with a record seal (the bulk-loaded ones have none)
    uneven_levels: int


def ledger_state(url: str) -> LedgerState:
    """What "ledger exact afterwards" is checked on: every level equal to its lots and to
    its ledger, and every movement the run wrote sealed."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return LedgerState(
                movements=conn.execute(text("SELECT count(*) FROM stock_movements")).scalar(),
                sealed=conn.execute(
                    text("SELECT count(*) FROM record_seals WHERE table_name = 'stock_movements'")
                ).scalar(),
                uneven_levels=conn.execute(text(_UNEVEN_LEVELS)).scalar(),
            )
    finally:
        engine.dispose()


def consume_bodies(shape: Shape, count: int = 4000) -> list[str]:
    rng = random.Random(7)
    codes = location_codes()
    return [
        json.dumps(
            {
                "kind": "consume",
                "sku": sku(rng.randint(1, shape.items)),
                "location": codes[rng.randint(1, LOCATIONS - 1)],
                "quantity": 1,
            }
        )
        for _ in range(count)
    ]


def stock_paths(shape: Shape, count: int = 2000) -> list[str]:
    rng = random.Random(11)
    return [f"/api/v1/stock?sku={sku(rng.randint(1, shape.items))}" for _ in range(count)]


def run_backend(backend: str, url: str, shape: Shape, duration: int) -> dict:
    username, password = benchkit.ensure_user(url)
    results = {}
    with benchkit.serve(url) as base:
        headers = benchkit.login(base, username, password)
        # warm-up (imports, pools, caches)
        benchkit.wrk(base, label="warmup", paths=["/api/v1/users/me"], headers=headers,
                     duration=2)  # fmt: skip
        results["baseline"] = benchkit.baseline(base, headers, connections=16, duration=duration)
        before = ledger_state(url)
        results["consume"] = benchkit.wrk(
            base, label="POST /stock/movements consume (16 conns)",
            paths=["/api/v1/stock/movements"], method="POST", bodies=consume_bodies(shape),
            headers=headers, connections=16, duration=duration,
        )  # fmt: skip
        time.sleep(1)  # the requests wrk left in flight are answered
        results["ledger"] = (before, ledger_state(url))
        results["consume_keyed"] = benchkit.wrk(
            base, label="POST /stock/movements consume with Idempotency-Key (16 conns)",
            paths=["/api/v1/stock/movements"], method="POST", bodies=consume_bodies(shape),
            headers=headers, connections=16, duration=duration,
            unique_header="Idempotency-Key",
        )  # fmt: skip
        for conns in (16, 4):
            results[f"stock{conns}"] = benchkit.wrk(
                base, label=f"GET /stock?sku= ({conns} conns)",
                paths=stock_paths(shape), headers=headers, connections=conns, duration=duration,
            )  # fmt: skip
        results["pages"] = benchkit.page_figures(
            backend, base, benchkit.page_session(url), ["/", "/b/EXAM1/BN-000005"]
        )
    return results


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    shape = Shape.at(ctx.scale)
    rows = None
    figures: list[benchkit.Figure] = []
    notes = []
    for backend, url in ctx.urls("inventory"):
        if ctx.regenerate or not has_dataset(url, shape):
            if rows is None:
                rows = generate(shape)
            started = time.monotonic()
            if backend == "SQLite":
                load_sqlite(Path(url.removeprefix("sqlite:///")), rows)
            else:
                load_postgres(url, rows)
            notes.append(f"{backend}: dataset loaded in {time.monotonic() - started:.0f} s")
        r = run_backend(backend, url, shape, ctx.duration)
        base, consume = r["baseline"], r["consume"]
        wanted = CONSUME_TARGET[backend]
        before, after = r["ledger"]
        written = after.movements - before.movements
        figures += [
            benchkit.load_figures(backend, base, "baseline `GET /api/v1/users/me`, 16 conns"),
            benchkit.load_figures(
                backend, consume, "consume `POST /api/v1/stock/movements`, 16 clients",
                target=wanted, comparison=">=",
            ),
            benchkit.Figure(
                "consume: levels not equal to their lots and ledger afterwards", backend,
                after.uneven_levels, "levels", target=0, comparison="<=",
                note=f"{written:,} movements written for {consume.requests:,} acknowledged "
                f"(wrk stops with requests in flight), {after.sealed - before.sealed:,} of "
                "them sealed",
            ),
            benchkit.load_figures(
                backend, r["consume_keyed"],
                "consume with an `Idempotency-Key` of its own per request, 16 clients",
            ),
            benchkit.Figure(
                "consume ÷ baseline throughput", backend,
                round(consume.requests_per_sec / base.requests_per_sec, 2), "x",
                note=f"same run; {wanted:,}/s would need about "
                f"{wanted / base.requests_per_sec:.2f}\u00d7 here",
            ),
        ]  # fmt: skip
        for conns in (16, 4):
            stock = r[f"stock{conns}"]
            figures.append(
                benchkit.Figure(
                    f"`GET /api/v1/stock?sku=` p99, {conns} conns", backend,
                    round(stock.p99_ms, 1), "ms", target=20, comparison="<",
                    note=f"p50 {stock.p50_ms:.1f} ms, {stock.requests_per_sec:,.0f} req/s, "
                    f"non-2xx {stock.non_2xx}",
                )
            )  # fmt: skip
        figures += r["pages"]
    return benchkit.ScenarioResult(
        dataset=(
            f"{shape.items:,} items \u00d7 {LOCATIONS} locations = "
            f"{shape.items * LOCATIONS:,} stock levels, 20% lot-tracked, "
            f"{shape.movements:,} ledger movements over a year (bulk-loaded)"
        ),
        figures=figures,
        notes=notes,
    )
