"""Equipment joins the app: its API, pages, templates, header links, commands, demo data,
and its answer to `kernel.devices` ("is this code one of yours?")."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel.auth.models import Role
from kernel.devices import register_device_resolver
from kernel.plugins import DomainPlugin, NavLink

if TYPE_CHECKING:
    import click
    from sqlalchemy.orm import Session


def register_devices() -> None:
    """Equipment and HLD device codes are devices the maintenance log may name; HLD runs
    are work that needs the `hld` competency."""
    from equipment.hld import hld_device, hld_operations
    from equipment.registry import equipment_device
    from kernel.auth.competencies import register_operator_activity

    register_device_resolver("equipment", equipment_device)
    register_device_resolver("hld", hld_device)
    register_operator_activity("hld", hld_operations)


def register_report_sections() -> None:
    """The compliance report's `equipment` and `hld` sections."""
    from equipment.reports.compliance import register_sections

    register_sections()


class EquipmentPlugin(DomainPlugin):
    name = "equipment"
    template_dir = Path(__file__).parent / "templates"
    static_dir = Path(__file__).parent / "static"  # js/soak-timer.js
    nav_links = (NavLink("Equipment", "/equipment", frozenset({Role.MA, Role.AUDITOR}), order=45),)

    def __init__(self) -> None:
        register_devices()
        register_report_sections()

    def route_handlers(self) -> Sequence[Any]:
        from equipment.api import route_handlers

        return route_handlers

    def page_handlers(self) -> Sequence[Any]:
        from equipment.pages import page_handlers

        return page_handlers

    def on_cli_init(self, cli: click.Group) -> None:
        from equipment.cli import add_equipment_commands

        add_equipment_commands(cli)

    def load_demo_data(self, session: Session, *, actor: str) -> None:
        from equipment.demo import load_demo_data

        load_demo_data(session, actor=actor)
