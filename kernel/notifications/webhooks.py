"""Webhooks: receivers of signed JSON posts, and posting to them.

The body is `{id, kind, site, subject, detail, url, at}`; the header
`X-SteriStock-Signature: sha256=<hex HMAC-SHA256 of the body with the hook's secret>` lets
the receiver check it came from us. URLs must be http(s); loopback, private, link-local
and other non-public addresses are refused (when the hook is made and again before each
post, redirects are not followed) unless `STERISTOCK_WEBHOOK_ALLOW_PRIVATE=1`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.notifications.models import Webhook
from kernel.problems import InvalidInput, NotFound

TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-SteriStock-Signature"


class WebhookError(Exception):
    """A post that did not succeed; `str()` is the reason for the delivery log."""

    def __init__(self, reason: str, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.status_code = status_code


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _not_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_problem(url: str, *, allow_private: bool, resolve: bool = True) -> str | None:
    """Why this URL may not receive webhooks, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "A webhook URL starts with http:// or https://."
    if not parts.hostname:
        return "A webhook URL names a host."
    if parts.username or parts.password:
        return "A webhook URL carries no user name or password; sign with the secret instead."
    if allow_private:
        return None
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine; set STERISTOCK_WEBHOOK_ALLOW_PRIVATE=1 to allow it."
    try:
        addresses = [host] if _is_ip(host) else _resolve(host, parts.port) if resolve else []
    except OSError:
        return None  # unknown today; checked again before each post
    for address in addresses:
        if _not_public(address):
            return (
                f"{host} is a loopback or private-network address ({address}); set "
                "STERISTOCK_WEBHOOK_ALLOW_PRIVATE=1 to allow it."
            )
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int | None) -> list[str]:
    infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


# Records --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookView:
    id: int
    url: str
    kinds: list[str]
    active: bool
    created_by: str
    created_at: Any


def view(hook: Webhook) -> WebhookView:
    return WebhookView(
        id=hook.id,  # type: ignore[arg-type]
        url=hook.url,
        kinds=json.loads(hook.kinds or "[]"),
        active=hook.active,
        created_by=hook.created_by,
        created_at=hook.created_at,
    )


def create_webhook(
    session: Session,
    *,
    actor: str,
    url: str,
    secret: str,
    kinds: Sequence[str],
    known_kinds: Sequence[str],
    allow_private: bool,
) -> Webhook:
    """A new receiver; its URL and kinds are checked, its secret kept (never shown)."""
    url = url.strip()
    problem = url_problem(url, allow_private=allow_private)
    if problem:
        raise InvalidInput.for_field("url", problem)
    if len(secret) < 16:
        raise InvalidInput.for_field("secret", "A webhook secret has at least 16 characters.")
    unknown = sorted(set(kinds) - set(known_kinds))
    if unknown:
        raise InvalidInput.for_field(
            "kinds",
            f"No notification kind {', '.join(unknown)}; known: {', '.join(sorted(known_kinds))}.",
        )
    hook = Webhook(url=url, secret=secret, kinds=json.dumps(sorted(set(kinds))), created_by=actor)
    session.add(hook)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="webhook.create",
        entity="webhook",
        entity_id=hook.id,  # type: ignore[arg-type]
        after={"url": url, "kinds": sorted(set(kinds))},  # never the secret
    )
    return hook


def get_webhook(session: Session, hook_id: int) -> Webhook:
    hook = session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(f"No webhook {hook_id}.")
    return hook


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


# Posting --------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: it could point at a private address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(
    url: str,
    secret: str,
    payload: dict[str, Any],
    *,
    allow_private: bool,
    delivery_id: int,
    timeout: float = TIMEOUT_SECONDS,
) -> tuple[int, int]:
    """POST the signed payload; returns (status code, milliseconds). A 2xx answer is
    success; anything else, a timeout or a refused address raises `WebhookError`."""
    problem = url_problem(url, allow_private=allow_private)
    if problem:
        raise WebhookError(problem)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 (url_problem admitted only http(s))
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "SteriStock-Webhook/1",
            SIGNATURE_HEADER: sign(secret, body),
            "X-SteriStock-Event": str(payload.get("kind", "")),
            "X-SteriStock-Delivery": str(delivery_id),
        },
    )
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"HTTP {exc.code} {exc.reason}"[:300], exc.code) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"{type(exc).__name__}: {reason}"[:300]) from None
    elapsed = int((time.monotonic() - started) * 1000)
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status}", status)
    return status, elapsed
