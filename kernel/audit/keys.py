"""The seal key: the secret the record seals' MAC chain is keyed with, kept out of the
database (docs/tamper_evidence.md, "Key management").

`STERISTOCK_AUDIT_KEY` when set (a deployment's secret store); otherwise the file
`<STERISTOCK_DATA_DIR>/audit_key`, generated on first use (0600) like the secret key. A
copy of the database alone therefore cannot re-seal what it changes: the MACs need the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from kernel.settings import Settings, get_settings

ENV_NAME = "STERISTOCK_AUDIT_KEY"
FILE_NAME = "audit_key"

_configured: bytes | None = None


def key_file(settings: Settings) -> Path:
    return settings.data_dir / FILE_NAME


def _ensure_key_file(path: Path) -> str:
    """Read the key file, creating it once (racing workers: the first link wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip()


def key_for(settings: Settings) -> bytes:
    """The key these settings name (the environment first, then the data dir's file)."""
    text = os.environ.get(ENV_NAME, "").strip() or _ensure_key_file(key_file(settings))
    # Derived, so the stored secret is never used as a MAC key directly.
    return hashlib.sha256(b"steristock record seals v1\x00" + text.encode()).digest()


def configure(settings: Settings) -> None:
    """Use this deployment's key in this process (the app and the CLI call it at start)."""
    global _configured
    _configured = key_for(settings)


def seal_key() -> bytes:
    """The key in use: as configured, else from the environment's settings."""
    global _configured
    if _configured is None:
        _configured = key_for(get_settings())
    return _configured


def mac(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
