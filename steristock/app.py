"""The Litestar application factory: composes the shell and the two domains."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.logging import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope

from steristock.audit.export import audit_csv
from steristock.audit.views import AuditController
from steristock.auth.middleware import PUBLIC_PATHS, BearerTokenAuthMiddleware
from steristock.auth.sessions import LoginRequired
from steristock.auth.views import AuthController, UserController, provide_current_user
from steristock.db import Database, provide_db_session
from steristock.domains import domain_route_handlers
from steristock.health import health
from steristock.openapi import SWAGGER_DIR, SWAGGER_STATIC, openapi_config
from steristock.problems import (
    document_problem_responses,
    internal_error_handler,
    problem_details_plugin,
    request_id,
)
from steristock.proxies import trust_forwarded_headers
from steristock.scan_views import scan
from steristock.settings import Settings, get_settings
from steristock.web import pages as web_pages
from steristock.web.templating import static_files_router, template_config

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


def create_app(settings: Settings | None = None, database: Database | None = None) -> Litestar:
    settings = settings or get_settings()
    settings.ensure_secret_key()
    db = database or Database(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        sqlite_synchronous=settings.sqlite_synchronous,
    )

    def dispose_database(app: Litestar) -> None:
        if database is None:
            db.dispose()

    app = Litestar(
        route_handlers=[
            health,
            AuthController,
            UserController,
            AuditController,
            audit_csv,
            *domain_route_handlers(),
            scan,
            create_static_files_router(
                path=SWAGGER_STATIC, directories=[SWAGGER_DIR], include_in_schema=False
            ),
            # Pages (steristock/web): templates, /static, the page router; CSRF below.
            static_files_router(),
            web_pages.page_router(),
        ],
        template_config=template_config(),
        state=State({"settings": settings, "db": db}),
        dependencies={
            "db_session": Provide(provide_db_session),
            "me": Provide(provide_current_user, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(BearerTokenAuthMiddleware, exclude=PUBLIC_PATHS),
            web_pages.csrf_middleware(settings),
        ],
        plugins=[problem_details_plugin()],
        exception_handlers={
            Exception: internal_error_handler,
            LoginRequired: web_pages.redirect_to_login,
            NotFoundException: web_pages.not_found,
        },
        before_send=[add_response_headers],
        openapi_config=openapi_config(),
        on_shutdown=[dispose_database],
        logging_config=LoggingConfig(
            root={"level": "WARNING", "handlers": ["queue_listener"]},
            loggers={"steristock": {"level": "INFO", "propagate": True}},
            log_exceptions="never",
        ),
        debug=False,
    )
    document_problem_responses(app)
    trust_forwarded_headers(app, settings.trusted_proxies)
    return app
