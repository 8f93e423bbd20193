"""Paths a route also answers under where Litestar's router cannot express them: a path
parameter followed by a file suffix in one segment (`/purchase-orders/{po_id}.pdf`; the
router takes a segment as either a parameter or a literal).

A route declares the alias in its `opt`:

    @get("/{po_id:int}/pdf", opt={"path_alias": "/api/v1/purchase-orders/{po_id}.pdf"})

and `serve_path_aliases(app)` wraps the built app's ASGI handler so a request for the
alias is routed to the route's own path (`/api/v1/purchase-orders/42.pdf` → `.../42/pdf`):
the handler, its guards, parameters and OpenAPI entry are the route's. Alias parameters
match one path segment, digits, letters, `_`, `.` or `-`.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar

ALIAS_OPT = "path_alias"
_PARAM = re.compile(r"\{(\w+)\}")


def _pattern(alias: str) -> re.Pattern[str]:
    parts = _PARAM.split(alias)  # literal, name, literal, name, ...
    regex = "".join(
        f"(?P<{part}>[A-Za-z0-9_.-]+?)" if i % 2 else re.escape(part)
        for i, part in enumerate(parts)
    )
    return re.compile(regex)


def path_aliases(app: Litestar) -> list[tuple[re.Pattern[str], str]]:
    """(alias pattern, route path template) for every route handler declaring an alias."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            alias = (handler.opt or {}).get(ALIAS_OPT)
            if alias:
                found.append((_pattern(alias), route.path_format))
    return found


def serve_path_aliases(app: Litestar) -> None:
    """Route requests for declared aliases to their routes (no-op without aliases)."""
    rewrites = path_aliases(app)
    if not rewrites:
        return
    inner = app.asgi_handler

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for pattern, template in rewrites:
                if found := pattern.fullmatch(path):
                    path = template.format(**found.groupdict())
                    scope = {**scope, "path": path, "raw_path": path.encode()}
                    break
        await inner(scope, receive, send)

    app.asgi_handler = handler
