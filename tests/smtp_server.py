"""A real SMTP server process for the e-mail tests (aiosmtpd), and its fixture helper.

Run as `python -m tests.smtp_server --port P --maildir D [--starttls CERT KEY]
[--smtps CERT KEY] [--auth USER:PASS] [--refuse]`: it serves on 127.0.0.1 until killed
and writes every accepted message to D as `<n>.eml`, with `<n>.json` saying who logged in
and whether the session was encrypted. `--refuse` answers every recipient with 550.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# The server process ---------------------------------------------------------------------


class Handler:
    def __init__(self, maildir: Path, refuse: bool) -> None:
        self.maildir = maildir
        self.refuse = refuse
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        (self.maildir / f"{self.count}.eml").write_bytes(envelope.original_content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": getattr(getattr(session, "auth_data", None), "login", b"").decode() or None,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }  # fmt: skip
        (self.maildir / f"{self.count}.json").write_text(json.dumps(meta))
        return "250 Message accepted"


def _context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def serve(args: argparse.Namespace) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    maildir = Path(args.maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if args.starttls:
        kwargs["tls_context"] = _context(*args.starttls)
        kwargs["require_starttls"] = False
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            ) == (user, password)
            return AuthResult(success=ok, auth_data=auth_data)

        kwargs["authenticator"] = authenticate
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(args.starttls or args.smtps)
    controller = Controller(
        Handler(maildir, args.refuse),
        hostname=args.host,
        port=args.port,
        ssl_context=_context(*args.smtps) if args.smtps else None,
        server_hostname="localhost",
        ready_timeout=10,
        **kwargs,
    )
    controller.start()
    (maildir / "ready").write_text("1")
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth")
    parser.add_argument("--refuse", action="store_true")
    serve(parser.parse_args())


# The test side ----------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for `localhost` and 127.0.0.1 (openssl), and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class SmtpProcess:
    port: int
    maildir: Path
    process: subprocess.Popen[bytes]
    log: Path = field(repr=False)

    def messages(self) -> list[tuple[EmailMessage, dict[str, Any]]]:
        found = sorted(self.maildir.glob("*.eml"), key=lambda p: int(p.stem))
        return [
            (
                message_from_bytes(p.read_bytes(), policy=policy.default),  # type: ignore[misc]
                json.loads(p.with_suffix(".json").read_text()),
            )
            for p in found
        ]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_smtp_server(directory: Path, port: int, *args: str) -> SmtpProcess:
    maildir = directory / f"mail-{port}"
    log = directory / f"smtp-{port}.log"
    (maildir / "ready").unlink(missing_ok=True)  # a server before on this port
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.smtp_server", "--port", str(port), "--maildir",
         str(maildir), *args],
        cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (maildir / "ready").exists():  # written once it listens
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the SMTP server did not start: {log.read_text()}")
        time.sleep(0.05)
    return SmtpProcess(port, maildir, process, log)


if __name__ == "__main__":
    main()
