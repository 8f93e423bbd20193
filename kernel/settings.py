"""Settings from the environment (and an optional `.env`).

With nothing configured the service runs on a SQLite file under `./data/` and creates its
own secret key there on first start, so a single clinic needs zero setup.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("data"), alias="STERISTOCK_DATA_DIR")
    database_url: str = Field(default="", alias="DATABASE_URL")
    secret_key: str = Field(default="", alias="STERISTOCK_SECRET_KEY")
    public_url: str = Field(default="http://127.0.0.1:8000", alias="STERISTOCK_PUBLIC_URL")
    timezone: str = Field(default="UTC", alias="STERISTOCK_TIMEZONE")
    token_ttl_minutes: int = Field(default=12 * 60, alias="STERISTOCK_TOKEN_TTL_MINUTES", gt=0)
    login_max_failures: int = Field(default=5, alias="STERISTOCK_LOGIN_MAX_FAILURES", gt=0)
    login_client_max_failures: int = Field(
        default=30, alias="STERISTOCK_LOGIN_CLIENT_MAX_FAILURES", gt=0
    )
    login_window_minutes: int = Field(default=15, alias="STERISTOCK_LOGIN_WINDOW_MINUTES", gt=0)
    pack_shelf_life_days: int | None = Field(
        default=None, alias="STERISTOCK_PACK_SHELF_LIFE_DAYS", gt=0
    )
    # How long the sterilization record and audit trail must be kept. Nothing in the
    # record can be deleted through any interface; this is what exports state (docs/auditor.md).
    retention_years: int = Field(default=10, alias="STERISTOCK_RETENTION_YEARS", ge=1, le=100)
    session_idle_minutes: int = Field(default=15, alias="STERISTOCK_SESSION_IDLE_MINUTES", gt=0)
    # Reverse proxies (IPs or CIDRs, comma-separated, or "*") whose X-Forwarded-For and
    # X-Forwarded-Proto are believed: the client address (login throttle, audit) and
    # whether the browser used HTTPS (Secure cookies, HSTS). Empty: believe no one.
    trusted_proxies: str = Field(default="", alias="STERISTOCK_TRUSTED_PROXIES")
    # The clinic as printed on purchase orders (letterhead and ship-to): its name and its
    # address, lines separated by "|" or newlines ("12 Main St|Springfield, IL 62701").
    clinic_name: str = Field(default="", alias="STERISTOCK_CLINIC_NAME", max_length=200)
    clinic_address: str = Field(default="", alias="STERISTOCK_CLINIC_ADDRESS", max_length=500)
    # Notifications (docs/notifications.md). SMTP: smtp://[user:pass@]host[:port] (STARTTLS
    # whenever the server offers it) or smtps:// (implicit TLS); empty: no e-mail, in-app only.
    smtp_url: str = Field(default="", alias="STERISTOCK_SMTP_URL")
    mail_from: str = Field(default="", alias="STERISTOCK_MAIL_FROM", max_length=254)
    # A CA bundle to trust for the SMTP server's certificate besides the system's (a relay
    # with the clinic's own CA).
    smtp_ca_file: str = Field(default="", alias="STERISTOCK_SMTP_CA_FILE")
    # Webhooks to loopback or private-network addresses are refused unless this is set.
    webhook_allow_private: bool = Field(default=False, alias="STERISTOCK_WEBHOOK_ALLOW_PRIVATE")
    # How long a webhook receiver may take to answer before the post counts as failed.
    webhook_timeout_seconds: float = Field(
        default=10.0, alias="STERISTOCK_WEBHOOK_TIMEOUT_SECONDS", gt=0, le=120
    )
    # `steristock serve` runs the notification rules this often (seconds; 0: never, leave
    # it to `steristock notify run` from cron or a systemd timer).
    notify_interval_seconds: int = Field(
        default=300, alias="STERISTOCK_NOTIFY_INTERVAL_SECONDS", ge=0
    )
    db_pool_size: int = Field(default=20, alias="STERISTOCK_DB_POOL_SIZE", gt=0)
    # full: every commit is on disk before it is acknowledged (survives power loss);
    # normal: faster on slow disks but may lose the last commits on power loss.
    sqlite_synchronous: Literal["full", "normal"] = Field(
        default="full", alias="STERISTOCK_SQLITE_SYNCHRONOUS"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def clinic_address_lines(self) -> list[str]:
        lines = self.clinic_address.replace("\\n", "\n").replace("|", "\n").splitlines()
        return [line.strip() for line in lines if line.strip()]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept the URLs Heroku-style tools hand out; we drive PostgreSQL with psycopg 3.
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite:///{(self.data_dir / 'steristock.db').as_posix()}"

    def ensure_secret_key(self) -> str:
        """Return the secret key, generating and storing one under the data dir if unset.

        Several workers may start at once (``granian --workers 4 steristock.asgi:app``):
        the key is written to a private temporary file and linked into place, which only
        one of them wins; the others read the winner's key, so all sign alike.
        """
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            candidate = self.data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            try:
                os.link(candidate, key_file)
            except FileExistsError:
                pass  # another worker stored its key first: use that one
            finally:
                candidate.unlink()
        self.secret_key = key_file.read_text().strip()
        return self.secret_key


@lru_cache
def get_settings() -> Settings:
    return Settings()
