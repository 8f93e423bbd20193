"""Auditor exports benchmark: the sterilization log CSV over 500,000 cycles, streamed
through HTTP, with the server's memory sampled during the export; the compliance report for
one year over 50 sterilizers.

The dataset is the sterilization benchmark's (50 sterilizers x 10,000 cycles over ten
years, 10 packs per cycle), bulk-loaded with set-based SQL by `bench_sterilization`.

Targets (issue 8): at least 50,000 rows/s through HTTP, server memory growth under 100 MB
during the export; compliance for one year over 50 sterilizers under 3 s.

Usage: `python scripts/bench.py auditor [sqlite|postgres|both] [--scale 1.0]`.
PostgreSQL uses `STERISTOCK_BENCH_POSTGRES_URL` (default: the local `bench_auditor`
database, recreated).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import bench_sterilization as steri_bench
import benchkit

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_auditor"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssSampler(threading.Thread):
    """Samples a process's resident memory every 20 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples = pid, [rss_mb(pid)]
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.02):
            self.samples.append(rss_mb(self.pid))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def stream_csv(base: str, headers: dict[str, str]) -> tuple[int, int, float]:
    """Download the whole log; returns (rows, bytes, seconds)."""
    request = urllib.request.Request(  # noqa: S310
        base + "/api/v1/sterilization/log.csv", headers=headers
    )
    started = time.perf_counter()
    rows = size = 0
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        assert response.status == 200
        while chunk := response.read(1 << 20):
            size += len(chunk)
            rows += chunk.count(b"\r\n")
    return rows - 1, size, time.perf_counter() - started


def timed_get(base: str, path: str, headers: dict[str, str]) -> float:
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        assert response.status == 200
        response.read()
    return time.perf_counter() - started


def run_backend(
    label: str, url: str, shape: steri_bench.Shape, *, reuse: bool = False
) -> list[str]:
    lines = [f"### {label}"]
    if not reuse:
        print(f"{label}: loading {shape.total_cycles:,} cycles, {shape.total_packs:,} packs")
        load = (
            steri_bench.load_postgres if url.startswith("postgresql") else steri_bench.load_sqlite
        )
        lines.append(f"- bulk load: {load(url, shape):.0f} s")
    username, password = benchkit.ensure_user(url, "bench-auditor", "auditor")
    with benchkit.serve(url) as base:
        headers = benchkit.login(base, username, password)
        pid = benchkit.server_pid(base)
        assert pid is not None
        timed_get(base, "/api/v1/sterilization/compliance", headers)  # warm up
        sampler = RssSampler(pid)
        sampler.start()
        rows, size, took = stream_csv(base, headers)
        sampler.stop()
        growth = max(sampler.samples) - sampler.samples[0]
        lines.append(
            f"- log.csv, all {rows:,} cycles ({size / 1e6:.0f} MB): {took:.1f} s, "
            f"{rows / took:,.0f} rows/s through HTTP; server RSS {sampler.samples[0]:.0f} MB "
            f"before, peak {max(sampler.samples):.0f} MB (growth {growth:.0f} MB)"
        )
        print(lines[-1], flush=True)
        today = dt.date.today()
        path = f"/api/v1/sterilization/compliance?from={today - dt.timedelta(days=364)}&to={today}"
        runs = [timed_get(base, path, headers) for _ in range(3)]
        lines.append(
            f"- compliance, one year x {shape.sterilizers} sterilizers "
            f"({shape.total_cycles // 10:,} cycles in the year): median "
            f"{statistics.median(runs) * 1000:.0f} ms (runs: "
            + ", ".join(f"{r * 1000:.0f}" for r in runs)
            + " ms)"
        )
        print(lines[-1], flush=True)
    lines.append("- load average: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    return lines


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench_auditor")
    parser.add_argument(
        "backend", nargs="?", default="both", choices=["sqlite", "postgres", "both"]
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the data loaded by a previous run"
    )
    args = parser.parse_args(argv)
    shape = steri_bench.Shape(
        sterilizers=steri_bench.STERILIZERS,
        cycles=max(
            steri_bench.RECALL_CYCLES * 2, int(steri_bench.CYCLES_PER_STERILIZER * args.scale)
        ),
        packs_per_cycle=steri_bench.PACKS_PER_CYCLE,
        recall_cycles=steri_bench.RECALL_CYCLES,
    )
    report: list[str] = []
    if args.backend in ("sqlite", "both"):
        tmp = Path(os.environ.get("STERISTOCK_BENCH_DIR") or tempfile.mkdtemp(prefix="bench-"))
        db_file = tmp / "bench_auditor.db"
        if not args.reuse:
            db_file.unlink(missing_ok=True)
        report += run_backend("SQLite", f"sqlite:///{db_file}", shape, reuse=args.reuse)
    if args.backend in ("postgres", "both"):
        url = os.environ.get("STERISTOCK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
        report += run_backend("PostgreSQL", url, shape, reuse=args.reuse)
    print("\n".join(report))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
