"""Who wants which kind, and how: a stored choice per user and kind, else the role's
default (the rule names the roles that get it immediately; everyone else: off)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.auth.models import User
from kernel.db import utcnow
from kernel.notifications.models import NotificationPreference
from kernel.notifications.rules import MODES, NotificationRule
from kernel.problems import InvalidInput


def effective_modes(
    session: Session, users: Sequence[User], rule: NotificationRule
) -> dict[int, str]:
    """Each user's mode for one kind: their choice, else their role's default."""
    kind = rule.kind
    ids = [u.id for u in users]
    chosen = dict(
        session.execute(
            select(NotificationPreference.user_id, NotificationPreference.mode).where(
                NotificationPreference.kind == kind, NotificationPreference.user_id.in_(ids)
            )
        ).all()
    )
    return {u.id: chosen.get(u.id, rule.default_mode(u.role)) for u in users}  # type: ignore[misc]


def preferences_of(
    session: Session, user_id: int, role: str, rules: Sequence[NotificationRule]
) -> dict[str, str]:
    """Every kind the app knows, with this user's mode."""
    chosen = dict(
        session.execute(
            select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {rule.kind: chosen.get(rule.kind, rule.default_mode(role)) for rule in rules}


def set_preferences(
    session: Session,
    *,
    actor: str,
    user_id: int,
    role: str,
    rules: Sequence[NotificationRule],
    choices: Mapping[str, str],
) -> dict[str, str]:
    """Store the user's choices (kinds not named keep theirs). An unknown kind or mode is
    refused naming it, and nothing is written."""
    known = {rule.kind for rule in rules}
    for kind, mode in choices.items():
        if kind not in known:
            raise InvalidInput.for_field(
                kind, f"No notification kind {kind!r}; known: {', '.join(sorted(known))}."
            )
        if mode not in MODES:
            raise InvalidInput.for_field(
                kind, f"{kind}: the mode is one of {', '.join(MODES)}, not {mode!r}."
            )
    before = preferences_of(session, user_id, role, rules)
    if choices:
        session.execute(
            delete(NotificationPreference).where(
                NotificationPreference.user_id == user_id,
                NotificationPreference.kind.in_(list(choices)),
            )
        )
        now = utcnow()
        session.add_all(
            NotificationPreference(user_id=user_id, kind=kind, mode=mode, updated_at=now)
            for kind, mode in choices.items()
        )
        session.flush()
    after = preferences_of(session, user_id, role, rules)
    if after != before:
        audit.record(
            session,
            actor=actor,
            action="notification.preferences",
            entity="user",
            entity_id=actor,
            before=before,
            after=after,
        )
    return after
