"""Speed (issue 22): the app's per-request cost against the framework's floor.

The same Litestar + Granian serving one bare handler (`scripts/bare_app.py`, a small dict,
no middleware, no database) runs beside `steristock serve` in the same run, and each
SteriStock figure is divided by it: on a shared, noisy machine both sides see the same
neighbours, so the ratio is the figure to read. Measured, one Granian worker each, 32 wrk
connections: bare, `GET /api/v1/users/me`, `GET /health`, `GET /api/v1/locations` (50
rows: a session and a site-scoped query), bare again (the ratio uses the mean of the two
bare runs); then the same with `--workers 2` for the reads, against one worker, for the
scale-out target on this 2-core box. The server's CPU time per request (from /proc) is
reported too: it is what the ratio is made of, and it is much less noisy than the
wall-clock throughput when other processes take turns on the cores.
"""

from __future__ import annotations

import os
from pathlib import Path

import benchkit

CONNECTIONS = 32
SEEDED_LOCATIONS = 50
LIST_PATH = f"/api/v1/locations?limit={SEEDED_LOCATIONS}"


def seed_locations(url: str) -> None:
    """Fifty supply rooms at site MAIN, for a read that runs a query per request."""
    from sqlalchemy import select

    from inventory.models import Location
    from kernel.db import Database
    from kernel.sites import MAIN, Site

    db = Database(url, pool_size=1)
    try:
        with db.session() as session:
            site_id = session.scalar(select(Site.id).where(Site.code == MAIN))
            session.add_all(
                Location(code=f"ROOM{i:02d}", name=f"Room {i}", site_id=site_id)
                for i in range(1, SEEDED_LOCATIONS + 1)
            )
    finally:
        db.dispose()


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure(
    base: str, path: str, headers: dict[str, str], label: str, duration: int
) -> tuple[benchkit.LoadResult, float]:
    """A wrk run and the server's CPU microseconds per request during it."""
    pids = benchkit.server_process_tree(base)
    before = cpu_seconds(pids)
    result = benchkit.wrk(
        base, label=label, paths=[path], headers=headers, connections=CONNECTIONS,
        duration=duration,
    )  # fmt: skip
    used = cpu_seconds(pids) - before
    return result, used / max(result.requests, 1) * 1e6


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    figures: list[benchkit.Figure] = []
    for backend, url in ctx.urls("speed"):
        if backend == "PostgreSQL":
            benchkit.reset_postgres(url)
        elif ctx.sqlite_path("speed").exists():
            ctx.sqlite_path("speed").unlink()
        benchkit.migrate(url)
        seed_locations(url)
        username, password = benchkit.ensure_user(url)
        rates: dict[str, float] = {}
        for workers in (1, 2):
            with (
                benchkit.serve_bare(workers=workers) as bare,
                benchkit.serve(url, workers=workers) as base,
            ):
                headers = benchkit.login(base, username, password)
                measure(base, "/api/v1/users/me", headers, "warm-up", 1)
                first, bare_cpu = measure(bare, "/bare", {}, "bare", ctx.duration)
                me, me_cpu = measure(base, "/api/v1/users/me", headers, "me", ctx.duration)
                health, health_cpu = measure(base, "/health", {}, "health", ctx.duration)
                listed, listed_cpu = measure(base, LIST_PATH, headers, "list", ctx.duration)
                second, bare_cpu2 = measure(bare, "/bare", {}, "bare", ctx.duration)
            floor = (first.requests_per_sec + second.requests_per_sec) / 2
            rates[f"me{workers}"] = me.requests_per_sec
            rates[f"list{workers}"] = listed.requests_per_sec
            rates[f"bare{workers}"] = floor
            suffix = "" if workers == 1 else f", {workers} workers"
            bare_note = (
                f"bare handler {first.requests_per_sec:,.0f} and {second.requests_per_sec:,.0f}"
                f" req/s before and after, {(bare_cpu + bare_cpu2) / 2:.0f} µs CPU/request"
            )
            figures += [
                benchkit.load_figures(backend, first, f"bare Litestar + Granian handler{suffix}"),
                benchkit.load_figures(backend, me, f"`GET /api/v1/users/me`{suffix}"),
                benchkit.load_figures(backend, health, f"`GET /health`{suffix}"),
                benchkit.load_figures(backend, listed, f"`GET {LIST_PATH}`{suffix}"),
                benchkit.Figure(
                    name=f"`GET {LIST_PATH}` ÷ bare handler{suffix}",
                    backend=backend,
                    value=round(listed.requests_per_sec / floor, 3),
                    unit="x",
                    note=f"same run; {listed_cpu:.0f} µs CPU/request",
                ),
                benchkit.Figure(
                    name=f"`GET /api/v1/users/me` ÷ bare handler{suffix}",
                    backend=backend,
                    value=round(me.requests_per_sec / floor, 3),
                    unit="x",
                    target=0.20 if workers == 1 else None,
                    comparison=">=" if workers == 1 else None,
                    note=f"same run; {bare_note}; users/me {me_cpu:.0f} µs CPU/request",
                ),
                benchkit.Figure(
                    name=f"`GET /health` ÷ bare handler{suffix}",
                    backend=backend,
                    value=round(health.requests_per_sec / floor, 3),
                    unit="x",
                    note=f"same run; health {health_cpu:.0f} µs CPU/request",
                ),
            ]
        figures.append(
            benchkit.Figure(
                name="`GET /api/v1/users/me`, 2 workers ÷ 1 worker",
                backend=backend,
                value=round(rates["me2"] / rates["me1"], 2),
                unit="x",
                target=1.6,
                comparison=">=",
                note=f"bare handler 2 ÷ 1 workers: {rates['bare2'] / rates['bare1']:.2f}x"
                f" in the same run (wrk shares the 2 cores)",
            )
        )
        figures.append(
            benchkit.Figure(
                name=f"`GET {LIST_PATH}`, 2 workers ÷ 1 worker",
                backend=backend,
                value=round(rates["list2"] / rates["list1"], 2),
                unit="x",
                target=1.6,
                comparison=">=",
                note="a read with a session and a site-scoped query: the server's share of"
                " the cores is larger than for users/me, whose answer now comes from the"
                " worker's cache",
            )
        )
    return benchkit.ScenarioResult(
        dataset="one user in an empty database; the bare handler returns a 4-key dict",
        figures=figures,
    )
