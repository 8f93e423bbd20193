"""Foundation benchmark: which ASGI server `steristock serve` should run.

Measures the trivial authenticated endpoint (`GET /api/v1/users/me`: token lookup, one
query, JSON) and `GET /health` under Granian and uvicorn, same app, same SQLite database,
32 connections, one worker each.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import benchkit


def main(argv: list[str]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-foundation-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    benchkit.migrate(url)
    username, password = benchkit.ensure_user(url)
    results = []
    for server in ("granian", "uvicorn"):
        with benchkit.serve(url, server=server) as base:
            headers = benchkit.login(base, username, password)
            for path in ("/health", "/api/v1/users/me"):
                results.append(
                    benchkit.wrk(
                        base,
                        label=f"{server} GET {path}",
                        paths=[path],
                        headers=headers,
                        connections=32,
                        duration=8,
                    )
                )
    for result in results:
        print(result.line())


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
