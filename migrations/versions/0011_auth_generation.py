"""The auth generation: one counter every worker reads to trust its token cache.

`auth_generation` holds a single row whose `generation` goes up whenever a token or a
user changes in a way that can end or change someone's access: a token revoked, deleted,
given an earlier expiry or moved; a user deactivated, renamed, re-roled or deleted.
Database triggers bump it, so every path (API, pages, CLI, a hand-run UPDATE) counts, in
the same transaction as the change. Each worker caches token lookups tagged with the
generation they were made under and reads the counter on every request
(`kernel.auth.token_cache`): a logout or deactivation on any worker is honoured on the
very next request everywhere.

Revision ID: 0011_auth_generation
Revises: 0010_sterilizer_identity
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_auth_generation"
down_revision: str | Sequence[str] | None = "0011_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BUMP = "UPDATE auth_generation SET generation = generation + 1 WHERE id = 1"
# Only changes that can take access away or change who the caller is; sliding a page
# session's expiry forward (once a minute per session) leaves cached lookups valid.
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
    # name: (table, event, condition or None)
    "auth_generation_token_update": ("api_tokens", "UPDATE", ACCESS_ENDING_CHANGE),
    "auth_generation_token_delete": ("api_tokens", "DELETE", None),
    "auth_generation_user_update": ("users", "UPDATE", USER_UPDATE_WHEN),
    "auth_generation_user_delete": ("users", "DELETE", None),
}


def upgrade() -> None:
    op.create_table(
        "auth_generation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
    )
    op.execute("INSERT INTO auth_generation (id, generation) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for name, (table, event, condition) in TRIGGERS.items():
            when = f" WHEN {condition}" if condition else ""
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when}"
                f" BEGIN {BUMP}; END"
            )
        return
    op.execute(
        "CREATE FUNCTION auth_generation_bump() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ BEGIN {BUMP}; RETURN NULL; END $$"
    )
    for name, (table, event, condition) in TRIGGERS.items():
        when = f" WHEN ({condition.replace('IS NOT', 'IS DISTINCT FROM')})" if condition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when}"
            " EXECUTE FUNCTION auth_generation_bump()"
        )


def downgrade() -> None:
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    for name, (table, _event, _condition) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if is_sqlite else f" ON {table}"))
    if not is_sqlite:
        op.execute("DROP FUNCTION IF EXISTS auth_generation_bump()")
    op.drop_table("auth_generation")
