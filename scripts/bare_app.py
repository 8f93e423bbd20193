"""The framework's floor: the same Litestar + Granian serving one bare handler.

`scripts/bench.py` serves this beside the real app in the same run (`benchkit.serve_bare`)
and reports SteriStock's throughput as a ratio to it, so a noisy shared machine cancels
out. No middleware, no database, no auth: a GET that returns a small dict as JSON.
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/bare", sync_to_thread=False)
def bare() -> dict[str, object]:
    """What a `GET /api/v1/users/me` answer looks like, without doing any of its work."""
    return {"username": "bench", "full_name": "", "role": "admin", "active": True}


app = Litestar(route_handlers=[bare], debug=False)
