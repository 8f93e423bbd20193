"""Inventory joins the app: its API, pages, templates, header links, commands, demo data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel.auth.models import Role
from kernel.plugins import DomainPlugin, NavLink

if TYPE_CHECKING:
    import click
    from sqlalchemy.orm import Session

READERS = frozenset({Role.MA, Role.PURCHASING, Role.AUDITOR})


class InventoryPlugin(DomainPlugin):
    name = "inventory"
    template_dir = Path(__file__).parent / "templates"
    nav_links = (
        NavLink("Purchasing", "/purchasing", READERS, order=40),
        NavLink("Catalogue", "/catalogue/items", READERS, order=60),
        NavLink("Import", "/catalogue/import", frozenset({Role.PURCHASING}), order=70),
    )

    def route_handlers(self) -> Sequence[Any]:
        from inventory import catalogue_import_views, label_views, purchasing_views, views

        return [
            *views.route_handlers,
            *label_views.route_handlers,
            *purchasing_views.route_handlers,
            *catalogue_import_views.route_handlers,
        ]

    def page_handlers(self) -> Sequence[Any]:
        from inventory import (
            catalogue_import_pages,
            catalogue_pages,
            pages,
            purchase_order_pages,
            purchasing_pages,
        )

        return [
            *pages.page_handlers,
            *purchasing_pages.page_handlers,
            *purchase_order_pages.page_handlers,
            *catalogue_pages.page_handlers,
            *catalogue_import_pages.page_handlers,
        ]

    def on_cli_init(self, cli: click.Group) -> None:
        from inventory.cli import add_inventory_commands

        add_inventory_commands(cli)

    def load_demo_data(self, session: Session, *, actor: str) -> None:
        from inventory.demo import load_demo_data

        load_demo_data(session, actor=actor)
