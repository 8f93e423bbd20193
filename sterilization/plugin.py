"""Sterilization joins the app: its API, pages, templates, header links, commands, demo
data, and the `shelf_life` dependency (the clinic's shelf-life setting) its handlers take."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.datastructures import State
from litestar.di import Provide

from kernel.auth.models import Role
from kernel.plugins import DomainPlugin, NavLink
from sterilization.shelf_life import ShelfLife

if TYPE_CHECKING:
    import click
    from litestar.config.app import AppConfig
    from sqlalchemy.orm import Session


def register_devices() -> None:
    """Sterilizers are devices the maintenance log may name (a repair acts on them);
    cycles are work that needs the `sterilizer_operation` competency."""
    from kernel.auth.competencies import register_operator_activity
    from kernel.devices import register_device_resolver, register_maintenance_listener
    from sterilization.devices import (
        cycle_operations,
        cycle_operators,
        on_maintenance,
        sterilizer_device,
    )

    register_device_resolver("sterilization", sterilizer_device)
    register_maintenance_listener("sterilization", on_maintenance)
    register_operator_activity("sterilization", cycle_operations, operators=cycle_operators)


def provide_shelf_life(state: State) -> ShelfLife:
    return ShelfLife.from_settings(state.settings)


class SterilizationPlugin(DomainPlugin):
    name = "sterilization"
    template_dir = Path(__file__).parent / "templates"
    static_dir = Path(__file__).parent / "static"  # css/count_sheet.css, js/count_sheet.js
    nav_links = (
        NavLink("Cycles", "/cycles", order=30),
        NavLink("Compliance", "/compliance", frozenset({Role.AUDITOR}), order=50),
        NavLink("Sterilizers", "/admin/sterilizers", frozenset({Role.MA, Role.AUDITOR}), order=90),
    )

    def __init__(self) -> None:
        register_devices()

    def route_handlers(self) -> Sequence[Any]:
        from sterilization.api import route_handlers

        return route_handlers

    def page_handlers(self) -> Sequence[Any]:
        from sterilization.pages import page_handlers

        return page_handlers

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.dependencies["shelf_life"] = Provide(provide_shelf_life, sync_to_thread=False)
        return super().on_app_init(app_config)

    def notification_rules(self) -> Sequence[Any]:
        from sterilization.notification_rules import RULES

        return RULES

    def on_cli_init(self, cli: click.Group) -> None:
        from sterilization.cli import add_sterilization_commands

        add_sterilization_commands(cli)

    def load_demo_data(self, session: Session, *, actor: str) -> None:
        from sterilization.demo import load_demo_data

        load_demo_data(session, actor=actor)
