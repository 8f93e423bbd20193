"""The OpenAPI schema and its interactive page at ``/schema``, under the strict CSP, and
the two conventions that make a generated client read well: operationIds from handler
names, and file downloads described as files.

Litestar's stock Swagger page bootstraps itself with an inline ``<script>`` (the schema
inlined into it) and an inline ``<style>``, and loads a favicon from a CDN; none of that
passes ``script-src 'self'; style-src 'self'``. This page loads everything from our own
origin instead: the vendored Swagger UI bundle, then ``/static/js/swagger-init.js``, which
fetches ``/schema/openapi.json`` and starts the UI. (The Swagger UI 4 of the
``swagger-ui-bundle`` package could not read OpenAPI 3.1 at all: it showed "Unable to
render this definition".)
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request
from litestar._openapi.utils import default_operation_id_creator  # the path-based fallback
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import KwargDefinition
from litestar.router import Router
from litestar.routes import HTTPRoute

from kernel import __version__
from kernel.web.templating import STATIC_DIR, static_url

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler
    from litestar.routes import BaseRoute
    from litestar.types import Method

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


def lower_camel(name: str) -> str:
    """`download_pack_label_png` -> `downloadPackLabelPng`."""
    first, *rest = name.strip("_").split("_")
    return first.lower() + "".join(word[:1].upper() + word[1:] for word in rest)


class OperationIds:
    """operationId = the handler's function name in lowerCamelCase (`get_pack` -> `getPack`),
    so a generated client's functions are `get_pack`, `start_cycle`. Handlers are named
    `verb_resource`; the name is the API's method name, so it must be unique.

    A name that two schema handlers share cannot be an id (Litestar refuses duplicates and
    the schema would not build): both keep Litestar's path-based id, and
    tests/kernel/test_openapi.py names them. The kernel plugin registers every route here
    as it is added (`receive_route`), before the schema is built on first request.
    """

    def __init__(self) -> None:
        self._handlers: defaultdict[str, set[int]] = defaultdict(set)

    def register(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if handler.resolve_include_in_schema():
                self._handlers[handler.handler_name].add(id(handler))

    def shared(self, name: str) -> bool:
        return len(self._handlers.get(name, ())) > 1

    def __call__(
        self, route_handler: HTTPRouteHandler, http_method: Method, path_components: list[Any]
    ) -> str:
        name = route_handler.handler_name
        if self.shared(name):
            return default_operation_id_creator(route_handler, http_method, path_components)
        if len(route_handler.http_methods) > 1:  # one function answering GET and POST, say
            return lower_camel(f"{http_method.lower()}_{name}")
        return lower_camel(name)


# What a file download's body is, for clients: binary, or (for text/*) a string.
BinaryBody = Annotated[bytes, KwargDefinition(format=OpenAPIFormat.BINARY)]
FILE_DESCRIPTIONS = {
    "application/pdf": "The PDF document",
    "image/jpeg": "The JPEG image",
    "image/png": "The PNG image",
    "image/svg+xml": "The SVG image",
    "text/csv": "The CSV file (UTF-8)",
}
NOT_FILES = ("application/json", "text/plain", "text/html")


def bare_media_type(media_type: Any) -> str:
    """`"text/csv; charset=utf-8"` -> `"text/csv"` (also for Litestar's MediaType enum)."""
    return str(getattr(media_type, "value", media_type)).split(";")[0].strip().lower()


def document_file_responses(route: BaseRoute, prefix: str = "/api/") -> None:
    """Describe the success response of every API operation that answers a file (its
    handler's `media_type` is not JSON: PDF, PNG, SVG, CSV) as that media type with a
    binary body (`type: string, format: binary`; text types as a string), so OpenAPI
    tools and generated clients return the bytes instead of dropping the operation.

    The kernel plugin calls it for every route as it is registered; a handler that
    documents its own success response in `responses` keeps it.
    """
    if not isinstance(route, HTTPRoute) or not route.path.startswith(prefix):
        return
    for handler in route.route_handlers:
        media_type = bare_media_type(handler.media_type)
        if not media_type or media_type in NOT_FILES or media_type.endswith("+json"):
            continue
        responses = dict(handler.responses or {})
        if handler.status_code in responses:
            continue
        responses[handler.status_code] = ResponseSpec(
            data_container=str if media_type.startswith("text/") else BinaryBody,
            media_type=media_type,
            description=FILE_DESCRIPTIONS.get(media_type, f"The file ({media_type})"),
            generate_examples=False,
        )
        handler.responses = responses


def openapi_config(operation_ids: OperationIds | None = None) -> OpenAPIConfig:
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
        operation_id_creator=operation_ids or OperationIds(),
    )
