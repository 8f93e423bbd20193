"""The auth-generation triggers on `users` again, on SQLite.

`0011_sites` runs after `0011_auth_generation` and rebuilds `users` in batch mode (to
drop the server default of `all_sites`). SQLite drops a table's triggers with the table,
so the triggers bumping the auth generation when a user is deactivated, re-roled, renamed
or deleted were gone: a cached token kept its old role, or its deactivated user, on every
worker. This revision installs them again (as `0011_auth_generation` defines them), where
they are missing. PostgreSQL alters tables in place and keeps its triggers.

A later migration that rebuilds `users` or `api_tokens` in batch mode re-creates these
triggers in the same way.

Revision ID: 0015_auth_user_triggers
Revises: 0014_iuss_requalification
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_auth_user_triggers"
down_revision: str | Sequence[str] | None = "0014_iuss_requalification"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0011_auth_generation (a migration keeps its own copy: the one there is history).
BUMP = "UPDATE auth_generation SET generation = generation + 1 WHERE id = 1"
ACCESS_ENDING_CHANGE = (
    "NEW.revoked_at IS NOT OLD.revoked_at OR NEW.expires_at < OLD.expires_at"
    " OR NEW.user_id <> OLD.user_id OR NEW.token_hash <> OLD.token_hash"
    " OR NEW.kind <> OLD.kind"
)
USER_UPDATE_WHEN = (
    "NEW.active IS NOT OLD.active OR NEW.role <> OLD.role OR NEW.username <> OLD.username"
    " OR NEW.full_name <> OLD.full_name"
)
TRIGGERS = {
    "auth_generation_token_update": ("api_tokens", "UPDATE", ACCESS_ENDING_CHANGE),
    "auth_generation_token_delete": ("api_tokens", "DELETE", None),
    "auth_generation_user_update": ("users", "UPDATE", USER_UPDATE_WHEN),
    "auth_generation_user_delete": ("users", "DELETE", None),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, (table, event, condition) in TRIGGERS.items():
        when = f" WHEN {condition}" if condition else ""
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} FOR EACH ROW{when}"
            f" BEGIN {BUMP}; END"
        )


def downgrade() -> None:
    # The triggers belong to 0011_auth_generation, whose downgrade drops them.
    pass
