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


# The staff's training record: Morgan is signed off for the sterilizer (current) and for
# high-level disinfection (lapsed 12 days ago: the demo's HLD runs since are findings).
DEMO_COMPETENCIES = [
    ("ma", "sterilizer_operation", 400, 330, "Autoclave in-service by the manufacturer"),
    ("ma", "hld", 377, -12, "OPA high-level disinfection in-service (annual)"),
]


def load_competencies(session: Session, *, actor: str) -> None:
    """The demo staff's competencies, (granted, expires) as days from today."""
    import datetime as dt

    from kernel.auth.competencies import grant_competency
    from kernel.clock import Clock
    from kernel.settings import get_settings

    clock = Clock.from_settings(get_settings())
    today, now = clock.today(), clock.now()
    for username, skill, granted_ago, expires_in, evidence in DEMO_COMPETENCIES:
        grant_competency(
            session, username, skill=skill, granted_on=today - dt.timedelta(days=granted_ago),
            expires_on=today + dt.timedelta(days=expires_in), evidence=evidence, actor=actor,
            now=now,
        )  # fmt: skip


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
    load_competencies(session, actor=actor)
    for plugin in plugins:
        plugin.load_demo_data(session, actor=actor)
    return passwords
