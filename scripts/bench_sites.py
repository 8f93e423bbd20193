"""Sites benchmark: a clinic group of 50 sites in one SteriStock (issue 17).

Dataset (generated in Python and bulk-loaded with executemany / COPY into the migrated
schema, never through the API):

- 50 sites in six time zones (`MAIN` and `S02`..`S50`), each with two sterilizers: a
  pre-vacuum one (a Bowie-Dick test every working morning, four loads a day) and a gravity
  one (three loads a day); one year of working days (Monday to Friday, clinic-local
  times); the first load of each week on each sterilizer carries a BI (negative, read the
  next day); one load in 250 fails; a Bowie-Dick test is missed now and then; 4 packs per
  pre-vacuum load and 3 per gravity load, used a few days later except the last two
  weeks' (still sterile);
- 2,000 items shared by the group (3 suppliers); each site has a supply room with every
  item at a par level (50 x 2,000 stock rows), its lot, a receipt before the 8-week usage
  window and three consumes in it, and two open purchase orders.

Measured through the real app (`steristock serve`, Granian, one worker) on each database,
as an admin who sees every site and as an MA of one site (`S07`):

- the compliance report for the last year, for one site (`?site=S07`, and the MA without
  `?site=`) and for all 50 sites (the admin), target < 2 s each;
- the reorder CSV for one site (`?site=S07`; the MA's own), target < 2 s each;
- the pack scan `GET /api/v1/packs/{code}` (wrk, 16 connections) against a single-site
  database of the same cycles and packs (every sterilizer at `MAIN`, one site) served
  in the same run: the p99 ratio group ÷ single site, for the one-site MA and the admin
  (bound 1.5 times: ours, the issue asks for the comparison only).

Usage: `python scripts/bench.py sites [--scale F] [--backend B] [--duration S]`.
`--scale` shrinks the days of cycles (one year at 1, at least four weeks) and the items
(2,000 at 1, at least 200); the 50 sites and their sterilizers stay. Both databases are
reloaded on every run (they take a minute or two at full size).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import statistics
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import benchkit
from sqlalchemy import create_engine, text

SITES = 50
ITEMS = 2_000
DAYS = 365
SUPPLIERS = 3
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "Pacific/Honolulu",
)
PREVAC_LOADS = ("08:30", "10:30", "13:00", "15:30")
GRAVITY_LOADS = ("09:00", "12:00", "15:00")
BOWIE_DICK_AT = "07:30"
PACKS_PER_LOAD = {"steam_prevac": 4, "steam_gravity": 3}
FAIL_EVERY = 250  # one load in 250 fails
MISSED_BD_EVERY = 97  # a working day without a Bowie-Dick test now and then
STERILE_DAYS = 14  # packs of the last two weeks are still on the shelf
CONSUMES = 3  # consumes per item and site in the usage window
WINDOW_DAYS = 55  # inside the 56 complete days the reorder suggestions look at
ORDERS_PER_SITE = 2
LINES_PER_ORDER = 5
USER_SITE = "S07"
OPERATOR = "bench-op"  # runs every cycle, trained (no untrained-work findings)
COLUMNS = {
    "sites": "id, code, name, timezone, created_at",
    "sterilizers": "id, code, name, kind, status, last_bi_at, last_bowie_dick_at, "
    "last_cycle_number, created_at, bi_frequency, site_id",
    "cycles": "id, sterilizer_id, number, cycle_type, status, operator, implants, bi_lot, "
    "warnings, started_at, ended_at, completed_by, bi_product_id, site_id",
    "cycle_parameters": "cycle_id, temperature_c, pressure_kpa, exposure_minutes, dry_minutes, "
    "mechanical_ok, chemical_ok, notes, failure_reasons, recorded_by, recorded_at, entered",
    "bi_results": "id, cycle_id, result, control_grew, lot, read_at, recorded_by, "
    "bi_product_id, incubation_started_at, recorded_at",
    "packs": "id, code, description, contents, implant, status, cycle_id, assembled_by, "
    "assembled_at, sterilized_at, expires_on, used_at, used_by, encounter_ref, short, site_id",
    "sterilization_counters": "name, value",
    "suppliers": "id, name, account_number, email, phone, lead_time_days, created_at",
    "items": "id, sku, name, unit, pack_size, supplier_id, vendor_sku, unit_cost, gtin, "
    "lead_time_days, min_order_qty, lot_tracked, category, active, created_at, updated_at",
    "locations": "id, code, name, active, created_at, site_id",
    "stock_levels": "id, item_id, location_id, on_hand, par_level, reorder_point",
    "stock_lots": "id, item_id, location_id, lot, expires_on, quantity",
    "stock_movements": "id, kind, item_id, location_id, lot, expires_on, quantity, at, actor, "
    "reason, reference, recorded_at, used, on_hand_after",
    "purchase_orders": "id, supplier_id, status, notes, created_by, created_at, submitted_at, "
    "received_at, cancelled_at, cancel_reason, site_id",
    "purchase_order_lines": "id, purchase_order_id, item_id, quantity, received_quantity, "
    "unit_cost",
}
WITH_ID = {t for t, c in COLUMNS.items() if c.startswith("id,")}


def _hm(text_: str) -> dt.time:
    hours, minutes = text_.split(":")
    return dt.time(int(hours), int(minutes))


@dataclass
class Dataset:
    """Deterministic rows, table by table. `single_site` puts every sterilizer, cycle
    and pack at `MAIN` (the comparison database for the scan) and leaves stock out."""

    days: int = DAYS
    items: int = ITEMS
    single_site: bool = False
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
    pack_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.created = self.now - dt.timedelta(days=self.days + 30)
        self.sites = [
            (i + 1, "MAIN" if i == 0 else f"S{i + 1:02d}", ZONES[i % len(ZONES)])
            for i in range(SITES)
        ]

    def site_of(self, site_id: int) -> int:
        return 1 if self.single_site else site_id

    # sterilization -------------------------------------------------------------------

    def _schedule(self, zone: str, kind: str) -> Iterator[tuple[str, dt.datetime, int]]:
        """(cycle type, UTC start, working-day index) of one sterilizer's year, oldest
        first: the Bowie-Dick test and the loads of each working day, in the site's zone."""
        tz = ZoneInfo(zone)
        today = self.now.replace(tzinfo=dt.UTC).astimezone(tz).date()
        load_type = "prevac_132_4" if kind == "steam_prevac" else "gravity_121_30"
        times = PREVAC_LOADS if kind == "steam_prevac" else GRAVITY_LOADS
        workday = 0
        for back in range(self.days, 0, -1):
            day = today - dt.timedelta(days=back)
            if day.weekday() >= 5:
                continue
            workday += 1
            offset = dt.datetime.combine(day, dt.time(12), tzinfo=tz).utcoffset()
            assert offset is not None
            if kind == "steam_prevac" and workday % MISSED_BD_EVERY != 5:
                yield "bowie_dick", dt.datetime.combine(day, _hm(BOWIE_DICK_AT)) - offset, workday
            for at in times:
                yield load_type, dt.datetime.combine(day, _hm(at)) - offset, workday

    def sterilization(self) -> Iterator[tuple[str, Iterator[tuple]]]:
        sterilizers, cycles, params, bis, packs = [], [], [], [], []
        cycle_id = bi_id = pack_id = 0
        sterile_from = self.now - dt.timedelta(days=STERILE_DAYS)
        contents = json.dumps([{"name": "Mirror", "quantity": 1}])
        for site_id, code, zone in self.sites:
            first_pack = pack_id + 1
            for k, kind in enumerate(("steam_prevac", "steam_gravity")):
                sterilizer_id = (site_id - 1) * 2 + k + 1
                number = 0
                last_bi = last_bd = None
                week_with_bi: tuple[int, int] | None = None
                loads = 0
                for cycle_type, start, _workday in self._schedule(zone, kind):
                    number += 1
                    cycle_id += 1
                    end = start + dt.timedelta(minutes=25 if cycle_type == "bowie_dick" else 50)
                    status, bi_lot = "passed", None
                    if cycle_type == "bowie_dick":
                        last_bd = end
                    else:
                        loads += 1
                        week = start.isocalendar()[:2]
                        if week != week_with_bi:
                            week_with_bi, bi_lot = week, f"BI-{cycle_id}"
                        if loads % FAIL_EVERY == 0:
                            status = "failed"
                    cycles.append(
                        (cycle_id, sterilizer_id, number, cycle_type, status, OPERATOR, False,
                         bi_lot, "[]", start, end, "bench", 1 if bi_lot else None,
                         self.site_of(site_id))
                    )  # fmt: skip
                    failed = status == "failed"
                    params.append(
                        (cycle_id, 118.0 if failed else 132.6, 205.0, 4.0, 20.0, True, True,
                         None, json.dumps(["temperature too low"] if failed else []), "bench",
                         end, "{}")
                    )  # fmt: skip
                    if bi_lot:
                        bi_id += 1
                        read = end + dt.timedelta(days=1)
                        bis.append(
                            (bi_id, cycle_id, "negative", True, bi_lot, read, "bench", 1, end,
                             read)
                        )  # fmt: skip
                        last_bi = read
                    if cycle_type == "bowie_dick":
                        continue
                    for _ in range(PACKS_PER_LOAD[kind]):
                        pack_id += 1
                        used = not failed and end < sterile_from
                        used_at = end + dt.timedelta(days=3) if used else None
                        packs.append(
                            (pack_id, f"PK-{pack_id:07d}", "Exam kit", contents, False,
                             "failed" if failed else "used" if used else "sterile", cycle_id,
                             "bench", start - dt.timedelta(minutes=30),
                             None if failed else end,
                             None if failed else (end + dt.timedelta(days=365)).date(),
                             used_at, "bench" if used else None,
                             f"ENC-{pack_id}" if used else None, "[]",
                             self.site_of(site_id))
                        )  # fmt: skip
                sterilizers.append(
                    (sterilizer_id, f"{code}-ST{k + 1}", f"{code} sterilizer {k + 1}", kind,
                     "in_service", last_bi, last_bd, number, self.created, "weekly",
                     self.site_of(site_id))
                )  # fmt: skip
            self.pack_ranges[code] = (first_pack, pack_id)
        self.counts.update(cycles=len(cycles), packs=len(packs), bi_results=len(bis))
        yield "sterilizers", iter(sterilizers)
        yield "cycles", iter(cycles)
        yield "cycle_parameters", iter(params)
        yield "bi_results", iter(bis)
        yield "packs", iter(packs)
        yield "sterilization_counters", iter([("pack", pack_id)])

    # stock ---------------------------------------------------------------------------

    def stock(self) -> Iterator[tuple[str, Iterator[tuple]]]:
        rng = random.Random(17)
        yield "suppliers", iter(
            [(i, f"Bench supplier {i}", f"ACCT-{i}", None, None, 2 + i, self.created)
             for i in range(1, SUPPLIERS + 1)]
        )  # fmt: skip
        yield "items", iter(
            [(i, f"BR-{i:06d}", f"Bench consumable {i}", "each", (5, 10, 12, 50, 100)[i % 5],
              1 + i % SUPPLIERS, f"V-{i}" if i % 4 else None, (i % 700 + 1) * 45, None,
              None if i % 3 else 5, (0, 0, 0, 100)[i % 4], False, "bench", True, self.created,
              self.created)
             for i in range(1, self.items + 1)]
        )  # fmt: skip
        yield "locations", iter(
            [(site_id, f"{code}-SUPPLY", f"{code} supply room", True, self.created, site_id)
             for site_id, code, _ in self.sites]
        )  # fmt: skip
        levels, lots, moves = [], [], []
        today_start = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        window_start = today_start - dt.timedelta(days=WINDOW_DAYS)
        before = window_start - dt.timedelta(days=3)
        move_id = 0
        for site_id, _code, _ in self.sites:
            for item in range(1, self.items + 1):
                level_id = (site_id - 1) * self.items + item
                par = 60 + item % 60
                on_hand = rng.randint(0, 100)
                uses = [rng.randint(1, 10) for _ in range(CONSUMES)]
                levels.append((level_id, item, site_id, on_hand, par, (par + 1) // 2))
                lots.append((level_id, item, site_id, "", None, on_hand))
                balance = on_hand + sum(uses)
                move_id += 1
                moves.append(
                    (move_id, "receive", item, site_id, "", None, balance, before, "bench",
                     None, f"r{level_id}", before, 0, balance)
                )  # fmt: skip
                for n, used in enumerate(uses):
                    at = window_start + dt.timedelta(days=5 + 17 * n, hours=rng.randint(8, 17))
                    balance -= used
                    move_id += 1
                    moves.append(
                        (move_id, "consume", item, site_id, "", None, -used, at, "bench", None,
                         None, at, used, balance)
                    )  # fmt: skip
        self.counts.update(stock_levels=len(levels), stock_movements=len(moves))
        yield "stock_levels", iter(levels)
        yield "stock_lots", iter(lots)
        yield "stock_movements", iter(moves)
        orders, lines = [], []
        for site_id, _code, _ in self.sites:
            for k in range(ORDERS_PER_SITE):
                po = (site_id - 1) * ORDERS_PER_SITE + k + 1
                supplier = 1 + po % SUPPLIERS
                orders.append(
                    (po, supplier, "submitted", None, "bench", self.created, self.created, None,
                     None, None, site_id)
                )  # fmt: skip
                for n in range(LINES_PER_ORDER):
                    m = (po * LINES_PER_ORDER + n) % (self.items // SUPPLIERS - 1) + 1
                    item = SUPPLIERS * m + supplier - 1
                    lines.append((len(lines) + 1, po, item, 40, 0, 450))
        yield "purchase_orders", iter(orders)
        yield "purchase_order_lines", iter(lines)

    def tables(self) -> Iterator[tuple[str, Iterator[tuple]]]:
        yield from self.sterilization()
        if not self.single_site:
            yield from self.stock()


# Loading --------------------------------------------------------------------------------


def _sqlite_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _site_rows(data: Dataset) -> list[tuple]:
    sites = data.sites[:1] if data.single_site else data.sites
    return [(i, code, f"Clinic {code}", zone, data.created) for i, code, zone in sites]


def load_sqlite(url: str, data: Dataset) -> float:
    benchkit.remove_sqlite(url)
    benchkit.migrate(url)
    started = time.perf_counter()
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-500000")
    conn.execute("DELETE FROM sites")
    for table, rows in [("sites", iter(_site_rows(data))), *data.tables()]:
        marks = ",".join("?" * len(COLUMNS[table].split(",")))
        conn.executemany(
            f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})",  # noqa: S608
            ([_sqlite_value(v) for v in row] for row in rows),
        )
    # The evidence triggers logged every loaded row for sealing at the next commit; the
    # benchmark does not verify seals, so the to-do list is emptied (sealing 500,000 rows
    # would land on the first login instead).
    conn.execute("DELETE FROM record_changes")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return time.perf_counter() - started


def load_postgres(url: str, data: Dataset) -> float:
    benchkit.reset_postgres(url)
    benchkit.migrate(url)
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            # Bulk load: no per-row FK checks or evidence triggers; times are UTC.
            cur.execute("SET session_replication_role = replica")
            cur.execute("SET TIME ZONE 'UTC'")
            cur.execute("DELETE FROM sites")
            for table, rows in [("sites", iter(_site_rows(data))), *data.tables()]:
                with cur.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                if table in WITH_ID:
                    cur.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
            cur.execute("DELETE FROM record_changes")
            cur.execute("SET session_replication_role = origin")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()
    return time.perf_counter() - started


def ensure_users(url: str) -> dict[str, tuple[str, str]]:
    """An admin who sees every site, an MA of `USER_SITE` only, and the trained operator
    who ran the cycles (the compliance report's untrained-work section stays empty)."""
    from kernel.auth.competencies import grant_competency
    from kernel.auth.models import Role
    from kernel.auth.service import create_user
    from kernel.db import Database

    db = Database(url, pool_size=1)
    try:
        with db.session() as session:
            create_user(
                session, actor="bench", username="bench-admin", role=Role.ADMIN,
                password=benchkit.BENCH_PASSWORD,
            )  # fmt: skip
            create_user(
                session, actor="bench", username="bench-ma", role=Role.MA,
                password=benchkit.BENCH_PASSWORD, sites=[USER_SITE],
            )  # fmt: skip
            create_user(
                session, actor="bench", username=OPERATOR, role=Role.MA,
                password=benchkit.BENCH_PASSWORD, all_sites=True,
            )  # fmt: skip
            grant_competency(
                session, OPERATOR, skill="sterilizer_operation", granted_on=dt.date(2000, 1, 1),
                actor="bench", now=dt.datetime.now(dt.UTC),
            )  # fmt: skip
    finally:
        db.dispose()
    return {
        "admin": ("bench-admin", benchkit.BENCH_PASSWORD),
        "ma": ("bench-ma", benchkit.BENCH_PASSWORD),
    }


# Measuring ------------------------------------------------------------------------------


def timed_get(base: str, path: str, headers: dict[str, str]) -> tuple[float, bytes]:
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        assert response.status == 200, response.status
        body = response.read()
    return time.perf_counter() - started, body


def timings(
    base: str, path: str, headers: dict[str, str], runs: int
) -> tuple[float, float, list[float], bytes]:
    """The first (cold) request, then the median of `runs` more."""
    cold, body = timed_get(base, path, headers)
    warm = [timed_get(base, path, headers)[0] for _ in range(runs)]
    return cold, statistics.median(warm), warm, body


def report_figure(
    backend: str, name: str, cold: float, median: float, warm: list[float], what: str
) -> benchkit.Figure:
    return benchkit.Figure(
        name, backend, round(median, 2), "s", target=2, comparison="<",
        note=f"median of {len(warm)} ({', '.join(f'{w:.2f}' for w in warm)} s); "
        f"cold {cold:.2f} s; {what}",
    )  # fmt: skip


def scan_codes(ranges: list[tuple[int, int]], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"PK-{rng.randint(*rng.choice(ranges)):07d}" for _ in range(count)]


def run_backend(
    backend: str,
    url: str,
    single_url: str,
    data: Dataset,
    single: Dataset,
    ctx: benchkit.BenchContext,
) -> tuple[list[benchkit.Figure], list[str]]:
    loaded = (load_postgres if backend == "PostgreSQL" else load_sqlite)(url, data)
    single_loaded = (load_postgres if backend == "PostgreSQL" else load_sqlite)(single_url, single)
    users = ensure_users(url)
    single_user = benchkit.ensure_user(single_url, "bench-single", "ma")
    runs = int(ctx.option("sites_runs", 3))
    today = dt.date.today()
    year = f"from={today - dt.timedelta(days=364)}&to={today}"
    user_codes = scan_codes([data.pack_ranges[USER_SITE]], 2000, 7)
    all_codes = scan_codes(list(data.pack_ranges.values()), 2000, 8)
    figures: list[benchkit.Figure] = [
        benchkit.Figure("bulk load of the group's dataset", backend, round(loaded, 1), "s"),
        benchkit.Figure("bulk load of the single-site copy", backend, round(single_loaded, 1), "s"),
    ]
    notes = []
    with benchkit.serve(url) as base, benchkit.serve(single_url) as single_base:
        admin = benchkit.login(base, *users["admin"])
        ma = benchkit.login(base, *users["ma"])
        one = benchkit.login(single_base, *single_user)
        compliance = "/api/v1/sterilization/compliance"
        for name, path, headers, what in (
            ("compliance, one year, one site: admin `?site=S07`",
             f"{compliance}?{year}&site={USER_SITE}", admin, "2 sterilizers"),
            ("compliance, one year, one site: the site's MA",
             f"{compliance}?{year}", ma, "2 sterilizers"),
            (f"compliance, one year, all {SITES} sites: admin",
             f"{compliance}?{year}", admin, f"{SITES * 2} sterilizers"),
        ):  # fmt: skip
            cold, median, warm, body = timings(base, path, headers, runs)
            report = json.loads(body)
            what += f", {sum(s['loads'] for s in report['sterilizers']):,} loads"
            figures.append(report_figure(backend, name, cold, median, warm, what))
        for name, path, headers in (
            ("reorder CSV, one site: admin `?site=S07`",
             f"/api/v1/reorder/suggestions.csv?site={USER_SITE}", admin),
            ("reorder CSV, one site: the site's MA", "/api/v1/reorder/suggestions.csv", ma),
        ):  # fmt: skip
            cold, median, warm, body = timings(base, path, headers, runs)
            rows = body.count(b"\n") - 1
            figures.append(report_figure(backend, name, cold, median, warm, f"{rows:,} rows"))
        scans: dict[str, list[benchkit.LoadResult]] = {"single": [], "ma": [], "admin": []}
        paths_user = [f"/api/v1/packs/{c}" for c in user_codes]
        paths_all = [f"/api/v1/packs/{c}" for c in all_codes]
        for server, headers, paths in ((single_base, one, paths_all), (base, ma, paths_user)):
            benchkit.wrk(server, label="warm-up", paths=paths, headers=headers, duration=3)
        # Interleaved rounds, so the machine's noise falls on all three alike.
        for _ in range(2):
            for key, server, headers, paths in (
                ("single", single_base, one, paths_all),
                ("ma", base, ma, paths_user),
                ("admin", base, admin, paths_all),
            ):
                scans[key].append(
                    benchkit.wrk(
                        server, label=f"scan {key}", paths=paths, headers=headers,
                        connections=16, duration=ctx.duration,
                    )
                )  # fmt: skip
    p99 = {k: statistics.mean(r.p99_ms for r in v) for k, v in scans.items()}
    p50 = {k: statistics.mean(r.p50_ms for r in v) for k, v in scans.items()}
    rps = {k: statistics.mean(r.requests_per_sec for r in v) for k, v in scans.items()}
    errors = {k: sum(r.non_2xx + r.socket_errors for r in v) for k, v in scans.items()}
    for key, label in (
        ("single", "single-site database, its MA"),
        ("ma", f"group, the MA of {USER_SITE}"),
        ("admin", "group, admin (all sites)"),
    ):
        figures.append(
            benchkit.Figure(
                f"scan p99, 16 conns: {label}", backend, round(p99[key], 1), "ms",
                note=f"p50 {p50[key]:.1f} ms, {rps[key]:,.0f} req/s, mean of 2 rounds; "
                f"non-2xx/errors {errors[key]}",
            )
        )  # fmt: skip
    for key, label in (("ma", f"the MA of {USER_SITE}"), ("admin", "admin")):
        figures.append(
            benchkit.Figure(
                f"scan p99 ratio, group ({label}) ÷ single site", backend,
                round(p99[key] / p99["single"], 2), "x", target=1.5, comparison="<=",
                note="same run, interleaved; throughput ratio "
                f"{rps[key] / rps['single']:.2f}\u00d7",
            )
        )  # fmt: skip
    notes.append(f"{backend}: load average {benchkit.load_average()} after the measurements")
    return figures, notes


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    days = max(28, round(DAYS * ctx.scale))
    items = max(200, round(ITEMS * ctx.scale))
    figures: list[benchkit.Figure] = []
    notes: list[str] = []
    data = single = Dataset(days, items)
    for backend, url in ctx.urls("sites"):
        single_url = (
            ctx.sqlite_url("sites_single")
            if backend == "SQLite"
            else ctx.postgres_url_for("sites1")
        )
        data = Dataset(days, items)
        single = Dataset(days, items, single_site=True)
        f, n = run_backend(backend, url, single_url, data, single, ctx)
        figures += f
        notes += n
    c = data.counts
    return benchkit.ScenarioResult(
        dataset=(
            f"{SITES} sites in {len(ZONES)} time zones \u00d7 2 sterilizers (pre-vacuum and "
            f"gravity), {days} days of cycles: {c.get('cycles', 0):,} cycles (daily "
            f"Bowie-Dick tests, weekly BIs: {c.get('bi_results', 0):,}), "
            f"{c.get('packs', 0):,} packs; {items:,} shared items stocked at every site "
            f"({c.get('stock_levels', 0):,} stock rows with par levels, "
            f"{c.get('stock_movements', 0):,} movements); a single-site copy of the same "
            "cycles and packs for the scan (bulk-loaded, reloaded every run)"
        ),
        figures=figures,
        notes=notes,
    )
