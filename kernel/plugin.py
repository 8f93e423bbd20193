"""The kernel as a plugin: settings and database on the app's state, auth, problems,
security headers, CSRF, templates, static files, OpenAPI, and the kernel's own routes
(health, tokens, users, audit trail, login/logout and the user admin pages).

It goes first in the app's plugin list: its `on_app_init` also reads the other plugins'
declarations (template directories, navigation links), and its `receive_route` documents
every API route's problem responses as the route is registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.datastructures import MutableScopeHeaders
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.plugins import ReceiveRoutePlugin
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope

from kernel.clock import CLOCK_STATE_KEY, Clock, provide_clock
from kernel.db import Database, provide_db_session
from kernel.plugins import DomainPlugin, domain_plugins
from kernel.problems import (
    document_route_problems,
    internal_error_handler,
    problem_details_plugin,
    request_id,
)
from kernel.settings import Settings, get_settings
from kernel.web.templating import (
    NAV_STATE_KEY,
    STATIC_DIR,
    TEMPLATES_DIR,
    NavLink,
    static_files_router,
    template_config,
)

if TYPE_CHECKING:
    import click
    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.routes import BaseRoute

API_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}
DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


async def add_response_headers(message: Message, scope: Scope) -> None:
    """Security headers and the request id on every response."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in API_SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
    # Over HTTPS only (directly, or via a trusted proxy's X-Forwarded-Proto: see proxies.py).
    if scope.get("scheme") == "https":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    headers["X-Request-ID"] = request_id(scope)


class KernelPlugin(DomainPlugin, ReceiveRoutePlugin):
    """The kernel: pass the settings and database to use (default: from the environment,
    and a database the app disposes of on shutdown)."""

    name = "kernel"
    template_dir = TEMPLATES_DIR
    static_dir = STATIC_DIR
    nav_links = (NavLink("Users", "/admin/users", frozenset(), order=80),)

    def __init__(self, settings: Settings | None = None, database: Database | None = None) -> None:
        from kernel.openapi import OperationIds

        self._settings = settings
        self._database = database
        self.operation_ids = OperationIds()

    def route_handlers(self) -> Sequence[Any]:
        from kernel.audit.export import download_audit_csv
        from kernel.audit.views import AuditController
        from kernel.auth.views import AuthController, UserController
        from kernel.health import get_health
        from kernel.openapi import SWAGGER_DIR, SWAGGER_STATIC

        return [
            get_health,
            AuthController,
            UserController,
            AuditController,
            download_audit_csv,
            create_static_files_router(
                path=SWAGGER_STATIC, directories=[SWAGGER_DIR], include_in_schema=False
            ),
        ]

    def page_handlers(self) -> Sequence[Any]:
        from kernel.auth.pages import page_handlers as user_pages
        from kernel.web.pages import page_handlers as login_pages

        return [*login_pages, *user_pages]

    def on_cli_init(self, cli: click.Group) -> None:
        from kernel.cli import add_kernel_commands

        add_kernel_commands(cli)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        from kernel.auth.middleware import PUBLIC_PATHS, BearerTokenAuthMiddleware
        from kernel.auth.sessions import LoginRequired
        from kernel.auth.views import provide_current_user
        from kernel.openapi import OperationIds, openapi_config
        from kernel.web import pages

        self.operation_ids = OperationIds()  # this app's routes (receive_route) only
        settings = self._settings or get_settings()
        settings.ensure_secret_key()
        owned = self._database is None
        db = self._database or Database(
            settings.effective_database_url,
            pool_size=settings.db_pool_size,
            sqlite_synchronous=settings.sqlite_synchronous,
        )
        self.settings = settings

        def dispose_database(app: Litestar) -> None:
            if owned:
                db.dispose()

        plugins = domain_plugins(app_config.plugins)
        app_config.state.update(
            {
                "settings": settings,
                "db": db,
                CLOCK_STATE_KEY: Clock.from_settings(settings),
                NAV_STATE_KEY: nav_links(plugins),
            }
        )
        app_config.dependencies.update(
            {
                "db_session": Provide(provide_db_session),
                "me": Provide(provide_current_user, sync_to_thread=False),
                "clock": Provide(provide_clock, sync_to_thread=False),
            }
        )
        app_config.middleware.extend(
            [
                DefineMiddleware(BearerTokenAuthMiddleware, exclude=PUBLIC_PATHS),
                pages.csrf_middleware(settings),  # after auth: an anonymous POST logs in first
            ]
        )
        app_config.template_config = template_config(template_directories(plugins))
        app_config.route_handlers.append(static_files_router(static_directories(plugins)))
        problem_details_plugin().on_app_init(app_config)
        app_config.exception_handlers.update(
            {
                Exception: internal_error_handler,
                LoginRequired: pages.redirect_to_login,
                NotFoundException: pages.not_found,
            }
        )
        app_config.before_send.append(add_response_headers)
        app_config.openapi_config = openapi_config(self.operation_ids)
        app_config.on_shutdown.append(dispose_database)
        app_config.logging_config = LoggingConfig(
            root={"level": "WARNING", "handlers": ["queue_listener"]},
            loggers={"steristock": {"level": "INFO", "propagate": True}},
            log_exceptions="never",
        )
        app_config.debug = False
        return super().on_app_init(app_config)

    def receive_route(self, route: BaseRoute) -> None:
        """Document each API route as it is registered: its problem responses, its file
        body if it answers one, and its handler name for the operationIds."""
        from kernel.openapi import document_file_responses

        document_route_problems(route)
        document_file_responses(route)
        self.operation_ids.register(route)

    def behind_proxies(self, app: Litestar) -> Litestar:
        """Believe X-Forwarded-* from the trusted proxies (STERISTOCK_TRUSTED_PROXIES), and
        route the path aliases routes declare (`kernel.web.path_aliases`: `/{id}.pdf`).
        Both wrap the whole ASGI app, 404s and static files included, so they run on the
        built app: Litestar has no plugin hook after its ASGI handler exists."""
        from kernel.proxies import trust_forwarded_headers
        from kernel.web.path_aliases import serve_path_aliases

        serve_path_aliases(app)
        trust_forwarded_headers(app, app.state.settings.trusted_proxies)
        return app


def template_directories(plugins: Sequence[DomainPlugin]) -> list[Path]:
    """The plugins' template directories in plugin order (the kernel's first)."""
    return [p.template_dir for p in plugins if p.template_dir is not None]


def static_directories(plugins: Sequence[DomainPlugin]) -> list[Path]:
    """The plugins' static directories in plugin order (the kernel's first)."""
    return [p.static_dir for p in plugins if p.static_dir is not None]


def nav_links(plugins: Sequence[DomainPlugin]) -> tuple[NavLink, ...]:
    """Every plugin's header links, by `order` (then plugin order)."""
    links = [link for p in plugins for link in p.nav_links]
    return tuple(sorted(links, key=lambda link: link.order))
