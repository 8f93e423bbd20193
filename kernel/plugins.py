"""How a package joins SteriStock: one plugin object, Litestar style.

A domain (or the kernel, or the composition) subclasses `DomainPlugin` and declares what
it brings; the app factory only lists plugins:

    class InventoryPlugin(DomainPlugin):
        name = "inventory"
        template_dir = Path(__file__).parent / "templates"
        static_dir = Path(__file__).parent / "static"   # served under /static/
        nav_links = (NavLink("Catalogue", "/catalogue/items", roles, order=60),)

        def route_handlers(self): ...     # API controllers and handlers
        def page_handlers(self): ...      # HTML pages, mounted with the kernel's page router
        def on_cli_init(self, cli): ...   # click commands (`labels_group(cli)` to share)
        def load_demo_data(self, session, *, actor): ...
        def notification_rules(self): ...  # kernel.notifications.NotificationRule, one per kind

It is a Litestar `InitPlugin` (its `on_app_init` registers the routes and pages) and has
the shape of Litestar's `CLIPluginProtocol` (`on_cli_init(cli: click.Group)`). Template
and static directories and navigation links are collected by the kernel plugin, which
builds the one Jinja environment, the one `/static` router and the header for all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from litestar.plugins import InitPlugin

from kernel.web.pages import page_router
from kernel.web.templating import NavLink

if TYPE_CHECKING:
    import click
    from litestar.config.app import AppConfig
    from sqlalchemy.orm import Session

    from kernel.notifications.rules import NotificationRule

__all__ = ["DomainPlugin", "NavLink", "domain_plugins", "notification_rules"]


class DomainPlugin(InitPlugin):
    """What one package brings to the app, the CLI and the demo."""

    name: ClassVar[str] = ""
    template_dir: ClassVar[Path | None] = None
    static_dir: ClassVar[Path | None] = None
    nav_links: ClassVar[Sequence[NavLink]] = ()

    def route_handlers(self) -> Sequence[Any]:
        """API controllers and route handlers (anything `Litestar(route_handlers=...)` takes)."""
        return ()

    def page_handlers(self) -> Sequence[Any]:
        """Page handlers: mounted under `/` with the kernel's HTML error pages and CSRF."""
        return ()

    def on_cli_init(self, cli: click.Group) -> None:
        """Add this package's commands to the `steristock` command."""

    def load_demo_data(self, session: Session, *, actor: str) -> None:
        """Fill an empty database with this package's demo records (`steristock demo`)."""

    def notification_rules(self) -> Sequence[NotificationRule]:
        """The notification rules of this package: plain functions that report facts
        (`kernel.notifications.rules`); the kernel's engine notifies each fact once."""
        return ()

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(self.route_handlers())
        pages = self.page_handlers()
        if pages:
            app_config.route_handlers.append(page_router(pages))
        return app_config

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def domain_plugins(plugins: Sequence[Any]) -> list[DomainPlugin]:
    """The SteriStock plugins among an app's plugins, in their order."""
    return [p for p in plugins if isinstance(p, DomainPlugin)]


def notification_rules(plugins: Sequence[Any]) -> list[NotificationRule]:
    """Every plugin's notification rules, in plugin order."""
    return [rule for p in domain_plugins(plugins) for rule in p.notification_rules()]
