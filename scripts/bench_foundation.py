"""Foundation benchmark (issue 2): which ASGI server `steristock serve` should run.

Measures the trivial authenticated endpoint (`GET /api/v1/users/me`: token lookup, one
query, JSON) and `GET /health` under Granian and uvicorn, same app, same SQLite database,
32 connections, one worker each. The choice holds if Granian serves at least as many
requests per second as uvicorn in the same run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import benchkit


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    tmp = Path(tempfile.mkdtemp(prefix="bench-foundation-", dir=ctx.work_dir))
    url = f"sqlite:///{tmp / 'bench.db'}"
    benchkit.migrate(url)
    username, password = benchkit.ensure_user(url)
    results: dict[tuple[str, str], benchkit.LoadResult] = {}
    servers = ["granian"]
    notes = []
    if (benchkit.BIN / "uvicorn").exists():
        servers.append("uvicorn")
    else:
        notes.append("uvicorn is not installed (`pip install uvicorn`), so only Granian ran")
    for server in servers:
        with benchkit.serve(url, server=server) as base:
            headers = benchkit.login(base, username, password)
            for path in ("/health", "/api/v1/users/me"):
                results[server, path] = benchkit.wrk(
                    base,
                    label=f"{server} GET {path}",
                    paths=[path],
                    headers=headers,
                    connections=32,
                    duration=ctx.duration,
                )
    figures = [
        benchkit.load_figures("SQLite", result, f"{server} `GET {path}`, 32 connections")
        for (server, path), result in results.items()
    ]
    for path in ("/health", "/api/v1/users/me") if "uvicorn" in servers else ():
        ratio = (
            results["granian", path].requests_per_sec / results["uvicorn", path].requests_per_sec
        )
        figures.append(
            benchkit.Figure(
                name=f"Granian ÷ uvicorn throughput, `GET {path}`",
                backend="SQLite",
                value=round(ratio, 2),
                unit="x",
                target=1.0,
                comparison=">=",
                note="same app, database and run; `steristock serve` runs Granian",
            )
        )
    return benchkit.ScenarioResult(
        dataset="one user in an empty SQLite database (no dataset to scale)",
        figures=figures,
        notes=notes,
    )
