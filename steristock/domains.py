"""The domains the shell composes. Each domain package exposes, in its `views` module,
`route_handlers` (its API and pages) and, in its `demo` module, `load_demo_data`."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

DOMAINS = ("inventory", "sterilization")


def domain_route_handlers() -> list[Any]:
    handlers: list[Any] = []
    for name in DOMAINS:
        handlers.extend(import_module(f"{name}.views").route_handlers)
    return handlers


def domain_demo_loaders() -> list[Callable[..., None]]:
    return [import_module(f"{name}.demo").load_demo_data for name in DOMAINS]
