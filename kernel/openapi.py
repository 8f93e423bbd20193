"""The OpenAPI schema and its interactive page at ``/schema``, under the strict CSP.

Litestar's stock Swagger page bootstraps itself with an inline ``<script>`` (the schema
inlined into it) and an inline ``<style>``, and loads a favicon from a CDN; none of that
passes ``script-src 'self'; style-src 'self'``. This page loads everything from our own
origin instead: the vendored Swagger UI bundle, then ``/static/js/swagger-init.js``, which
fetches ``/schema/openapi.json`` and starts the UI. (The Swagger UI 4 of the
``swagger-ui-bundle`` package could not read OpenAPI 3.1 at all: it showed "Unable to
render this definition".)
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.router import Router

from kernel import __version__
from kernel.web.templating import STATIC_DIR, static_url

# Swagger UI 5 (it reads OpenAPI 3.1, which Litestar writes), vendored from the npm
# package swagger-ui-dist with its licence; served at /static/swagger/.
SWAGGER_DIR = STATIC_DIR / "vendor" / "swagger-ui-5.35.0"
SWAGGER_STATIC = "/static/swagger"


class SelfHostedSwaggerPage(SwaggerRenderPlugin):
    """Swagger UI with no inline script or style and nothing from another origin."""

    def __init__(self, path: str = "/") -> None:
        super().__init__(
            path=path,
            js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js?v={__version__}",
            css_url=f"{SWAGGER_STATIC}/swagger-ui.css?v={__version__}",
            standalone_preset_js_url=f"{SWAGGER_STATIC}/swagger-ui-standalone-preset.js",
            favicon=f'<link rel="icon" href="{static_url("favicon.svg")}">',
            style="",
        )

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  {self.favicon}
  <link rel="stylesheet" href="{self.css_url}">
  <link rel="stylesheet" href="{static_url("css/swagger-page.css")}">
  <script src="{self.js_url}" defer></script>
  <script src="{static_url("js/swagger-init.js")}" defer></script>
</head>
<body>
  <div id="swagger-container" data-spec-url="{spec_url}"></div>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        """No ``oauth2-redirect.html``: the API takes bearer tokens, not OAuth2 flows (and
        Swagger's redirect page is an inline script)."""


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="SteriStock API",
        version=__version__,
        description="Supplies and sterilization tracking for outpatient clinics.",
        path="/schema",
        render_plugins=[SelfHostedSwaggerPage(path="/")],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="opaque")
            }
        ),
        security=[{"BearerToken": []}],
    )
