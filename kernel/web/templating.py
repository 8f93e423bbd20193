"""Jinja templates, static files, flash messages and the page-rendering helper.

Templates are looked up in `kernel/web/templates/` and then in each plugin's
`template_dir` (a domain names its templates `<domain>/...html` to avoid clashes). Static
files are served at `/static/...` from `kernel/web/static/` and then each plugin's
`static_dir` (the Swagger UI keeps `/static/swagger/`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from kernel import __version__
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
FLASH_COOKIE = "steristock_flash"
FLASH_LEVELS = ("info", "success", "warning", "error")


def static_url(path: str) -> str:
    """URL of a file under static/, with the version as a cache-buster (no build step)."""
    return f"/static/{path.lstrip('/')}?v={__version__}"


def template_config(directories: Sequence[Path]) -> TemplateConfig[JinjaTemplateEngine]:
    """One Jinja environment over the plugins' template directories (first match wins)."""
    environment = Environment(
        loader=FileSystemLoader([str(d) for d in directories]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(static_url=static_url, app_version=__version__)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))


def static_files_router(directories: Sequence[Path] = (STATIC_DIR,)) -> Any:
    """`/static/...` from the directories in order (the first that has the file wins)."""
    return create_static_files_router(
        path="/static",
        directories=list(directories),
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )


@dataclass(frozen=True)
class NavLink:
    """A link in the page header. `roles` None: every role; an empty set: admins only
    (administrators see every link). `order` places it among the other plugins' links."""

    label: str
    href: str
    roles: frozenset[Role] | None = None
    order: int = 100


NAV_STATE_KEY = "nav_links"


def nav_for(user: CurrentUser | None, links: Sequence[NavLink]) -> list[NavLink]:
    if user is None:
        return []
    return [
        link
        for link in links
        if link.roles is None or user.role == Role.ADMIN or user.role in link.roles
    ]


@dataclass(frozen=True)
class Flash:
    level: str
    text: str


def _sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def encode_flashes(secret: str, flashes: list[Flash]) -> str:
    raw = json.dumps([[f.level, f.text] for f in flashes]).encode()
    payload = base64.urlsafe_b64encode(raw)
    return f"{payload.decode()}.{_sign(secret, payload)}"


def decode_flashes(secret: str, value: str) -> list[Flash]:
    """The messages in a flash cookie; a forged or mangled cookie yields none."""
    payload, _, signature = value.partition(".")
    if not hmac.compare_digest(signature, _sign(secret, payload.encode())):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return [
            Flash(str(level), str(text))
            for level, text in items
            if level in FLASH_LEVELS and isinstance(text, str)
        ][:5]
    except (ValueError, TypeError):
        return []


def _secret(request: Request[Any, Any, Any]) -> str:
    return request.app.state.settings.secret_key


def redirect_with_flash(
    request: Request[Any, Any, Any], path: str, text: str, level: str = "success"
) -> Redirect:
    """Redirect (303) and show `text` once on the next page (a signed, short-lived cookie)."""
    value = encode_flashes(_secret(request), [Flash(level, text)])
    cookie = Cookie(
        key=FLASH_COOKIE, value=value, path="/", max_age=60, httponly=True, samesite="lax"
    )
    return Redirect(path, status_code=303, cookies=[cookie])


def current_page_user(request: Request[Any, Any, Any]) -> CurrentUser | None:
    user = request.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def _unread(request: Request[Any, Any, Any], me: CurrentUser | None) -> int | None:
    """The bell's count: the user's unread notifications (None if it cannot be read: an
    error page must render even when the database is the error)."""
    if me is None:
        return None
    from kernel.notifications.inbox import unread_count

    try:
        with request.app.state.db.session(write=False) as session:
            return unread_count(session, me.id)
    except Exception:
        return None


# Each adds to every page's context (kernel.sites: the site in the header, the switcher).
PAGE_CONTEXT_HOOKS: list[Callable[[Request[Any, Any, Any]], dict[str, Any]]] = []


def render_page(
    request: Request[Any, Any, Any],
    template_name: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """Render a page with the layout's context: the user, navigation and flash messages."""
    me = current_page_user(request)
    cookies: list[Cookie] = []
    flashes: list[Flash] = []
    if raw := request.cookies.get(FLASH_COOKIE):
        flashes = decode_flashes(_secret(request), raw)
        cookies.append(Cookie(key=FLASH_COOKIE, value="", path="/", max_age=0))
    return Template(
        template_name=template_name,
        context={
            "me": me,
            "unread_notifications": _unread(request, me),
            "nav": nav_for(me, request.app.state.get(NAV_STATE_KEY, ())),
            "current_path": request.url.path,
            "flashes": flashes,
            **{k: v for hook in PAGE_CONTEXT_HOOKS for k, v in hook(request).items()},
            **context,
        },
        status_code=status_code,
        cookies=cookies,
        headers={"Cache-Control": "no-store"},
    )
