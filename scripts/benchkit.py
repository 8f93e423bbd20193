"""Benchmark harness shared by the domain scenarios (`scripts/bench_*.py`).

It serves the real app with `steristock serve` (Granian) in a subprocess against a given
database and drives HTTP load with `wrk` (a C load generator, so the client steals as
little CPU as possible from the server on this 2-core box). Every scenario also measures
a trivial authenticated endpoint (`GET /api/v1/users/me`) in the same run, so figures can
be read as ratios that hold on a noisy machine.

Requires `wrk` (`apt-get install wrk`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BENCH_PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway benchmark account)


@dataclass
class LoadResult:
    label: str
    requests: int
    seconds: float
    requests_per_sec: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int

    def line(self) -> str:
        return (
            f"{self.label}: {self.requests_per_sec:,.0f} req/s, p50 {self.p50_ms:.2f} ms, "
            f"p99 {self.p99_ms:.2f} ms, non-2xx {self.non_2xx}, errors {self.socket_errors}"
        )


MAIN_SITE_ID = 1  # site MAIN, made by migration 0011_sites in an empty database


def check_main_site(url: str) -> None:
    """Bulk loaders write `site_id = MAIN_SITE_ID`: make sure it is MAIN's id."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT id FROM sites WHERE code = 'MAIN'")).scalar()
    finally:
        engine.dispose()
    if found != MAIN_SITE_ID:
        raise RuntimeError(f"site MAIN has id {found}, the loaders expect {MAIN_SITE_ID}")


# The evidence triggers log every bulk-loaded row for sealing at the next commit. The
# benchmarks do not verify seals, so loaders empty that to-do list (sealing millions of
# loaded rows would otherwise land on the benchmark user's first commit).
FORGET_PENDING_SEALS = "DELETE FROM record_changes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_postgres(url: str) -> None:
    """Drop and recreate the public schema (benchmark databases only)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate(url: str) -> None:
    from kernel.migrations import upgrade

    upgrade(url)


def ensure_user(url: str, username: str = "bench", role: str = "admin") -> tuple[str, str]:
    """Create (or reuse) a benchmark user directly through the service."""
    from sqlalchemy import select

    from kernel.auth.models import Role, User
    from kernel.auth.service import create_user
    from kernel.db import Database

    db = Database(url, pool_size=1)
    try:
        with db.session() as session:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(
                    session,
                    actor="bench",
                    username=username,
                    role=Role(role),
                    password=BENCH_PASSWORD,
                )
    finally:
        db.dispose()
    return username, BENCH_PASSWORD


@contextlib.contextmanager
def serve(
    database_url: str,
    *,
    workers: int = 1,
    threads: int | None = None,
    extra_env: dict[str, str] | None = None,
    startup_timeout: float = 60.0,
    server: str = "granian",
) -> Iterator[str]:
    """Run `steristock serve` (or uvicorn, for comparison) on a free loopback port; yield
    its base URL. The database must already be migrated."""
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="steristock-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STERISTOCK_DATA_DIR": data_dir,
        "STERISTOCK_SECRET_KEY": "bench-secret",
        **(extra_env or {}),
    }
    cmd = [
        str(BIN / "steristock"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if threads:
        cmd += ["--threads", str(threads)]
    if server == "uvicorn":
        cmd = [
            str(BIN / "uvicorn"),
            "steristock.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as resp:  # noqa: S310
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy in time")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def serve_bare(*, workers: int = 1, startup_timeout: float = 30.0) -> Iterator[str]:
    """Serve `scripts/bare_app.py` (Litestar + Granian, one bare handler, no database) on a
    free loopback port: the framework's floor the app's figures are divided by."""
    port = free_port()
    cmd = [
        str(BIN / "granian"),
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-log",
        "bare_app:app",
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT / "scripts", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"bare app exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/bare", timeout=1) as resp:  # noqa: S310
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("bare app did not start in time")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def server_pid(base_url: str) -> int | None:
    """The PID of the process listening on the server's port (for RSS sampling)."""
    port = base_url.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True)
    for part in out.stdout.split("pid=")[1:]:
        return int(part.split(",")[0])
    return None


