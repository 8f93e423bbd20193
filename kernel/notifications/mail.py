"""E-mail over SMTP: `STERISTOCK_SMTP_URL` is `smtp://[user:pass@]host[:port]` (STARTTLS
whenever the server offers it, 25 by default) or `smtps://...` (implicit TLS, 465 by
default). Messages have a proper From, a plain-text body and an HTML one, and may carry
attachments (a purchase order's PDF). Errors come back as `MailError` with a reason that
never contains the password."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from kernel.settings import Settings

TIMEOUT_SECONDS = 20.0


class MailError(Exception):
    """Sending failed; `str()` is a reason fit for the delivery log (no secrets)."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailError("STERISTOCK_SMTP_URL must look like smtp://[user:pass@]host[:port]")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


def sender_address(settings: Settings) -> str:
    """The From header: `STERISTOCK_MAIL_FROM` (a bare address gets the clinic's name),
    else steristock@ the public URL's host."""
    name, address = parseaddr(settings.mail_from)
    if not address:
        host = urlsplit(settings.public_url).hostname or "localhost"
        address = f"steristock@{host}"
    display = name or (
        f"SteriStock · {settings.clinic_name}" if settings.clinic_name else "SteriStock"
    )
    return formataddr((display, address))


def build_message(
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender_address(settings)
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=parseaddr(message["From"])[1].split("@")[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for item in attachments:
        maintype, _, subtype = item.mime_type.partition("/")
        message.add_attachment(
            item.content, maintype=maintype, subtype=subtype, filename=item.filename
        )
    return message


def _tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.smtp_ca_file:
        context.load_verify_locations(cafile=settings.smtp_ca_file)
    return context


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Send one message through the configured server (STARTTLS when offered)."""
    if not settings.smtp_url:
        raise MailError("no SMTP server configured (STERISTOCK_SMTP_URL)")
    server = SmtpServer.from_url(settings.smtp_url)
    context = _tls_context(settings)
    try:
        if server.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            encrypted = server.implicit_tls
            if not encrypted and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
                encrypted = True
            if server.username and not encrypted and not _loopback(server.host):
                raise MailError(
                    f"{server.host} offers no STARTTLS: the password is not sent in clear "
                    "(use smtps:// or a server that offers STARTTLS)"
                )
            if server.username:
                client.login(server.username, server.password or "")
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = ", ".join(f"{r}: {c} {_text(m)}" for r, (c, m) in exc.recipients.items())
        raise MailError(f"recipient refused ({codes})") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}"[:400]) from None


def _loopback(host: str) -> bool:
    """A relay on this machine (the password never leaves it)."""
    return host in ("localhost", "127.0.0.1", "::1")


def _text(value: bytes | str) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return text[:300]
