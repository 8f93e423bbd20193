"""Sterilization benchmark: ten years of a busy clinic group.

50 sterilizers, 500,000 cycles (10,000 each) and 5,000,000 packs (10 per cycle), loaded
with set-based SQL (never through the API), then:

1. the scan lookup `GET /api/v1/packs/{code}` over random codes with 32 concurrent
   clients, against the trivial authenticated endpoint `GET /api/v1/users/me` measured in
   the same run (target: p99 < 25 ms and at least half its requests/second);
2. a positive BI on sterilizers 1-3, each with its last negative BI 500 cycles (5,000
   unused packs) back: the time of the whole `POST /api/v1/cycles/{id}/bi-result` request that
   takes the sterilizer out of service and recalls the packs (target < 1 s).

Usage: `python scripts/bench.py sterilization [sqlite|postgres|both] [--scale 0.1]
[--duration 10] [--workers 1]`. PostgreSQL uses `STERISTOCK_BENCH_POSTGRES_URL` (default: the local
`bench_sterilization` database, recreated). `--scale` shrinks cycles per sterilizer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import benchkit
from sqlalchemy import create_engine, text

STERILIZERS = 50
CYCLES_PER_STERILIZER = 10_000
PACKS_PER_CYCLE = 10
RECALL_CYCLES = 500  # sterilizer 1: cycles since its last negative BI (x 10 packs = 5,000)
YEARS_DAYS = 3650
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_sterilization"

PACK_INDEXES = {
    "ix_packs_code": "CREATE UNIQUE INDEX ix_packs_code ON packs (code)",
    "ix_packs_cycle_status": "CREATE INDEX ix_packs_cycle_status ON packs (cycle_id, status)",
    "ix_packs_status": "CREATE INDEX ix_packs_status ON packs (status)",
    "ix_packs_encounter_ref": "CREATE INDEX ix_packs_encounter_ref ON packs (encounter_ref)",
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
    INSERT INTO sterilizers (id, code, name, kind, status, last_cycle_number, created_at)
    SELECT s, 'ST' || lpad(s::text, 2, '0'), 'Sterilizer ' || s,
           CASE WHEN s % 2 = 0 THEN 'steam_prevac' ELSE 'steam_gravity' END,
           'in_service', :cycles, now() - interval '3651 days'
    FROM generate_series(1, :sterilizers) s
    """,
    """
    INSERT INTO cycles (id, sterilizer_id, number, cycle_type, status, operator, implants,
                        bi_lot, warnings, started_at, ended_at, completed_by)
    SELECT (s - 1) * :cycles + n, s, n,
           CASE WHEN s % 2 = 0 THEN 'prevac_132_4' ELSE 'gravity_121_30' END,
           CASE WHEN n % 211 = 0 AND n <= :cycles - :recall THEN 'failed' ELSE 'passed' END,
           'bench', false,
           CASE WHEN n % 19 = 0 OR (s <= 3 AND n IN (:cycles - :recall, :cycles))
                THEN 'BI-' || n END,
           '[]',
           now() - interval '3650 days' + n * (interval '3650 days' / :cycles),
           now() - interval '3650 days' + n * (interval '3650 days' / :cycles)
               + interval '45 minutes',
           'bench'
    FROM generate_series(1, :sterilizers) s, generate_series(1, :cycles) n
    """,
    """
    INSERT INTO cycle_parameters (cycle_id, temperature_c, pressure_kpa, exposure_minutes,
        dry_minutes, mechanical_ok, chemical_ok, notes, failure_reasons, recorded_by,
        recorded_at)
    SELECT id, CASE WHEN status = 'failed' THEN 118.0 ELSE 132.6 END, 205.0, 30.0, 20.0,
           true, true, NULL,
           CASE WHEN status = 'failed' THEN '["temperature too low"]' ELSE '[]' END,
           'bench', ended_at
    FROM cycles
    """,
    """
    INSERT INTO bi_results (cycle_id, result, control_grew, lot, read_at, recorded_by)
    SELECT id, 'negative', true, bi_lot, ended_at + interval '1 day', 'bench'
    FROM cycles
    WHERE bi_lot IS NOT NULL AND NOT (sterilizer_id <= 3 AND number > :cycles - :recall)
    """,
    """
    INSERT INTO packs (id, code, description, contents, implant, status, cycle_id,
        assembled_by, assembled_at, sterilized_at, used_at, used_by, encounter_ref)
    SELECT p.id, 'PK-' || lpad(p.id::text, greatest(6, length(p.id::text)), '0'),
           'Exam kit', '[{"name":"Mirror","quantity"\\:1}]', false, p.status, p.cycle_id,
           'bench', p.started_at - interval '30 minutes',
           CASE WHEN p.status <> 'failed' THEN p.ended_at END,
           CASE WHEN p.status = 'used' THEN p.ended_at + interval '1 day' END,
           CASE WHEN p.status = 'used' THEN 'bench' END,
           CASE WHEN p.status = 'used' THEN 'ENC-' || p.id END
    FROM (
        SELECT (c.id - 1) * :ppc + k AS id, c.id AS cycle_id, c.started_at, c.ended_at,
               CASE WHEN c.status = 'failed' THEN 'failed'
                    WHEN c.number > :cycles - :recall OR k = 1 THEN 'sterile'
                    ELSE 'used' END AS status
        FROM cycles c, generate_series(1, :ppc) k
    ) p
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
    INSERT INTO sterilizers (id, code, name, kind, status, last_cycle_number, created_at)
    SELECT n, printf('ST%02d', n), 'Sterilizer ' || n,
           CASE WHEN n % 2 = 0 THEN 'steam_prevac' ELSE 'steam_gravity' END,
           'in_service', :cycles, datetime('now', '-3651 days')
    FROM s
    """,
    """
    WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < :sterilizers),
         n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < :cycles)
    INSERT INTO cycles (id, sterilizer_id, number, cycle_type, status, operator, implants,
                        bi_lot, warnings, started_at, ended_at, completed_by)
    SELECT (s.v - 1) * :cycles + n.v, s.v, n.v,
           CASE WHEN s.v % 2 = 0 THEN 'prevac_132_4' ELSE 'gravity_121_30' END,
           CASE WHEN n.v % 211 = 0 AND n.v <= :cycles - :recall THEN 'failed' ELSE 'passed' END,
           'bench', 0,
           CASE WHEN n.v % 19 = 0 OR (s.v <= 3 AND n.v IN (:cycles - :recall, :cycles))
                THEN 'BI-' || n.v END,
           '[]',
           datetime(:t0 + n.v * :step, 'unixepoch'),
           datetime(:t0 + n.v * :step + 2700, 'unixepoch'),
           'bench'
    FROM s, n
    """,
    """
    INSERT INTO cycle_parameters (cycle_id, temperature_c, pressure_kpa, exposure_minutes,
        dry_minutes, mechanical_ok, chemical_ok, notes, failure_reasons, recorded_by,
        recorded_at)
    SELECT id, CASE WHEN status = 'failed' THEN 118.0 ELSE 132.6 END, 205.0, 30.0, 20.0,
           1, 1, NULL,
           CASE WHEN status = 'failed' THEN '["temperature too low"]' ELSE '[]' END,
           'bench', ended_at
    FROM cycles
    """,
    """
    INSERT INTO bi_results (cycle_id, result, control_grew, lot, read_at, recorded_by)
    SELECT id, 'negative', 1, bi_lot, datetime(ended_at, '+1 day'), 'bench'
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
        assembled_by, assembled_at, sterilized_at, used_at, used_by, encounter_ref)
    SELECT p.id, printf('PK-%06d', p.id), 'Exam kit', '[{"name":"Mirror","quantity"\\:1}]', 0,
           p.status, p.cycle_id, 'bench', datetime(p.started_at, '-30 minutes'),
           CASE WHEN p.status <> 'failed' THEN p.ended_at END,
           CASE WHEN p.status = 'used' THEN datetime(p.ended_at, '+1 day') END,
           CASE WHEN p.status = 'used' THEN 'bench' END,
           CASE WHEN p.status = 'used' THEN 'ENC-' || p.id END
    FROM p ORDER BY p.id
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
        "t0": int(now - YEARS_DAYS * 86400),
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


def run_backend(label: str, url: str, shape: Shape, duration: int, workers: int) -> list[str]:
    lines = [f"### {label}"]
    print(
        f"== {label}: loading {shape.sterilizers} sterilizers, {shape.total_cycles:,} cycles, "
        f"{shape.total_packs:,} packs",
        flush=True,
    )
    load = load_postgres if label == "PostgreSQL" else load_sqlite
    seconds = load(url, shape)
    lines.append(
        f"- data: {shape.sterilizers} sterilizers, {shape.total_cycles:,} cycles, "
        f"{shape.total_packs:,} packs; bulk load {seconds:.0f} s"
    )
    print(lines[-1], flush=True)
    username, password = benchkit.ensure_user(url, username="bench", role="admin")
    rng = random.Random(7)
    codes = [f"PK-{rng.randint(1, shape.total_packs):06d}" for _ in range(2000)]
    with benchkit.serve(url, workers=workers) as base:
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
        ratio = scan.requests_per_sec / baseline.requests_per_sec
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        lines += [
            f"- {workers} worker(s), 32 connections, {duration} s each; load average {load}",
            f"- {baseline.line()}",
            f"- {scan.line()}",
            f"- scan / baseline throughput: {ratio:.2f}",
        ]
        print("\n".join(lines[-4:]), flush=True)

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
        lines.append(
            f"- positive BI → recall of {counts[0]:,} packs (sterilizer out of service, "
            "packs recalled, history written), whole HTTP request, three sterilizers: "
            + ", ".join(f"{t:.0f} ms" for t in timings)
        )
        print(lines[-1], flush=True)
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_sterilization")
    parser.add_argument(
        "backend", nargs="?", default="both", choices=["sqlite", "postgres", "both"]
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the 10,000 cycles per sterilizer to load",
    )
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    shape = Shape(
        sterilizers=STERILIZERS,
        cycles=max(RECALL_CYCLES * 2, int(CYCLES_PER_STERILIZER * args.scale)),
        packs_per_cycle=PACKS_PER_CYCLE,
        recall_cycles=RECALL_CYCLES,
    )
    report: list[str] = []
    if args.backend in ("sqlite", "both"):
        tmp = Path(os.environ.get("STERISTOCK_BENCH_DIR") or tempfile.mkdtemp(prefix="bench-"))
        db_file = tmp / "bench_sterilization.db"
        db_file.unlink(missing_ok=True)
        report += run_backend("SQLite", f"sqlite:///{db_file}", shape, args.duration, args.workers)
    if args.backend in ("postgres", "both"):
        url = os.environ.get("STERISTOCK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
        report += run_backend("PostgreSQL", url, shape, args.duration, args.workers)
    print("\n".join(report))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
