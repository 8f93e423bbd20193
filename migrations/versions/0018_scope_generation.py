"""The auth generation also counts changes to who sees which site, and to a user's profile.

A worker now remembers, under the auth generation (`kernel.auth.token_cache`), each
user's site scope and their `/users/me` profile, as it already remembered their tokens.
So the generation must move whenever either could change: a site created, renamed,
moved to another zone or deleted; a user given or refused a site (`user_sites`); a
user's `all_sites`, `email` or `full_name` changed (the last also from NULL, which the
first trigger's `<>` missed). Like the first triggers, these fire on every path (API,
pages, CLI, a hand-run UPDATE), in the same transaction as the change.

Revision ID: 0018_scope_generation
Revises: 0017_more_evidence
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018_scope_generation"
down_revision: str | Sequence[str] | None = "0017_more_evidence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE auth_generation SET generation = generation + 1 WHERE id = 1"
OLD_USER_UPDATE_WHEN = (
    "NEW.active IS NOT OLD.active OR NEW.role <> OLD.role OR NEW.username <> OLD.username"
    " OR NEW.full_name <> OLD.full_name"
)
USER_UPDATE_WHEN = (
    "NEW.active IS NOT OLD.active OR NEW.role IS NOT OLD.role"
    " OR NEW.username IS NOT OLD.username OR NEW.full_name IS NOT OLD.full_name"
    " OR NEW.email IS NOT OLD.email OR NEW.all_sites IS NOT OLD.all_sites"
)
NEW_TRIGGERS = {
    # name: (table, event); every row changed counts
    "auth_generation_site_insert": ("sites", "INSERT"),
    "auth_generation_site_update": ("sites", "UPDATE"),
    "auth_generation_site_delete": ("sites", "DELETE"),
    "auth_generation_user_site_insert": ("user_sites", "INSERT"),
    "auth_generation_user_site_update": ("user_sites", "UPDATE"),
    "auth_generation_user_site_delete": ("user_sites", "DELETE"),
}
USER_TRIGGER = "auth_generation_user_update"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _create(name: str, table: str, event: str, condition: str | None) -> None:
    if _is_sqlite():
        when = f" WHEN {condition}" if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} BEGIN {BUMP}; END"
        )
        return
    when = f" WHEN ({condition.replace('IS NOT', 'IS DISTINCT FROM')})" if condition else ""
    op.execute(
        f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when}"
        " EXECUTE FUNCTION auth_generation_bump()"
    )


def _drop(name: str, table: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if _is_sqlite() else f" ON {table}"))


def upgrade() -> None:
    _drop(USER_TRIGGER, "users")
    _create(USER_TRIGGER, "users", "UPDATE", USER_UPDATE_WHEN)
    for name, (table, event) in NEW_TRIGGERS.items():
        _create(name, table, event, None)


def downgrade() -> None:
    for name, (table, _event) in NEW_TRIGGERS.items():
        _drop(name, table)
    _drop(USER_TRIGGER, "users")
    _create(USER_TRIGGER, "users", "UPDATE", OLD_USER_UPDATE_WHEN)
