"""Inventory joins the app: its API, pages, templates, header links, commands, demo data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inventory.roles import READERS
from kernel.auth.models import Role
from kernel.plugins import DomainPlugin, NavLink

if TYPE_CHECKING:
    import click
    from sqlalchemy.orm import Session


class InventoryPlugin(DomainPlugin):
    name = "inventory"
    template_dir = Path(__file__).parent / "templates"
    nav_links = (
        NavLink("Purchasing", "/purchasing", READERS, order=40),
        NavLink("Catalogue", "/catalogue/items", READERS, order=60),
        NavLink("Import", "/catalogue/import", frozenset({Role.PURCHASING}), order=70),
    )

    def route_handlers(self) -> Sequence[Any]:
        from inventory.api import route_handlers

        return route_handlers

    def page_handlers(self) -> Sequence[Any]:
        from inventory.pages import page_handlers

        return page_handlers

    def notification_rules(self) -> Sequence[Any]:
        from inventory.notification_rules import RULES

        return RULES

    def on_cli_init(self, cli: click.Group) -> None:
        from inventory.cli import add_inventory_commands

        add_inventory_commands(cli)

    def load_demo_data(self, session: Session, *, actor: str) -> None:
        from inventory.demo import load_demo_data

        load_demo_data(session, actor=actor)
