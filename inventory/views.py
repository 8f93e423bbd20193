"""HTTP handlers and pages of this domain (filled in by the domain's issue)."""

from typing import Any

route_handlers: list[Any] = []
