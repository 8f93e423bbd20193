"""Labels benchmark: printing a cycle's sheet and single pack labels through HTTP.

1. `GET /api/v1/labels/packs.pdf?cycle=ID` for a 300-pack cycle (10 Letter sheets of 30)
   and the same as thermal (300 pages): wall time of whole requests, the first one with
   cold QR caches (target: under 2 s);
2. `GET /api/v1/packs/{code}/label.png` over 2,000 distinct packs with wrk (PNG labels
   per second; each code is rendered about once, so QR matrices are mostly cold), next to
   the trivial authenticated endpoint measured in the same run.

The data is made with the service functions in one transaction (not through the API).
Targets (issue 6): the 300-label sheet under 2 s; PNG labels per second reported.
Usage: `python scripts/bench.py labels [--duration 10] [--backend B]` (databases recreated;
the sizes are the issue's and do not scale).
"""

from __future__ import annotations

import statistics
import time
import urllib.request

import benchkit

CYCLE_PACKS = 300
PNG_PACKS = 2000


def load(url: str) -> tuple[int, list[str]]:
    """A passed 300-pack cycle, and 2,000 assembled packs; returns (cycle id, codes)."""
    from kernel.clock import Clock
    from kernel.db import Database
    from kernel.settings import Settings
    from sterilization import cycles, packs, sterilizers
    from sterilization.shelf_life import ShelfLife

    settings = Settings(STERISTOCK_TIMEZONE="America/Chicago")
    clock = Clock.from_settings(settings)
    db = Database(url, pool_size=1)
    try:
        with db.session() as session:
            sterilizers.create_sterilizer(
                session, code="AC1", name="Autoclave A", kind="steam_gravity", actor="bench"
            )
            contents = [{"name": "Mirror", "quantity": 1}, {"name": "Explorer", "quantity": 1}]
            loaded = packs.create_packs(
                session,
                description="Basic exam kit: mirror, explorer, cotton pliers",
                contents=contents,
                quantity=CYCLE_PACKS,
                implant=False,
                actor="bench",
                now=clock.now(),
            )
            cycle, _ = cycles.start_cycle(
                session,
                sterilizer_code="AC1",
                cycle_type="gravity_121_30",
                pack_codes=loaded,
                bi_lot=None,
                implants=False,
                actor="bench",
                zone=clock.zone,
                now=clock.now(),
            )
            cycles.complete_cycle(
                session,
                cycle.id,
                data={
                    "mechanical_ok": True,
                    "chemical_ok": True,
                    "temperature_c": 121.5,
                    "exposure_minutes": 30.0,
                    "pressure_kpa": 205.0,
                },
                actor="bench",
                zone=clock.zone,
                shelf_life=ShelfLife.from_settings(settings),
                now=clock.now(),
            )
            codes = packs.create_packs(
                session,
                description="Suture removal kit",
                contents=contents,
                quantity=PNG_PACKS,
                implant=False,
                actor="bench",
                now=clock.now(),
            )
            return cycle.id, codes
    finally:
        db.dispose()


def timed_get(url: str, headers: dict[str, str]) -> tuple[float, int]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        size = len(response.read())
    return time.perf_counter() - start, size


def run_backend(backend: str, url: str, duration: int) -> list[benchkit.Figure]:
    if url.startswith("sqlite:///"):
        benchkit.remove_sqlite(url)
    else:
        benchkit.reset_postgres(url)
    benchkit.migrate(url)
    username, password = benchkit.ensure_user(url, role="ma")
    cycle_id, codes = load(url)
    env = {"STERISTOCK_PUBLIC_URL": "https://steristock.clinic.example"}
    figures = []
    with benchkit.serve(url, extra_env=env) as base:
        headers = benchkit.login(base, username, password)
        for fmt in ("letter", "thermal"):
            sheet = f"{base}/api/v1/labels/packs.pdf?cycle={cycle_id}&format={fmt}"
            cold, size = timed_get(sheet, headers)
            warm = [timed_get(sheet, headers)[0] for _ in range(5)]
            what = "10 Letter sheets" if fmt == "letter" else "300 thermal pages"
            figures += [
                benchkit.Figure(
                    f"`packs.pdf?cycle=` {fmt}, {CYCLE_PACKS} labels ({what}), first request",
                    backend, round(cold, 2), "s", target=2, comparison="<",
                    note=f"{size / 1024:.0f} KiB; QR matrices cold",
                ),
                benchkit.Figure(
                    f"`packs.pdf?cycle=` {fmt}, reprint (median of 5)", backend,
                    round(statistics.median(warm), 2), "s", target=2, comparison="<",
                    note=f"min {min(warm):.2f} s",
                ),
            ]  # fmt: skip
        png = benchkit.wrk(
            base,
            label="GET /api/v1/packs/{code}/label.png",
            paths=[f"/api/v1/packs/{code}/label.png" for code in codes],
            headers=headers,
            connections=4,
            duration=duration,
        )
        baseline = benchkit.baseline(base, headers, duration=duration)
    figures += [
        benchkit.load_figures(
            backend, png, f"PNG labels `GET /api/v1/packs/{{code}}/label.png`, 4 conns, "
            f"{PNG_PACKS:,} distinct packs",
        ),
        benchkit.Figure(
            "PNG labels ÷ baseline `GET /api/v1/users/me` (16 conns)", backend,
            round(png.requests_per_sec / baseline.requests_per_sec, 2), "x",
            note=f"baseline {baseline.requests_per_sec:,.0f} req/s in the same run",
        ),
    ]  # fmt: skip
    return figures


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    figures = []
    for backend, url in ctx.urls("labels"):
        figures += run_backend(backend, url, ctx.duration)
    return benchkit.ScenarioResult(
        dataset=(
            f"a passed cycle of {CYCLE_PACKS} packs and {PNG_PACKS:,} more assembled packs "
            "(made with the service functions)"
        ),
        figures=figures,
    )
