"""`steristock serve` as a subprocess on a loopback port, for tests that need the real
server: several Granian workers, its own logs, real sockets."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Under pytest-xdist each worker takes ports from its own block below Linux's ephemeral
# range (32768-60999): a port from bind(0) is only free until something else is handed it
# (another worker's server, or any outgoing connection), while these blocks are nobody
# else's. One worker runs one test at a time, so a block never races with itself.
PORT_BLOCKS_START = 20000
PORT_BLOCK_SIZE = 400
_next_port = itertools.count()


def free_port() -> int:
    """A loopback port nobody listens on, for a server subprocess."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else -1
    if 0 <= index < (32768 - PORT_BLOCKS_START) // PORT_BLOCK_SIZE:
        first = PORT_BLOCKS_START + index * PORT_BLOCK_SIZE
        for _ in range(PORT_BLOCK_SIZE):
            port = first + next(_next_port) % PORT_BLOCK_SIZE
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def steristock_command() -> list[str]:
    executable = shutil.which("steristock", path=str(Path(sys.executable).parent))
    return [executable] if executable else [sys.executable, "-m", "steristock.cli"]


@dataclass
class LiveServer:
    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> set[int]:
        """The Granian worker processes (children of the server process)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}


def wait_until_serving(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


@contextmanager
def live_server(
    database_url: str, workdir: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "STERISTOCK_DATA_DIR": str(workdir / "data"),
        "STERISTOCK_PUBLIC_URL": base_url,
        # No notification loop unless a test asks for one: it would write to the database
        # behind the test's back (tests/steristock/test_notify_serve.py asks).
        "STERISTOCK_NOTIFY_INTERVAL_SECONDS": "0",
        **(env or {}),
    }
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*steristock_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir,
        )  # fmt: skip
    try:
        wait_until_serving(base_url, process, log)
        yield LiveServer(base_url, port, process, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
