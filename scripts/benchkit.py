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
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
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
    from steristock.migrations import upgrade

    upgrade(url)


def ensure_user(url: str, username: str = "bench", role: str = "admin") -> tuple[str, str]:
    """Create (or reuse) a benchmark user directly through the service."""
    from sqlalchemy import select

    from steristock.auth.models import Role, User
    from steristock.auth.service import create_user
    from steristock.db import Database

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
) -> LoadResult:
    """Drive load with wrk, cycling through `paths` (and `bodies`, if given)."""
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
          return wrk.format(nil, paths[i], nil, body)
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
