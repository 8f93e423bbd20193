"""`make demo`'s two steps on a fresh data dir: `steristock demo`, then `steristock serve`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.live_server import free_port

BIN = Path(sys.executable).parent / "steristock"


def fetch(url: str, body: dict | None = None, headers: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.mark.slow
def test_demo_then_serve_answers_health_and_demo_logins(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "STERISTOCK_"))}
    env["STERISTOCK_DATA_DIR"] = str(tmp_path / "data")
    demo = subprocess.run(
        [str(BIN), "demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stderr
    assert "DEMO ONLY" in demo.stdout
    passwords = dict(re.findall(r"^\s+(\w+)\s+role=\w+\s+password=(\S+)", demo.stdout, re.M))
    assert set(passwords) == {"admin", "ma", "purchasing", "auditor"}
    assert (tmp_path / "data" / "steristock.db").exists()
    assert (tmp_path / "data" / "secret_key").exists()

    again = subprocess.run(
        [str(BIN), "demo"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert again.returncode == 0 and "already loaded" in again.stdout

    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, health = fetch(base + "/health")
                break
            except OSError:
                assert server.poll() is None, "server exited"
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert status == 200 and health["status"] == "ok"
        status, token = fetch(
            base + "/api/v1/auth/token", {"username": "ma", "password": passwords["ma"]}
        )
        assert status == 200
        status, me = fetch(
            base + "/api/v1/users/me", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert status == 200 and me["role"] == "ma"
    finally:
        server.terminate()
        server.wait(timeout=15)