def login(base_url: str, username: str, password: str) -> dict[str, str]:
    """Bearer headers for a user."""
    req = urllib.request.Request(  # noqa: S310
        base_url + "/api/v1/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        token = json.load(resp)["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def wrk(
    base_url: str,
    *,
    label: str,
    paths: Sequence[str],
    headers: dict[str, str],
    method: str = "GET",
    bodies: Sequence[str] | None = None,
    connections: int = 16,
    duration: int = 10,
    threads: int = 2,
    unique_header: str | None = None,
) -> LoadResult:
    """Drive load with wrk, cycling through `paths` (and `bodies`, if given).
    `unique_header`: a header sent with a value of its own on every request (an
    `Idempotency-Key`, as a tablet sends)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    headers = {"Content-Type": "application/json", **headers}
    header_lines = "\n".join(
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()
    )
    paths_lua = ",".join(_lua_string(p) for p in paths)
    bodies_lua = ",".join(_lua_string(b) for b in bodies) if bodies else ""
    script = textwrap.dedent(
        f"""
        wrk.method = {_lua_string(method)}
        {header_lines}
        local paths = {{{paths_lua}}}
        local bodies = {{{bodies_lua}}}
        local counter = 0
        local unique_header = {_lua_string(unique_header) if unique_header else "nil"}
        local run_id = {_lua_string(uuid.uuid4().hex)}
        local thread_id = 0
        local tcount = 0
        setup = function(thread)
          thread:set("thread_id", tcount)
          tcount = tcount + 1
        end
        request = function()
          counter = counter + 1
          local i = ((counter * {threads} + thread_id) % #paths) + 1
          local body = nil
          if #bodies > 0 then body = bodies[((counter * {threads} + thread_id) % #bodies) + 1] end
          local headers = nil
          if unique_header ~= nil then
            headers = {{}}
            for k, v in pairs(wrk.headers) do headers[k] = v end
            headers[unique_header] = string.format("%s-%d-%d", run_id, thread_id, counter)
          end
          return wrk.format(nil, paths[i], headers, body)
        end
        done = function(summary, latency, requests)
          io.write(string.format(
            '{{"requests":%d,"duration_us":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,'
            .. '"status":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}}\\n',
            summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
            latency:percentile(99), latency.max, summary.errors.status, summary.errors.connect,
            summary.errors.read, summary.errors.write, summary.errors.timeout))
        end
        """
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
        script_path = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                "-s",
                script_path,
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script_path)
    stats = json.loads(out.strip().splitlines()[-1])
    seconds = stats["duration_us"] / 1e6
    return LoadResult(
        label=label,
        requests=stats["requests"],
        seconds=seconds,
        requests_per_sec=stats["requests"] / seconds if seconds else 0.0,
        p50_ms=stats["p50"] / 1000,
        p90_ms=stats["p90"] / 1000,
        p99_ms=stats["p99"] / 1000,
        max_ms=stats["max"] / 1000,
        non_2xx=stats["status"],
        socket_errors=stats["connect"] + stats["read"] + stats["write"] + stats["timeout"],
    )


def baseline(
    base_url: str, headers: dict[str, str], *, connections: int = 16, duration: int = 10
) -> LoadResult:
    """The trivial authenticated endpoint, for ratios measured in the same run."""
    return wrk(
        base_url,
        label="GET /api/v1/users/me (baseline)",
        paths=["/api/v1/users/me"],
        headers=headers,
        connections=connections,
        duration=duration,
    )


def as_json(results: Sequence[LoadResult]) -> str:
    return json.dumps([asdict(r) for r in results], indent=2)


# Structured results ---------------------------------------------------------------------
#
# Every scenario's `run(ctx)` returns a `ScenarioResult`: a line saying what data it ran
# on, and a list of `Figure`s. `scripts/bench.py --all` assembles them into the report
# table of `docs/benchmarks.md` (figure, backend, value, target, met / not met).

COMPARISONS = {
    ">=": lambda value, target: value >= target,
    ">": lambda value, target: value > target,
    "<=": lambda value, target: value <= target,
    "<": lambda value, target: value < target,
    "==": lambda value, target: value == target,
}


@dataclass
class Figure:
    """One measured number.

    - `name`: what was measured, e.g. "consume throughput, 16 clients";
    - `backend`: "SQLite", "PostgreSQL", or "" when the figure does not depend on it;
    - `value` and `unit` ("req/s", "ms", "s", "MB", "rows/s", "x" for a ratio, "" for a count);
    - `target` and `comparison` (one of `COMPARISONS`: the figure meets the target when
      `value <comparison> target`), both None for a figure reported for information;
    - `note`: the context needed to read it (connections, p50, the baseline it is divided by).
    """

    name: str
    backend: str
    value: float | None
    unit: str
    target: float | None = None
    comparison: str | None = None
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.value is None or self.target is None or self.comparison is None:
            return None
        return COMPARISONS[self.comparison](self.value, self.target)


@dataclass
class ScenarioResult:
    """What a scenario's `run(ctx)` returns: its dataset in words, and its figures."""

    dataset: str
    figures: list[Figure]
    notes: list[str] | None = None


@dataclass
class BenchContext:
    """What `scripts/bench.py` hands each scenario's `run(ctx)`.

    - `scale`: fraction of the realistic dataset the issue asked for (1.0 = full size);
    - `duration`: seconds per wrk measurement;
    - `backends`: the databases to run on, a subset of ("SQLite", "PostgreSQL");
    - `postgres_url`: a base PostgreSQL URL; `postgres_url_for(name)` derives the scenario's
      own database (`<base>_<name>`, created when missing) so scenarios never share one;
    - `work_dir`: where SQLite benchmark files live;
    - `regenerate`: rebuild datasets even when a matching one is already loaded;
    - `options`: scenario-specific settings (e.g. the soak's duration and clients).
    """

    scale: float = 1.0
    duration: int = 10
    backends: tuple[str, ...] = ("SQLite", "PostgreSQL")
    postgres_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
    work_dir: Path = Path(tempfile.gettempdir())
    regenerate: bool = False
    options: dict[str, object] | None = None

    def option(self, key: str, default: object) -> object:
        return (self.options or {}).get(key, default)

    def scaled(self, full: int, minimum: int = 1) -> int:
        return max(minimum, round(full * self.scale))

    def sqlite_url(self, name: str) -> str:
        return f"sqlite:///{self.sqlite_path(name)}"

    def sqlite_path(self, name: str) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir / f"bench_{name}.db"

    def postgres_url_for(self, name: str) -> str:
        from sqlalchemy.engine import make_url

        base = make_url(self.postgres_url)
        url = base.set(database=f"{base.database}_{name}")
        ensure_postgres_database(url.render_as_string(hide_password=False))
        return url.render_as_string(hide_password=False)

    def urls(self, name: str) -> list[tuple[str, str]]:
        """(backend label, database URL) for every backend of this run."""
        out = []
        for backend in self.backends:
            if backend == "SQLite":
                out.append((backend, self.sqlite_url(name)))
            else:
                out.append((backend, self.postgres_url_for(name)))
        return out


def ensure_postgres_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def load_figures(backend: str, result: LoadResult, name: str, **target: object) -> Figure:
    """A wrk throughput as a figure, with its latencies in the note."""
    return Figure(
        name=name,
        backend=backend,
        value=round(result.requests_per_sec, 1),
        unit="req/s",
        note=(
            f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
            f"{result.requests:,} requests, non-2xx {result.non_2xx}, errors "
            f"{result.socket_errors}"
        ),
        **target,  # type: ignore[arg-type]
    )


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def machine() -> dict[str, str]:
    """The machine a report was measured on."""
    import platform
    import sqlite3

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    os_name = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))} (kernel {platform.release()})"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": os_name,
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
    }


