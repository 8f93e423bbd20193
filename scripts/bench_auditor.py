"""Auditor exports benchmark: the sterilization log CSV over 500,000 cycles, streamed
through HTTP, with the server's memory sampled during the export; the compliance report for
one year over 50 sterilizers.

The dataset is the sterilization benchmark's (50 sterilizers x 10,000 cycles over ten
years, 10 packs per cycle), bulk-loaded with set-based SQL by `bench_sterilization`.

Targets: at least 100,000 rows/s through HTTP (issue 22; issue 8 asked 50,000), server
memory growth under 100 MB during the export; compliance for one year over 50 sterilizers
under 3 s (issue 8).

Usage: `python scripts/bench.py auditor [--scale 1.0] [--backend B]` (databases
recreated every run; `--scale` shrinks cycles per sterilizer as in `bench_sterilization`).
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
import urllib.request

import bench_sterilization as steri_bench
import benchkit


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


def run_backend(backend: str, url: str, shape: steri_bench.Shape) -> list[benchkit.Figure]:
    if url.startswith("sqlite:///"):
        benchkit.remove_sqlite(url)
    load = steri_bench.load_postgres if backend == "PostgreSQL" else steri_bench.load_sqlite
    seconds = load(url, shape)
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
        today = dt.date.today()
        path = f"/api/v1/sterilization/compliance?from={today - dt.timedelta(days=364)}&to={today}"
        runs = [timed_get(base, path, headers) for _ in range(3)]
        pages = benchkit.page_figures(backend, base, benchkit.page_session(url), ["/compliance"])
    return [
        benchkit.Figure("bulk load of the dataset", backend, round(seconds, 1), "s"),
        benchkit.Figure(
            f"log.csv, all {rows:,} cycles through HTTP", backend, round(rows / took), "rows/s",
            target=100_000, comparison=">=", note=f"{size / 1e6:.0f} MB in {took:.1f} s",
        ),
        benchkit.Figure(
            "server memory growth during the export", backend, round(growth, 1), "MB",
            target=100, comparison="<",
            note=f"RSS {sampler.samples[0]:.0f} MB before, peak {max(sampler.samples):.0f} MB",
        ),
        benchkit.Figure(
            f"compliance, one year \u00d7 {shape.sterilizers} sterilizers (median of 3)", backend,
            round(statistics.median(runs), 2), "s", target=3, comparison="<",
            note="runs: " + ", ".join(f"{r:.2f} s" for r in runs),
        ),
        *pages,
    ]  # fmt: skip


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    shape = steri_bench.shape_at(ctx.scale)
    figures = []
    for backend, url in ctx.urls("auditor"):
        figures += run_backend(backend, url, shape)
    return benchkit.ScenarioResult(
        dataset=(
            f"the sterilization dataset: {shape.sterilizers} sterilizers, "
            f"{shape.total_cycles:,} cycles over ten years ({shape.total_cycles // 10:,} in the "
            f"last year), {shape.total_packs:,} packs"
        ),
        figures=figures,
    )
