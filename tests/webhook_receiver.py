"""A real HTTP receiver process for the webhook tests.

`python -m tests.webhook_receiver --port P --dir D [--fail-first N] [--status S]
[--hang SECONDS]`: serves on 127.0.0.1 until killed; every POST is written to D as
`<n>.json` (`{"headers": {lower-cased name: value}, "body": "<raw body>"}`) and
answered 500 for the first N requests, then S (200); `--hang` waits that long first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def serve(args: argparse.Namespace) -> None:
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    count = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            count["n"] += 1
            n = count["n"]
            record = {
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode(),
                "path": self.path,
            }
            (directory / f"{n}.json").write_text(json.dumps(record))
            if args.hang:
                time.sleep(args.hang)
            status = 500 if n <= args.fail_first else args.status
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"receiver error")

        def log_message(self, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    (directory / "ready").write_text("1")
    server.serve_forever()


@dataclass
class Receiver:
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/steristock"

    def requests(self) -> list[dict[str, Any]]:
        found = sorted((p for p in self.directory.glob("*.json")), key=lambda p: int(p.stem))
        return [json.loads(p.read_text()) for p in found]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_receiver(directory: Path, port: int, *args: str) -> Receiver:
    target = directory / f"hook-{port}"
    (target / "ready").unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.webhook_receiver", "--port", str(port), "--dir",
         str(target), *args],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (target / "ready").exists():  # written once it listens
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the webhook receiver did not start")
        time.sleep(0.05)
    return Receiver(port, target, process)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--hang", type=float, default=0)
    serve(parser.parse_args())


if __name__ == "__main__":
    main()
