"""Sterilization joins the app: its API, pages, templates, header links, commands, demo data."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel.auth.models import Role
from kernel.plugins import DomainPlugin, NavLink

if TYPE_CHECKING:
    import click
    from sqlalchemy.orm import Session


class SterilizationPlugin(DomainPlugin):
    name = "sterilization"
    template_dir = Path(__file__).parent / "templates"
    nav_links = (
        NavLink("Cycles", "/cycles", order=30),
        NavLink("Compliance", "/compliance", frozenset({Role.AUDITOR}), order=50),
        NavLink("Sterilizers", "/admin/sterilizers", frozenset({Role.MA, Role.AUDITOR}), order=90),
    )

    def route_handlers(self) -> Sequence[Any]:
        from sterilization import label_views, report_views, views

        return [*views.route_handlers, *label_views.route_handlers, *report_views.route_handlers]

    def page_handlers(self) -> Sequence[Any]:
        from sterilization import compliance_pages, pages, sterilizer_pages

        return [
            *pages.page_handlers,
            *compliance_pages.page_handlers,
            *sterilizer_pages.page_handlers,
        ]

    def on_cli_init(self, cli: click.Group) -> None:
        from sterilization.cli import add_sterilization_commands

        add_sterilization_commands(cli)

    def load_demo_data(self, session: Session, *, actor: str) -> None:
        from sterilization.demo import load_demo_data

        load_demo_data(session, actor=actor)
