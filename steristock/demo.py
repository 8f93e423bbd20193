"""`steristock demo`: demo users, then each plugin's demo data, into an empty database."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.plugins import DomainPlugin

DEMO_USERS = [
    ("admin", "admin", "Avery Admin"),
    ("ma", "ma", "Morgan Assistant"),
    ("purchasing", "purchasing", "Pat Purchasing"),
    ("auditor", "auditor", "Alex Auditor"),
]


def has_users(session: Session) -> bool:
    from kernel.auth.models import User

    return bool(session.scalar(select(func.count()).select_from(User)))


def load_demo(session: Session, plugins: Sequence[DomainPlugin], *, actor: str) -> dict[str, str]:
    """Create the demo users (a fresh random password each) and load every plugin's demo
    data, in plugin order; returns the passwords by username (shown once)."""
    from kernel.auth.models import Role
    from kernel.auth.service import create_user

    passwords = {}
    for username, role, full_name in DEMO_USERS:
        password = f"demo-{secrets.token_urlsafe(9)}"
        create_user(
            session,
            actor=actor,
            username=username,
            role=Role(role),
            password=password,
            full_name=full_name,
        )
        passwords[username] = password
    for plugin in plugins:
        plugin.load_demo_data(session, actor=actor)
    return passwords
