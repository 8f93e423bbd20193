"""Reorder benchmark: the weekly reorder CSV at clinic-group size, end to end through HTTP.

Dataset (generated with numpy and bulk-loaded with executemany / COPY, never through the
API): 3 suppliers, 20,000 items, 10 locations, every item stocked at every location with a
par level (200,000 stock levels), 2,000,000 movements in the 8-week usage window: half the
item-locations are counted instead of scanned (a weekly `count` whose shortfall is use,
800,000 rows), the other half `consume` (1,200,000 rows); one `receive` per item and
location before the window, and for one in twenty an expired lot still on the shelf (so
the usable-stock query has work). 1,000 submitted purchase orders with 5,000 open lines
(so `on_order` is non-trivial); the suppliers have order file layouts (the supplier file
is fetched too). About a third of the items end up at or below their reorder point.

Measured through the real app (`steristock serve`, Granian, 1 worker) per database:
`GET /api/v1/reorder/suggestions.csv` a few times (urllib, one at a time), the first
(cold) request and the median of the others; and the server process's peak RSS (VmHWM
from /proc) after the run, which must stay under 500 MB.

Targets (issue 4): under 2 s on each database; server peak memory under 500 MB.
`--scale` shrinks items and movements together.

Usage: python scripts/bench.py reorder [--scale F] [--backend B] [--regenerate]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import statistics
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import benchkit
import numpy as np
from sqlalchemy import create_engine, text

ITEMS = 20_000
LOCATIONS = 10
MOVEMENTS = 2_000_000  # count and consume movements inside the 8-week window
COUNT_WEEKS = 8  # weekly counts of the counted item-locations, inside the window
EXPIRED_EVERY = 20  # one item-location in 20 holds an expired lot
SUPPLIERS = 3
PURCHASE_ORDERS = 1_000
LINES_PER_PO = 5
WINDOW_DAYS = 55  # inside the 56 complete days the suggestions look at
MARKER = "bench_reorder_v3"
CHUNK = 200_000

COLUMNS = {
    "suppliers": "id, name, account_number, email, phone, lead_time_days, created_at",
    "locations": "id, code, name, active, created_at, site_id",
    "items": "id, sku, name, unit, pack_size, supplier_id, vendor_sku, unit_cost, gtin, "
    "lead_time_days, min_order_qty, lot_tracked, category, active, created_at, updated_at",
    "stock_levels": "id, item_id, location_id, on_hand, par_level, reorder_point",
    "stock_lots": "id, item_id, location_id, lot, expires_on, quantity",
    "stock_movements": "id, kind, item_id, location_id, lot, expires_on, quantity, at, actor, "
    "reason, reference, recorded_at, used, on_hand_after",
    "supplier_order_formats": "id, supplier_id, columns_json, quantity_in, delimiter, "
    "header_row, updated_by, updated_at",
    "purchase_orders": "id, supplier_id, status, notes, created_by, created_at, submitted_at, "
    "received_at, cancelled_at, cancel_reason, site_id",
    "purchase_order_lines": "id, purchase_order_id, item_id, quantity, received_quantity, "
    "unit_cost",
}


def _ts(value: dt.datetime) -> str:
    """UTC timestamp text as SQLAlchemy stores it on SQLite (and PostgreSQL accepts)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Dataset:
    """Deterministic rows, table by table; movements come in chunks to bound memory."""

    def __init__(
        self, items: int = ITEMS, movements: int = MOVEMENTS, orders: int = PURCHASE_ORDERS
    ) -> None:
        self.items, self.movements, self.orders = items, movements, orders
        self.rng = np.random.default_rng(42)
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        today_start = self.now.replace(hour=0, minute=0, second=0)
        self.window_start = today_start - dt.timedelta(days=WINDOW_DAYS)
        self.created = _ts(self.now - dt.timedelta(days=400))
        pairs = self.items * LOCATIONS
        self.counted = np.flatnonzero(np.arange(pairs) % 2 == 0)  # counted, not scanned
        count_rows = len(self.counted) * COUNT_WEEKS
        consume_rows = max(self.movements - count_rows, 0)
        scanned = np.flatnonzero(np.arange(pairs) % 2 == 1)
        per_pair = self.rng.multinomial(consume_rows, np.full(len(scanned), 1 / len(scanned)))
        self.consume_qty = self.rng.integers(1, 6, size=consume_rows, dtype=np.int64)
        self.pair_of_move = np.repeat(scanned, per_pair)
        self.shortfalls = self.rng.integers(0, 40, size=(len(self.counted), COUNT_WEEKS))
        used = np.bincount(self.pair_of_move, weights=self.consume_qty, minlength=pairs)
        used = used.astype(np.int64)
        used[self.counted] += self.shortfalls.sum(axis=1)
        # usable on hand after the window: between 0 and 100 units per location
        self.on_hand = self.rng.integers(0, 101, size=pairs, dtype=np.int64)
        self.received = used + self.on_hand
        self.expired = np.where(np.arange(pairs) % EXPIRED_EVERY == 3, 25, 0)

    def tables(self) -> Iterator[tuple[str, Iterator[tuple]]]:
        yield "suppliers", iter(
            [(i, f"Bench supplier {i}", f"ACCT-{i}", None, None, 2 + i, self.created)
             for i in range(1, SUPPLIERS + 1)]
        )  # fmt: skip
        codes = ["SUPPLY", *[f"EXAM{i}" for i in range(1, LOCATIONS - 1)], "STERILE"]
        yield (
            "locations",
            iter(
                [
                    (i + 1, c, c.title(), True, self.created, benchkit.MAIN_SITE_ID)
                    for i, c in enumerate(codes)
                ]
            ),
        )
        yield "items", (
            (i, f"BR-{i:06d}", f"Bench consumable {i}", "each", (5, 10, 12, 50, 100)[i % 5],
             1 + i % SUPPLIERS, f"V-{i}" if i % 4 else None, (i % 700 + 1) * 45, None,
             None if i % 3 else 5, (0, 0, 0, 100)[i % 4], False, "bench", True, self.created,
             self.created)
            for i in range(1, self.items + 1)
        )  # fmt: skip
        yield "stock_levels", self._levels()
        yield "stock_lots", self._lots()
        yield "stock_movements", self._movements()
        yield "purchase_orders", (
            (p, 1 + p % SUPPLIERS, "submitted" if p % 2 else "partially_received", None,
             "bench", self.created, self.created, None, None, None, benchkit.MAIN_SITE_ID)
            for p in range(1, self.orders + 1)
        )  # fmt: skip
        yield "purchase_order_lines", self._po_lines()
        layout = json.dumps([["Item Number", "vendor_sku"], ["Quantity", "quantity"],
                             ["UOM", "order_unit"], ["Description", "name"]])  # fmt: skip
        yield "supplier_order_formats", iter(
            [(i, i, layout, "packs", ",", True, "bench", self.created)
             for i in range(1, SUPPLIERS + 1)]
        )  # fmt: skip

    def _levels(self) -> Iterator[tuple]:
        n = 0
        for item in range(1, self.items + 1):
            for loc in range(1, LOCATIONS + 1):
                pair = (item - 1) * LOCATIONS + loc - 1
                par = 60 + item % 60
                n += 1
                on_hand = int(self.on_hand[pair] + self.expired[pair])
                yield (n, item, loc, on_hand, par, (par + 1) // 2)

    def _lots(self) -> Iterator[tuple]:
        n = 0
        expired_on = (self.window_start - dt.timedelta(days=1)).date()
        for pair in range(self.items * LOCATIONS):
            item, loc = pair // LOCATIONS + 1, pair % LOCATIONS + 1
            n += 1
            yield (n, item, loc, "", None, int(self.on_hand[pair]))
            if self.expired[pair]:
                n += 1
                yield (n, item, loc, "OLD", expired_on, int(self.expired[pair]))

    def _movements(self) -> Iterator[tuple]:
        """Receipts before the window, then the weekly counts, then the consumes; each
        row with its running balance (`on_hand_after`) per item and location."""
        pairs = self.items * LOCATIONS
        before = _ts(self.window_start - dt.timedelta(days=3))
        expired_on = (self.window_start - dt.timedelta(days=1)).date()
        balance = self.received.copy()
        n = 0
        for pair in range(pairs):
            item, loc = pair // LOCATIONS + 1, pair % LOCATIONS + 1
            n += 1
            yield (n, "receive", item, loc, "", None, int(self.received[pair]), before,
                   "bench", None, f"r{pair}", before, 0, int(balance[pair]))  # fmt: skip
            if self.expired[pair]:
                n += 1
                yield (n, "receive", item, loc, "OLD", expired_on, int(self.expired[pair]),
                       before, "bench", None, f"o{pair}", before, 0,
                       int(balance[pair] + self.expired[pair]))  # fmt: skip
        balance = balance + self.expired
        for week in range(COUNT_WEEKS):
            at = _ts(self.window_start + dt.timedelta(days=3 + 7 * week, hours=15))
            for k, counted in enumerate(self.counted):
                pair, short = int(counted), int(self.shortfalls[k, week])  # no numpy ints
                balance[pair] -= short
                n += 1
                yield (n, "count", pair // LOCATIONS + 1, pair % LOCATIONS + 1, "", None,
                       -short, at, "bench", None, None, at, short, int(balance[pair]))  # fmt: skip
        span = WINDOW_DAYS * 86_400 - 1
        base = self.window_start.timestamp()
        for start in range(0, len(self.pair_of_move), CHUNK):
            stop = min(start + CHUNK, len(self.pair_of_move))
            secs = self.rng.integers(0, span, size=stop - start)
            pair = self.pair_of_move[start:stop]
            qty = self.consume_qty[start:stop]
            for k in range(stop - start):
                at = _ts(dt.datetime.fromtimestamp(base + int(secs[k]), dt.UTC))
                p, q = int(pair[k]), int(qty[k])
                balance[p] -= q
                n += 1
                yield (n, "consume", p // LOCATIONS + 1, p % LOCATIONS + 1, "", None, -q, at,
                       "bench", None, None, at, q, int(balance[p]))  # fmt: skip

    def movement_count(self) -> int:
        pairs = self.items * LOCATIONS
        return (pairs + int(np.count_nonzero(self.expired)) + len(self.counted) * COUNT_WEEKS
                + len(self.pair_of_move))  # fmt: skip

    def _po_lines(self) -> Iterator[tuple]:
        n = 0
        for p in range(1, self.orders + 1):
            supplier = 1 + p % SUPPLIERS
            for k in range(LINES_PER_PO):
                # an item of this supplier (supplier_id = 1 + i % SUPPLIERS)
                m = (p * LINES_PER_PO + k) % (self.items // SUPPLIERS - 1) + 1
                item = SUPPLIERS * m + supplier - 1
                n += 1
                received = 0 if p % 2 else 10
                yield (n, p, item, 40, received, 450)


def load_sqlite(path: Path, data: Dataset) -> None:
    if path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    benchkit.migrate(url)
    benchkit.check_main_site(url)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    for table, rows in data.tables():
        marks = ",".join("?" * len(COLUMNS[table].split(",")))
        conn.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", rows)  # noqa: S608
    conn.execute(f"CREATE TABLE {MARKER} (done INTEGER)")
    conn.execute(benchkit.FORGET_PENDING_SEALS)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(url: str, data: Dataset) -> None:
    benchkit.reset_postgres(url)
    benchkit.migrate(url)
    benchkit.check_main_site(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            for table, rows in data.tables():
                with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    for row in rows:
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


def has_dataset(url: str, data: Dataset) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text(f"SELECT 1 FROM {MARKER}"))  # noqa: S608
            count = conn.execute(text("SELECT count(*) FROM stock_movements")).scalar()
            orders = conn.execute(text("SELECT count(*) FROM purchase_orders")).scalar()
        engine.dispose()
        return count == data.movement_count() and orders == data.orders
    except Exception:
        return False


def peak_rss_mb(pids: list[int], field: str = "VmHWM") -> float:
    """The largest VmHWM (peak resident set; or VmRSS, current) among the server's
    processes, in MB."""
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the server's processes have used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Samples the server's current RSS every 5 ms while the requests run: the peak of
    the reorder requests themselves (VmHWM also holds the login's argon2 hashing)."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, peak_rss_mb(self.pids, "VmRSS"))
            time.sleep(0.005)


def server_pids(base_url: str) -> list[int]:
    """The listening process and its children (Granian serves from a worker process)."""
    pid = benchkit.server_pid(base_url)
    if pid is None:
        return []
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids


def fetch(url: str, headers: dict[str, str]) -> tuple[float, bytes, str]:
    started = time.perf_counter()
    req = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310
        body = resp.read()
        disposition = resp.headers.get("Content-Disposition", "")
    return time.perf_counter() - started, body, disposition


def run_backend(name: str, url: str, runs: int) -> dict[str, object]:
    username, password = benchkit.ensure_user(url, username="bench_reorder", role="purchasing")
    with benchkit.serve(url) as base:
        headers = benchkit.login(base, username, password)
        pids = server_pids(base)
        rss_before = peak_rss_mb(pids, "VmRSS")
        sampler = RssSampler(pids)
        sampler.start()
        times = []
        body, disposition = b"", ""
        cpu_warm = 0.0
        for run in range(runs):
            cpu_before = cpu_seconds(pids)
            seconds, body, disposition = fetch(base + "/api/v1/reorder/suggestions.csv", headers)
            times.append(seconds)
            if run:
                cpu_warm += cpu_seconds(pids) - cpu_before
        json_s, _, _ = fetch(base + "/api/v1/reorder/suggestions?limit=1000", headers)
        order_url = base + "/api/v1/reorder/suggestions.csv?supplier_id=1&format=supplier"
        order_s, order_body, _ = fetch(order_url, headers)
        pages = benchkit.page_figures(
            name, base, benchkit.page_session(url), ["/", "/purchasing", "/b/EXAM1/BR-000003"]
        )
        sampler.stop.set()
        sampler.join()
        hwm = peak_rss_mb(pids)
        peak = max(sampler.peak, peak_rss_mb(pids, "VmRSS"))
    rows = body.count(b"\n") - 1
    result = {
        "backend": name,
        "csv_rows": rows,
        "csv_bytes": len(body),
        "filename": disposition,
        "cold_s": round(times[0], 3),
        "warm_median_s": round(statistics.median(times[1:] or times), 3),
        "warm_max_s": round(max(times[1:] or times), 3),
        "json_first_page_s": round(json_s, 3),
        "order_file_s": round(order_s, 3),
        "order_file_rows": order_body.count(b"\n") - 1,
        "server_cpu_per_warm_request_s": round(cpu_warm / max(runs - 1, 1), 3),
        "rss_before_mb": round(rss_before, 1),
        "peak_rss_mb": round(peak, 1),
        "vmhwm_mb": round(hwm, 1),
        "server_pids": pids,
        "load_average": os.getloadavg(),
        "pages": pages,
    }
    print(
        f"{name}: reorder CSV ({rows:,} rows, {len(body) / 1e6:.1f} MB): cold {times[0]:.2f}s, "
        f"warm median {result['warm_median_s']:.2f}s (max {result['warm_max_s']:.2f}s) over "
        f"{runs - 1} runs (server CPU {result['server_cpu_per_warm_request_s']:.2f}s each); "
        f"JSON first page {json_s:.2f}s; supplier 1's order file {order_s:.2f}s; "
        f"server RSS peak {peak:.0f} MB "
        f"(before {rss_before:.0f} MB, VmHWM {hwm:.0f} MB; pids {pids}); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return result


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    items = max(100, round(ITEMS * ctx.scale))
    movements = max(1000, round(MOVEMENTS * ctx.scale))
    orders = max(5, round(PURCHASE_ORDERS * ctx.scale))
    runs = int(ctx.option("reorder_runs", 6))
    figures: list[benchkit.Figure] = []
    notes = []
    for backend, url in ctx.urls("reorder"):
        data = Dataset(items, movements, orders)
        if ctx.regenerate or not has_dataset(url, data):
            started = time.monotonic()
            if backend == "SQLite":
                load_sqlite(Path(url.removeprefix("sqlite:///")), data)
            else:
                load_postgres(url, data)
            notes.append(f"{backend}: dataset generated and loaded in "
                         f"{time.monotonic() - started:.0f} s")  # fmt: skip
        data = None
        r = run_backend(backend, url, runs)
        figures += [
            benchkit.Figure(
                "reorder CSV, whole HTTP request (warm median)", backend, r["warm_median_s"], "s",
                target=2, comparison="<",
                note=f"{r['csv_rows']:,} rows, {r['csv_bytes'] / 1e6:.1f} MB; cold "
                f"{r['cold_s']:.2f} s, max {r['warm_max_s']:.2f} s over {runs - 1} runs; "
                f"server CPU {r['server_cpu_per_warm_request_s']:.2f} s per request",
            ),
            benchkit.Figure(
                "reorder CSV, first (cold) request", backend, r["cold_s"], "s",
                target=2, comparison="<",
            ),
            benchkit.Figure(
                "server peak RSS during the requests", backend, r["peak_rss_mb"], "MB",
                target=500, comparison="<",
                note=f"{r['rss_before_mb']:.0f} MB before; VmHWM {r['vmhwm_mb']:.0f} MB "
                "(includes the login's argon2 hash)",
            ),
            benchkit.Figure(
                "JSON suggestions, first page of 1,000", backend, r["json_first_page_s"], "s",
            ),
            benchkit.Figure(
                "one supplier's order file (format=supplier)", backend, r["order_file_s"], "s",
                target=2, comparison="<", note=f"{r['order_file_rows']:,} rows",
            ),
        ]  # fmt: skip
        figures += r["pages"]
    return benchkit.ScenarioResult(
        dataset=(
            f"{SUPPLIERS} suppliers, {items:,} items \u00d7 {LOCATIONS} locations with par levels, "
            f"{movements:,} movements in the 8-week window (weekly counts of half the "
            f"item-locations, consumes of the other half), expired lots at one in "
            f"{EXPIRED_EVERY}, {orders:,} open purchase orders with {orders * LINES_PER_PO:,} "
            "lines (bulk-loaded)"
        ),
        figures=figures,
        notes=notes,
    )