def postgres_version(url: str) -> str:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version)
    except Exception as exc:  # the report says so rather than failing
        return f"unreachable ({type(exc).__name__})"


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def process_cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time the given processes have used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def server_process_tree(base_url: str) -> list[int]:
    """The listening process and its children (Granian serves from a worker process)."""
    pid = server_pid(base_url)
    if pid is None:
        return []
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    parent = Path(f"/proc/{pid}/stat")
    if parent.exists():  # the listener may itself be Granian's worker
        ppid = int(parent.read_text().rsplit(")", 1)[1].split()[1])
        if ppid > 1 and ppid != os.getpid():
            pids.append(ppid)
            siblings = Path(f"/proc/{ppid}/task/{ppid}/children")  # the other workers
            if siblings.exists():
                pids += [int(p) for p in siblings.read_text().split()]
    return sorted(set(pids))


def page_session(url: str, username: str = "bench-pages") -> dict[str, str]:
    """A logged-in page session (cookie) for an admin, made in-process: the pages
    (issue 7) must render in under 300 ms server-side on the benchmark datasets."""
    from sqlalchemy import select

    from kernel.auth.models import User
    from kernel.auth.sessions import SESSION_COOKIE, start_session
    from kernel.db import Database
    from kernel.settings import Settings

    ensure_user(url, username, "admin")
    db = Database(url, pool_size=1)
    try:
        with db.session() as session:
            user = session.scalar(select(User).where(User.username == username))
            token, _ = start_session(session, user, settings=Settings(), client="bench")
    finally:
        db.dispose()
    return {"Cookie": f"{SESSION_COOKIE}={token}"}


def page_figures(
    backend: str, base_url: str, cookie: dict[str, str], paths: Sequence[str], runs: int = 3
) -> list[Figure]:
    """Whole-request time of each page (one at a time over loopback, so it is the server's
    time plus a fraction of a millisecond): the first request, then the median of `runs`."""
    import statistics

    figures = []
    for path in paths:
        times = []
        for _ in range(runs + 1):
            request = urllib.request.Request(base_url + path, headers=cookie)  # noqa: S310
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                body = response.read()
                status = response.status
            times.append((time.perf_counter() - started) * 1000)
            if status != 200 or b"<html" not in body[:500].lower():
                raise RuntimeError(f"page {path} answered {status} without a page")
        figures.append(
            Figure(
                f"page `{path}` (median of {runs})",
                backend,
                round(statistics.median(times[1:]), 1),
                "ms",
                target=300,
                comparison="<",
                note=f"first {times[0]:.0f} ms; {len(body) / 1024:.0f} KiB",
            )
        )
    return figures


def remove_sqlite(url: str) -> None:
    """Delete a SQLite benchmark database with its WAL and shared-memory files (a stale
    WAL next to a new file would be replayed into it)."""
    path = Path(url.removeprefix("sqlite:///"))
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
