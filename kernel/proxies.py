"""Believing a reverse proxy's X-Forwarded-For / X-Forwarded-Proto, from trusted proxies only.

Behind a TLS-terminating proxy (Caddy, nginx) every request arrives from the proxy over
plain HTTP. The proxy says who the client was and that it used HTTPS in forwarded headers;
anyone else could send the same headers, so they are believed only from the addresses in
``STERISTOCK_TRUSTED_PROXIES``. Granian's own wrapper does the parsing (its CLI has no
proxy-header option); it wraps the whole app, so 404s and static files see the real scheme
too (HSTS), not only routed handlers.
"""

from __future__ import annotations

from granian.utils.proxies import wrap_asgi_with_proxy_headers
from litestar import Litestar


def trusted_proxy_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def trust_forwarded_headers(app: Litestar, trusted_proxies: str) -> None:
    """Rewrite the scope's client and scheme from a trusted proxy's forwarded headers."""
    proxies = trusted_proxy_list(trusted_proxies)
    if proxies:
        app.asgi_handler = wrap_asgi_with_proxy_headers(app.asgi_handler, trusted_hosts=proxies)
