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

from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.plugins import ReceiveRoutePlugin
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope

from kernel.audit import keys as seal_keys
from kernel.clock import CLOCK_STATE_KEY, Clock, provide_clock
from kernel.db import Database, provide_db_session
from kernel.notifications.rules import STATE_KEY as NOTIFICATION_RULES_KEY
from kernel.notifications.rules import rules_by_kind
from kernel.plugins import DomainPlugin, domain_plugins, notification_rules
from kernel.problems import (
    document_route_problems,
    internal_error_handler,
    problem_details_plugin,
    request_id,
    too_deep_handler,
)
from kernel.reads import provide_reader
from kernel.settings import Settings, get_settings
from kernel.web.templating import (
    NAV_STATE_KEY,
    STATIC_DIR,
    TEMPLATES_DIR,
    NavLink,
    static_files_router,
    template_config,
)
from kernel.write_batches import provide_write_batcher

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


_DEFAULT_HEADERS = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in {**API_SECURITY_HEADERS, "Content-Security-Policy": DEFAULT_CSP}.items()
)
_HSTS = (b"strict-transport-security", b"max-age=31536000")


async def add_response_headers(message: Message, scope: Scope) -> None:
    """Security headers (unless the response set its own) and the request id, on every
    response. Works on the raw header list: this runs for every request."""
    if message["type"] != "http.response.start":
        return
    raw = message.setdefault("headers", [])
    if not isinstance(raw, list):
        raw = message["headers"] = list(raw)
    present = {name.lower() for name, _ in raw}
    defaults = _DEFAULT_HEADERS
    # Over HTTPS only (directly, or via a trusted proxy's X-Forwarded-Proto: see proxies.py).
    if scope.get("scheme") == "https":
        defaults = (*defaults, _HSTS)
    raw.extend(pair for pair in defaults if pair[0] not in present)
    # Clinic data (API answers, exported files, printed PDFs) must not stay in a shared
    # browser's or proxy's cache: `no-store` unless the route chose its own policy (static
    # files do).
    if b"cache-control" not in present and (
        scope.get("path", "").startswith("/api/")
        or any(n.lower() == b"content-disposition" and b"attachment" in v for n, v in raw)
    ):
        raw.append((b"cache-control", b"no-store"))
    if b"x-request-id" in present:
        raw[:] = [pair for pair in raw if pair[0].lower() != b"x-request-id"]
    raw.append((b"x-request-id", request_id(scope).encode("latin-1")))


class KernelPlugin(DomainPlugin, ReceiveRoutePlugin):
    """The kernel: pass the settings and database to use (default: from the environment,
    and a database the app disposes of on shutdown)."""

    name = "kernel"
    template_dir = TEMPLATES_DIR
    static_dir = STATIC_DIR
    nav_links = (
        NavLink("Users", "/admin/users", frozenset(), order=80),
        NavLink("Webhooks", "/admin/webhooks", frozenset(), order=85),
        NavLink("Sites", "/admin/sites", frozenset(), order=82),
    )

    def __init__(self, settings: Settings | None = None, database: Database | None = None) -> None:
        from kernel.auth.competencies import register_untrained_section
        from kernel.openapi import OperationIds

        register_untrained_section()  # the compliance report's `untrained_operators`
        self._settings = settings
        self._database = database
        self.operation_ids = OperationIds()

    def route_handlers(self) -> Sequence[Any]:
        from kernel.audit.export import download_audit_csv
        from kernel.audit.views import AuditController
        from kernel.auth.views import AuthController, UserController
        from kernel.health import get_health
        from kernel.notifications.api import route_handlers as notification_routes
        from kernel.openapi import SWAGGER_DIR, SWAGGER_STATIC
        from kernel.sites.views import SiteController

        return [
            get_health,
            AuthController,
            UserController,
            SiteController,
            AuditController,
            download_audit_csv,
            *notification_routes,
            create_static_files_router(
                path=SWAGGER_STATIC, directories=[SWAGGER_DIR], include_in_schema=False
            ),
        ]

    def page_handlers(self) -> Sequence[Any]:
        from kernel.auth.pages import page_handlers as user_pages
        from kernel.notifications.pages import page_handlers as notification_pages
        from kernel.notifications.webhook_pages import page_handlers as webhook_pages
        from kernel.sites.pages import page_handlers as site_pages
        from kernel.web.pages import page_handlers as login_pages

        return [*login_pages, *user_pages, *site_pages, *notification_pages, *webhook_pages]

    def on_cli_init(self, cli: click.Group) -> None:
        from kernel.cli import add_kernel_commands

        add_kernel_commands(cli)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        from kernel.auth.middleware import PUBLIC_PATHS, BearerTokenAuthMiddleware
        from kernel.auth.sessions import LoginRequired
        from kernel.auth.views import provide_current_user
        from kernel.db import REQUEST_SESSION_HOOKS
        from kernel.openapi import OperationIds, openapi_config
        from kernel.sites.query_scope import bind_request
        from kernel.sites.views import provide_site_scope

        if bind_request not in REQUEST_SESSION_HOOKS:
            REQUEST_SESSION_HOOKS.append(bind_request)
        from kernel.sites.pages import site_header
        from kernel.web.templating import PAGE_CONTEXT_HOOKS

        if site_header not in PAGE_CONTEXT_HOOKS:
            PAGE_CONTEXT_HOOKS.append(site_header)
        from kernel.web import pages
        from kernel.web.dependencies import resolve_dependencies_sequentially

        self.operation_ids = OperationIds()  # this app's routes (receive_route) only
        resolve_dependencies_sequentially()
        settings = self._settings or get_settings()
        seal_keys.configure(settings)  # the record seals' key, from outside the database
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
                NOTIFICATION_RULES_KEY: tuple(rules_by_kind(notification_rules(plugins)).values()),
            }
        )
        app_config.dependencies.update(
            {
                "db_session": Provide(provide_db_session),
                "me": Provide(provide_current_user, sync_to_thread=False),
                "clock": Provide(provide_clock, sync_to_thread=False),
                "sites": Provide(provide_site_scope, sync_to_thread=True),
                "reader": Provide(provide_reader),
                "write_batcher": Provide(provide_write_batcher),
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
                RecursionError: too_deep_handler,
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
