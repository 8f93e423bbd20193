"""Instrument sets benchmark: an assembly table's morning through the API.

1. 300 packs counted against a count sheet (a 7-line laceration tray, 9 instruments):
   300 `POST /api/v1/packs {"template", "counted"}` requests one after the other, one pack
   each, as tablets send them; and the same 300 as two requests of 150 identical kits
   (`quantity`); whole wall time, target under 2 s; next to the same 300 requests as
   free-text packs, to show what the count itself costs;
2. the Letter label sheet for those 300 packs (`GET /api/v1/labels/packs.pdf?codes=...`,
   each label with the sheet's name, version, packaging and short items): wall time of
   the first request, target under 2 s.

Usage: `python scripts/bench.py sets [--backend B]` (databases recreated; the sizes are
the issue's and do not scale).
"""

from __future__ import annotations

import json
import time
import urllib.request

import benchkit

PACKS = 300
LINES = [("NH-MAYO-14", 1), ("FC-ADSON", 2), ("SC-SUTURE", 1), ("SC-IRIS-11", 1),
         ("HM-KELLY", 1), ("HM-MOSQ", 2), ("SH-BP3", 1)]  # fmt: skip


FREE_CONTENTS = [{"name": f"Instrument {c}", "quantity": q} for c, q in LINES]


def load(url: str) -> None:
    """The laceration tray's count sheet, through the service functions."""
    from kernel.clock import Clock
    from kernel.db import Database
    from kernel.settings import Settings
    from sterilization.sets import instruments, templates

    clock = Clock.from_settings(Settings(STERISTOCK_TIMEZONE="America/Chicago"))
    db = Database(url, pool_size=1)
    try:
        with db.session() as session:
            for code, _ in LINES:
                instruments.create_instrument(
                    session, code=code, name=f"Instrument {code}", manufacturer=None,
                    catalog_number=None, actor="bench",
                )  # fmt: skip
            templates.create_template(
                session, code="LAC", name="Laceration tray", packaging="container",
                shelf_life_days=90, items=LINES, actor="bench", now=clock.now(),
            )  # fmt: skip
    finally:
        db.dispose()


def post(base: str, headers: dict[str, str], body: dict) -> list[str]:
    request = urllib.request.Request(  # noqa: S310
        f"{base}/api/v1/packs",
        data=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return [p["code"] for p in json.loads(response.read())["items"]]


def counted(short: bool) -> list[dict]:
    lines = [{"instrument": c, "quantity": q} for c, q in LINES]
    if short:
        lines[1]["quantity"] -= 1
    return lines


def run_backend(backend: str, url: str) -> list[benchkit.Figure]:
    if url.startswith("sqlite:///"):
        benchkit.remove_sqlite(url)
    else:
        benchkit.reset_postgres(url)
    benchkit.migrate(url)
    username, password = benchkit.ensure_user(url, role="ma")
    load(url)
    figures = []
    with benchkit.serve(url) as base:
        headers = benchkit.login(base, username, password)
        start = time.perf_counter()
        codes: list[str] = []
        for n in range(PACKS):
            short = n % 10 == 0  # one in ten goes out short, accepted
            body = {"template": "LAC", "counted": counted(short)}
            if short:
                body["accept_short"] = {"reason": "Adson forceps out for repair"}
            codes += post(base, headers, body)
        one_by_one = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(PACKS):  # the same requests without a count sheet, for comparison
            post(base, headers, {"description": "Laceration tray", "contents": FREE_CONTENTS})
        free_text = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(2):
            post(base, headers, {"template": "LAC", "counted": counted(False), "quantity": 150})
        batched = time.perf_counter() - start
        request = urllib.request.Request(  # noqa: S310
            f"{base}/api/v1/labels/packs.pdf?codes={','.join(codes)}", headers=headers
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            size = len(response.read())
        sheet = time.perf_counter() - start
    figures += [
        benchkit.Figure(
            f"{PACKS} counted packs, one `POST /api/v1/packs` each", backend,
            round(one_by_one, 2), "s", target=2, comparison="<",
            note=f"{PACKS / one_by_one:.0f} packs/s; 1 in 10 short, accepted",
        ),
        benchkit.Figure(
            f"{PACKS} free-text packs, one `POST /api/v1/packs` each (same run)", backend,
            round(free_text, 2), "s",
            note=f"counted / free text = {one_by_one / free_text:.2f}",
        ),
        benchkit.Figure(
            f"{PACKS} counted packs, 2 requests of 150", backend, round(batched, 2), "s",
            target=2, comparison="<",
        ),
        benchkit.Figure(
            f"label sheet for the {PACKS} counted packs (`packs.pdf?codes=`)", backend,
            round(sheet, 2), "s", target=2, comparison="<", note=f"{size / 1024:.0f} KiB",
        ),
    ]  # fmt: skip
    return figures


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    figures = []
    for backend, url in ctx.urls("sets"):
        figures += run_backend(backend, url)
    return benchkit.ScenarioResult(
        dataset="a 7-line laceration tray count sheet (made with the service functions)",
        figures=figures,
    )
