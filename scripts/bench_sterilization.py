"""Sterilization benchmark: ten years of a busy clinic group.

50 sterilizers, 500,000 cycles (10,000 each) and 5,000,000 packs (10 per cycle), loaded
with set-based SQL (never through the API), then:

1. the scan lookup `GET /api/v1/packs/{code}` over random codes with 32 concurrent
   clients, against the trivial authenticated endpoint `GET /api/v1/users/me` measured in
   the same run (target: p99 < 25 ms and at least half its requests/second);
2. a positive BI on sterilizers 1-3, each with its last negative BI 500 cycles (5,000
   unused packs) back: the time of the whole `POST /api/v1/cycles/{id}/bi-result` request that
   takes the sterilizer out of service and recalls the packs (target < 1 s).

Usage: `python scripts/bench.py sterilization [--scale 0.1] [--duration 10] [--backend B]`.
The databases are recreated on every run (the recall changes them). `--scale` shrinks
cycles per sterilizer (never below 1,000, so the 5,000-pack recall keeps its size).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import benchkit
from sqlalchemy import create_engine, text

STERILIZERS = 50
CYCLES_PER_STERILIZER = 10_000
PACKS_PER_CYCLE = 10
RECALL_CYCLES = 500  # sterilizer 1: cycles since its last negative BI (x 10 packs = 5,000)
YEARS_DAYS = 3650

PACK_INDEXES = {
    "ix_packs_code": "CREATE UNIQUE INDEX ix_packs_code ON packs (code)",
    "ix_packs_cycle_status": "CREATE INDEX ix_packs_cycle_status ON packs (cycle_id, status)",
    "ix_packs_status": "CREATE INDEX ix_packs_status ON packs (status)",
    "ix_packs_encounter_ref": "CREATE INDEX ix_packs_encounter_ref ON packs (encounter_ref)",
    "ix_packs_cycle_contents": (
        "CREATE INDEX ix_packs_cycle_contents ON packs (cycle_id, id, code, description)"
    ),
}


@dataclass
class Shape:
    sterilizers: int
    cycles: int  # per sterilizer
    packs_per_cycle: int
    recall_cycles: int

    @property
    def total_cycles(self) -> int:
        return self.sterilizers * self.cycles

    @property
    def total_packs(self) -> int:
        return self.total_cycles * self.packs_per_cycle


# PostgreSQL ---------------------------------------------------------------------------

POSTGRES_LOAD = [
    """
    INSERT INTO sterilizers (id, code, name, kind, status, last_cycle_number, created_at,
                             site_id, bi_frequency)
    SELECT s, 'ST' || lpad(s::text, 2, '0'), 'Sterilizer ' || s,
           CASE WHEN s % 2 = 0 THEN 'steam_prevac' ELSE 'steam_gravity' END,
           'in_service', :cycles, now() - interval '3651 days',
           (SELECT id FROM sites WHERE code = 'MAIN'), 'weekly'
    FROM generate_series(1, :sterilizers) s
    """,
    """
    INSERT INTO cycles (id, sterilizer_id, number, cycle_type, status, operator, implants,
                        bi_lot, warnings, started_at, ended_at, completed_by, site_id)
    SELECT (s - 1) * :cycles + n, s, n,
           CASE WHEN s % 2 = 0 THEN 'prevac_132_4' ELSE 'gravity_121_30' END,
           CASE WHEN n % 211 = 0 AND n <= :cycles - :recall THEN 'failed' ELSE 'passed' END,
           'bench', false,
           CASE WHEN n % 19 = 0 OR (s <= 3 AND n IN (:cycles - :recall, :cycles))
                THEN 'BI-' || n END,
           '[]',
           now() - interval '3652 days' + n * (interval '3650 days' / :cycles),
           now() - interval '3652 days' + n * (interval '3650 days' / :cycles)
               + interval '45 minutes',
           'bench',
           (SELECT id FROM sites WHERE code = 'MAIN')
    FROM generate_series(1, :sterilizers) s, generate_series(1, :cycles) n
    """,
    """
    INSERT INTO cycle_parameters (cycle_id, temperature_c, pressure_kpa, exposure_minutes,
        dry_minutes, mechanical_ok, chemical_ok, notes, failure_reasons, recorded_by,
        recorded_at, integrator, entered)
    SELECT id, CASE WHEN status = 'failed' THEN 118.0 ELSE 132.6 END, 205.0, 30.0, 20.0,
           true, true, NULL,
           CASE WHEN status = 'failed' THEN '["temperature too low"]' ELSE '[]' END,
           'bench', ended_at, 'pass',
           '{"temperature_c": 132.6, "pressure_kpa": 205.0}'
    FROM cycles
    """,
    """
    INSERT INTO bi_results (cycle_id, result, control_grew, lot, read_at, recorded_by,
        bi_product_id, incubation_started_at, recorded_at)
    SELECT id, 'negative', true, bi_lot, ended_at + interval '1 day', 'bench',
           (SELECT id FROM bi_products WHERE code = 'DEFAULT'), ended_at,
           ended_at + interval '1 day'
    FROM cycles
    WHERE bi_lot IS NOT NULL AND NOT (sterilizer_id <= 3 AND number > :cycles - :recall)
    """,
    """
    INSERT INTO packs (id, code, description, contents, implant, status, cycle_id,
        assembled_by, assembled_at, sterilized_at, used_at, used_by, encounter_ref, site_id)
    SELECT p.id, 'PK-' || lpad(p.id::text, greatest(6, length(p.id::text)), '0'),
           'Exam kit', '[{"name":"Mirror","quantity"\\:1}]', false, p.status, p.cycle_id,
           'bench', p.started_at - interval '30 minutes',
           CASE WHEN p.status <> 'failed' THEN p.ended_at END,
           CASE WHEN p.status = 'used' THEN p.ended_at + interval '1 day' END,
           CASE WHEN p.status = 'used' THEN 'bench' END,
           CASE WHEN p.status = 'used' THEN 'ENC-' || p.id END,
           (SELECT id FROM sites WHERE code = 'MAIN')
    FROM (
        SELECT (c.id - 1) * :ppc + k AS id, c.id AS cycle_id, c.started_at, c.ended_at,
               CASE WHEN c.status = 'failed' THEN 'failed'
                    WHEN c.number > :cycles - :recall OR k = 1 THEN 'sterile'
                    ELSE 'used' END AS status
        FROM cycles c, generate_series(1, :ppc) k
    ) p
    """,
    """
    INSERT INTO cycle_loads (cycle_id, pack_count, pack_codes, pack_descriptions)
    SELECT c.id, count(p.id), coalesce(string_agg(p.code, ' ' ORDER BY p.id), ''),
           coalesce(string_agg(p.description, '; ' ORDER BY p.id), '')
    FROM cycles c LEFT JOIN packs p ON p.cycle_id = c.id
    GROUP BY c.id
    """,
    """
    INSERT INTO sterilization_counters (name, value)
    SELECT 'pack', max(id) FROM packs
    """,
    "SELECT setval(pg_get_serial_sequence('sterilizers', 'id'), :sterilizers)",
    "SELECT setval(pg_get_serial_sequence('cycles', 'id'), (SELECT max(id) FROM cycles))",
    "SELECT setval(pg_get_serial_sequence('packs', 'id'), (SELECT max(id) FROM packs))",
]


def load_postgres(url: str, shape: Shape) -> float:
    benchkit.reset_postgres(url)
    benchkit.migrate(url)
    params = {
        "sterilizers": shape.sterilizers,
        "cycles": shape.cycles,
        "recall": shape.recall_cycles,
        "ppc": shape.packs_per_cycle,
    }
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.begin() as conn:
        # Bulk load: skip per-row FK triggers and build the pack indexes once at the end.
        conn.exec_driver_sql("SET session_replication_role = replica")
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for name in PACK_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        for statement in POSTGRES_LOAD:
            step = time.perf_counter()
            conn.execute(text(statement), params)
            print(
                f"  {statement.split()[0]} {statement.split()[2]}: "
                f"{time.perf_counter() - step:.1f} s",
                flush=True,
            )
        for ddl in PACK_INDEXES.values():
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql("SET session_replication_role = origin")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        conn.exec_driver_sql("CHECKPOINT")  # don't measure while the load is being flushed
    engine.dispose()
    return time.perf_counter() - started


# SQLite -------------------------------------------------------------------------------

SQLITE_LOAD = [
    """
    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :sterilizers)
    INSERT INTO sterilizers (id, code, name, kind, status, last_cycle_number, created_at,
                             site_id, bi_frequency)
    SELECT n, printf('ST%02d', n), 'Sterilizer ' || n,
           CASE WHEN n % 2 = 0 THEN 'steam_prevac' ELSE 'steam_gravity' END,
           'in_service', :cycles, datetime('now', '-3651 days'),
           (SELECT id FROM sites WHERE code = 'MAIN'), 'weekly'
    FROM s
    """,
    """
    WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < :sterilizers),
         n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < :cycles)
    INSERT INTO cycles (id, sterilizer_id, number, cycle_type, status, operator, implants,
                        bi_lot, warnings, started_at, ended_at, completed_by, site_id)
    SELECT (s.v - 1) * :cycles + n.v, s.v, n.v,
           CASE WHEN s.v % 2 = 0 THEN 'prevac_132_4' ELSE 'gravity_121_30' END,
           CASE WHEN n.v % 211 = 0 AND n.v <= :cycles - :recall THEN 'failed' ELSE 'passed' END,
           'bench', 0,
           CASE WHEN n.v % 19 = 0 OR (s.v <= 3 AND n.v IN (:cycles - :recall, :cycles))
                THEN 'BI-' || n.v END,
           '[]',
           datetime(:t0 + n.v * :step, 'unixepoch'),
           datetime(:t0 + n.v * :step + 2700, 'unixepoch'),
           'bench',
           (SELECT id FROM sites WHERE code = 'MAIN')
    FROM s, n
    """,
    """
    INSERT INTO cycle_parameters (cycle_id, temperature_c, pressure_kpa, exposure_minutes,
        dry_minutes, mechanical_ok, chemical_ok, notes, failure_reasons, recorded_by,
        recorded_at, integrator, entered)
    SELECT id, CASE WHEN status = 'failed' THEN 118.0 ELSE 132.6 END, 205.0, 30.0, 20.0,
           1, 1, NULL,
           CASE WHEN status = 'failed' THEN '["temperature too low"]' ELSE '[]' END,
           'bench', ended_at, 'pass',
           '{"temperature_c": 132.6, "pressure_kpa": 205.0}'
    FROM cycles
    """,
    """
    INSERT INTO bi_results (cycle_id, result, control_grew, lot, read_at, recorded_by,
        bi_product_id, incubation_started_at, recorded_at)
    SELECT id, 'negative', 1, bi_lot, datetime(ended_at, '+1 day'), 'bench',
           (SELECT id FROM bi_products WHERE code = 'DEFAULT'), ended_at,
           datetime(ended_at, '+1 day')
    FROM cycles
    WHERE bi_lot IS NOT NULL AND NOT (sterilizer_id <= 3 AND number > :cycles - :recall)
    """,
    """
    WITH RECURSIVE k(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM k WHERE v < :ppc),
    p AS (
        SELECT (c.id - 1) * :ppc + k.v AS id, c.id AS cycle_id, c.started_at, c.ended_at,
               CASE WHEN c.status = 'failed' THEN 'failed'
                    WHEN c.number > :cycles - :recall OR k.v = 1 THEN 'sterile'
                    ELSE 'used' END AS status
        FROM cycles c, k
    )
    INSERT INTO packs (id, code, description, contents, implant, status, cycle_id,
        assembled_by, assembled_at, sterilized_at, used_at, used_by, encounter_ref, site_id)
    SELECT p.id, printf('PK-%06d', p.id), 'Exam kit', '[{"name":"Mirror","quantity"\\:1}]', 0,
           p.status, p.cycle_id, 'bench', datetime(p.started_at, '-30 minutes'),
           CASE WHEN p.status <> 'failed' THEN p.ended_at END,
           CASE WHEN p.status = 'used' THEN datetime(p.ended_at, '+1 day') END,
           CASE WHEN p.status = 'used' THEN 'bench' END,
           CASE WHEN p.status = 'used' THEN 'ENC-' || p.id END,
           (SELECT id FROM sites WHERE code = 'MAIN')
    FROM p ORDER BY p.id
    """,
    """
    INSERT INTO cycle_loads (cycle_id, pack_count, pack_codes, pack_descriptions)
    SELECT cycle_id, count(*), group_concat(code, ' '), group_concat(description, '; ')
    FROM (SELECT cycle_id, code, description FROM packs ORDER BY cycle_id, id)
    GROUP BY cycle_id
    """,
    "INSERT INTO sterilization_counters (name, value) SELECT 'pack', max(id) FROM packs",
]


def load_sqlite(url: str, shape: Shape) -> float:
    benchkit.migrate(url)
    now = time.time()
    params = {
        "sterilizers": shape.sterilizers,
        "cycles": shape.cycles,
        "recall": shape.recall_cycles,
        "ppc": shape.packs_per_cycle,
        "t0": int(now - (YEARS_DAYS + 2) * 86400),  # the last load's BI is read by now
        "step": YEARS_DAYS * 86400 / shape.cycles,
    }
    started = time.perf_counter()
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=OFF")
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        conn.commit()
        for name in PACK_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX {name}")
        for statement in SQLITE_LOAD:
            step = time.perf_counter()
            conn.execute(text(statement), params)
            print(
                f"  INSERT {statement.split('INSERT INTO')[1].split()[0]}: "
                f"{time.perf_counter() - step:.1f} s",
                flush=True,
            )
        for ddl in PACK_INDEXES.values():
            conn.exec_driver_sql(ddl)
        conn.exec_driver_sql(benchkit.FORGET_PENDING_SEALS)
        conn.commit()
        conn.exec_driver_sql("ANALYZE")
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.commit()
    engine.dispose()
    return time.perf_counter() - started


# Measuring ----------------------------------------------------------------------------


def post_json(base: str, path: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 (loopback benchmark server)
        base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def lookup_cost(url: str, shape: Shape, samples: int = 2000) -> tuple[float, float]:
    """The scan's lookup itself, in process and single-threaded: what one scan costs the
    server (query, usable/reasons, response struct), without HTTP, auth or queueing. The
    API's path (`sterilization.pack_scan`: a prepared read, no Session), for a user who
    sees every site."""
    from kernel.db import Database, utcnow
    from kernel.reads import Reader
    from kernel.sites.scope import SiteScope
    from kernel.sites.service import scope_for_user
    from sterilization.pack_scan import scan_pack_view
    from sterilization.responses import pack_out

    rng = random.Random(11)
    db = Database(url, pool_size=1)
    timings = []
    try:
        with db.session(write=False) as session:
            every_site = SiteScope(scope_for_user(session, None).all_sites.values(), None)
        reader = Reader(db, every_site)
        for _ in range(samples):
            code = f"PK-{rng.randint(1, shape.total_packs):06d}"
            started = time.perf_counter()
            pack_out(scan_pack_view(reader, code, now=utcnow()))
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        db.dispose()
    timings.sort()
    return benchkit.percentile(timings, 50), benchkit.percentile(timings, 99)


def shape_at(scale: float) -> Shape:
    return Shape(
        sterilizers=STERILIZERS,
        cycles=max(RECALL_CYCLES * 2, int(CYCLES_PER_STERILIZER * scale)),
        packs_per_cycle=PACKS_PER_CYCLE,
        recall_cycles=RECALL_CYCLES,
    )


def run_backend(backend: str, url: str, shape: Shape, duration: int) -> list[benchkit.Figure]:
    if url.startswith("sqlite:///"):
        benchkit.remove_sqlite(url)
    load = load_postgres if backend == "PostgreSQL" else load_sqlite
    seconds = load(url, shape)
    username, password = benchkit.ensure_user(url, username="bench", role="admin")
    lookup_p50, lookup_p99 = lookup_cost(url, shape)
    rng = random.Random(7)
    codes = [f"PK-{rng.randint(1, shape.total_packs):06d}" for _ in range(2000)]
    with benchkit.serve(url) as base:
        headers = benchkit.login(base, username, password)
        # Warm up (connection pool, page cache) before measuring.
        benchkit.wrk(
            base,
            label="warm-up",
            paths=[f"/api/v1/packs/{c}" for c in codes],
            headers=headers,
            connections=32,
            duration=3,
        )
        baseline = benchkit.baseline(base, headers, connections=32, duration=duration)
        scan = benchkit.wrk(
            base,
            label="GET /api/v1/packs/{code}",
            paths=[f"/api/v1/packs/{c}" for c in codes],
            headers=headers,
            connections=32,
            duration=duration,
        )
        pages = benchkit.page_figures(
            backend,
            base,
            benchkit.page_session(url),
            ["/cycles", f"/cycles/{shape.cycles}", "/p/PK-000001"],
        )
        # Sterilizers 1-3 each have 5,000 unused packs since their last negative BI.
        timings, counts = [], []
        for sterilizer in (1, 2, 3):
            cycle_id = sterilizer * shape.cycles  # its last cycle: ids are (s-1)*cycles + n
            started = time.perf_counter()
            status, body = post_json(
                base,
                f"/api/v1/cycles/{cycle_id}/bi-result",
                {"result": "positive", "control_grew": True},
                headers,
            )
            timings.append((time.perf_counter() - started) * 1000)
            assert status == 200, body
            request = urllib.request.Request(  # noqa: S310
                f"{base}/api/v1/recalls/{body['recall_id']}", headers=headers
            )
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                counts.append(json.load(response)["pack_count"])
    ratio = scan.requests_per_sec / baseline.requests_per_sec
    return [
        benchkit.Figure("bulk load of the dataset", backend, round(seconds, 1), "s"),
        benchkit.Figure(
            "pack lookup in process p99 (query + reasons + struct)", backend,
            round(lookup_p99, 2), "ms", note=f"p50 {lookup_p50:.2f} ms; no HTTP, one thread",
        ),
        benchkit.load_figures(backend, baseline, "baseline `GET /api/v1/users/me`, 32 conns"),
        benchkit.load_figures(backend, scan, "scan `GET /api/v1/packs/{code}`, 32 conns"),
        benchkit.Figure(
            "scan p99, 32 conns", backend, round(scan.p99_ms, 1), "ms", target=25,
            comparison="<", note=f"baseline p99 {baseline.p99_ms:.1f} ms in the same run",
        ),
        benchkit.Figure(
            "scan ÷ baseline throughput", backend, round(ratio, 2), "x", target=0.5,
            comparison=">=",
        ),
        benchkit.Figure(
            f"positive BI → recall of {counts[0]:,} packs, whole HTTP request (worst of 3)",
            backend, round(max(timings)), "ms", target=1000, comparison="<",
            note="three sterilizers: " + ", ".join(f"{t:.0f} ms" for t in timings),
        ),
        *pages,
    ]  # fmt: skip


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    shape = shape_at(ctx.scale)
    figures = []
    for backend, url in ctx.urls("sterilization"):
        figures += run_backend(backend, url, shape, ctx.duration)
    return benchkit.ScenarioResult(
        dataset=(
            f"{shape.sterilizers} sterilizers, {shape.total_cycles:,} cycles, "
            f"{shape.total_packs:,} packs ({shape.packs_per_cycle} per cycle, readings and "
            "weekly BIs; bulk-loaded with set-based SQL, reloaded every run)"
        ),
        figures=figures,
    )
