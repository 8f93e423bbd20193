"""The real server (`steristock serve`, Granian) in its own process group, for tests that
must kill it hard (crash safety) or write to it while something else reads the database
(online backups)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.live_server import free_port, steristock_command


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `steristock` subprocess on `database_url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "STERISTOCK_"))}
    env |= {
        "DATABASE_URL": database_url,
        "STERISTOCK_DATA_DIR": str(data_dir),
        "STERISTOCK_SECRET_KEY": "server-process-test-secret",
        # the run's seal key (tests/conftest.py): backups made by the server verify in tests
        "STERISTOCK_AUDIT_KEY": os.environ.get("STERISTOCK_AUDIT_KEY", "test-audit-key"),
        "STERISTOCK_TIMEZONE": "America/Chicago",
        "STERISTOCK_NOTIFY_INTERVAL_SECONDS": "0",  # no notification loop behind the test
        **extra,
    }
    return env


class ServerProcess:
    """`steristock serve` in a new session, so SIGKILL reaches Granian's workers too."""

    def __init__(self, database_url: str, workdir: Path, *, threads: int | None = None) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.starts = 0

    def start(self, timeout: float = 60.0) -> str:
        assert self.process is None, "already running"
        self.starts += 1
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = self.workdir / f"server-{self.starts}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *steristock_command(),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    *(["--threads", str(self.threads)] if self.threads else []),
                ],
                env=cli_env(self.database_url, self.workdir / "data"),
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return self.base_url
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole process group (the serve process and its Granian workers)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._wait_for_group_exit()
        self.process = None

    def stop(self) -> None:
        """A clean shutdown (SIGTERM to the group), SIGKILL if it hangs."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
            self._wait_for_group_exit()
        except (ProcessLookupError, subprocess.TimeoutExpired, RuntimeError):
            self.kill()
        self.process = None

    def _wait_for_group_exit(self, timeout: float = 15.0) -> None:
        """Granian's workers are children of the serve process: wait until none of the
        group is alive (zombies waiting for init to reap them hold no files or sockets)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while _live_members(self.process.pid):
            if time.monotonic() > deadline:
                raise RuntimeError("server processes survived SIGKILL")
            time.sleep(0.05)


def _live_members(pgid: int) -> list[int]:
    """PIDs in process group `pgid` that are not zombies (Linux /proc)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            alive.append(int(stat.parent.name))
    return alive
