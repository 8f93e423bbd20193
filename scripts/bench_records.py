"""Sterilizer record import benchmark (issue 16): 200 records from a USB stick's folder.

The folder holds 200 record files derived from the real samples of
`tests/fixtures/sterilizer-records/` (bytes as the machines wrote them, with only the cycle
counter and the date moved, so each record is a different cycle): the Tuttnauer Elara
samples (loads, Bowie-Dick, vacuum test, a failed and cancelled cycle, a drying-only program)
and the Sirona DAC printouts, in turn. Two sterilizers carry the samples' serial numbers.

Timed, from the shell as a clinic runs it, the whole `steristock cycles import FOLDER`
command (process start included):

- the first import (every record creates its cycle: none was typed);
- the same folder again (every file "already imported": nothing written).

The bound is 5 s for the first import. Usage: python scripts/bench.py records
[--backend sqlite|postgres|both] (always 200 records; each run starts from an empty
database).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchkit

sys.path.insert(0, str(benchkit.ROOT))

RECORDS = 200
SAMPLES = benchkit.ROOT / "tests" / "fixtures" / "sterilizer-records"
SERIALS = {"ELARA": ("16032087", "Tuttnauer Elara11"), "DAC": ("601362", "Sirona DAC Universal")}


def derived_records(count: int) -> list[tuple[str, bytes]]:
    """`count` distinct record files: the samples in turn, cycle counter and date moved."""
    samples = sorted((SAMPLES / "tuttnauer-elara11").glob("*.txt")) + sorted(
        (SAMPLES / "sirona-dac-universal").glob("*.txt")
    )
    out = []
    for i in range(count):
        sample = samples[i % len(samples)]
        data = sample.read_bytes()
        number = 1000 + i
        days = dt.timedelta(days=i)
        if b"Cycle Num:" in data:

            def tuttnauer_date(m: re.Match[bytes], days: dt.timedelta = days) -> bytes:
                day = dt.datetime.strptime(m.group(1).decode().title(), "%d/%b/%Y") + days
                return b"Date: " + day.strftime("%d/%b/%Y").upper().encode()

            data = re.sub(rb"Cycle Num: \d+", b"Cycle Num: %06d" % number, data, count=1)
            data = re.sub(rb"Date: (\d\d/[A-Z]{3}/\d{4})", tuttnauer_date, data, count=1)
            out.append((f"cycle_{number:06d}.txt", data))
        else:

            def dac_date(m: re.Match[bytes], days: dt.timedelta = days) -> bytes:
                day = dt.datetime.strptime(m.group(1).decode(), "%d-%m-%Y") + days
                return b"Dat.(T-M-J) " + day.strftime("%d-%m-%Y").encode()

            data = re.sub(rb"Zyklus:( +)\d+", rb"Zyklus:\g<1>%d" % number, data, count=1)
            data = re.sub(rb"Dat\.\(T-M-J\) (\d\d-\d\d-\d{4})", dac_date, data, count=1)
            out.append((f"dac_{number}.txt", data))
    return out


def add_sterilizers(url: str) -> None:
    from kernel.db import Database
    from sterilization.models import Sterilizer

    db = Database(url, pool_size=1)
    try:
        with db.session() as session:
            for code, (serial, name) in SERIALS.items():
                session.add(
                    Sterilizer(code=code, name=name, kind="steam_prevac", serial_number=serial)
                )
    finally:
        db.dispose()


def import_folder(url: str, folder: Path) -> tuple[float, str]:
    """Wall seconds of the command, and a note: its summary line and its CPU seconds (on a
    busy machine the wall time is mostly waiting for a core)."""
    env = {**os.environ, "DATABASE_URL": url}
    command = [str(Path(sys.executable).with_name("steristock")), "cycles", "import", str(folder)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"import failed ({done.returncode}): {done.stdout[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = done.stdout.strip().splitlines()[-1]
    return elapsed, f"{summary}; {cpu:.2f} s CPU, load average {benchkit.load_average()}"


def run_backend(backend: str, url: str) -> list[benchkit.Figure]:
    if url.startswith("postgresql"):
        benchkit.reset_postgres(url)
    else:
        benchkit.remove_sqlite(url)
    benchkit.migrate(url)
    add_sterilizers(url)
    with tempfile.TemporaryDirectory() as folder:
        for name, data in derived_records(RECORDS):
            (Path(folder) / name).write_bytes(data)
        first, first_summary = import_folder(url, Path(folder))
        again, again_summary = import_folder(url, Path(folder))
    return [
        benchkit.Figure(
            f"import {RECORDS} records (folder, CLI, all new)", backend, round(first, 2), "s",
            target=5, comparison="<", note=first_summary,
        ),
        benchkit.Figure(
            "the same folder again (nothing written)", backend, round(again, 2), "s",
            note=again_summary,
        ),
    ]  # fmt: skip


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    figures: list[benchkit.Figure] = []
    for backend, url in ctx.urls("records"):
        figures += run_backend(backend, url)
    return benchkit.ScenarioResult(
        dataset=f"{RECORDS} sterilizer record files (Tuttnauer Elara and Sirona DAC samples, "
        "counter and date moved), one folder, `steristock cycles import` from the shell",
        figures=figures,
    )
