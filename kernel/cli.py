"""The kernel's commands (db upgrade, users, audit verify, backup, restore) and the helpers
every plugin's commands use: the settings and database of one command, the `labels`
group shared by the domains, and writing a label sheet.

Imports stay inside the commands, so `steristock --help` starts fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kernel.settings import Settings

SYSTEM_ACTOR = "cli"


def open_database(settings: Settings) -> Any:
    """A small database pool for one command; dispose of it when done."""
    from kernel.audit import keys
    from kernel.db import Database

    keys.configure(settings)

    return Database(
        settings.effective_database_url,
        pool_size=2,
        sqlite_synchronous=settings.sqlite_synchronous,
    )


def upgrade_database(settings: Settings) -> None:
    from kernel.audit import keys
    from kernel.migrations import upgrade

    keys.configure(settings)
    upgrade(settings.effective_database_url)


def write_atomically(target: Path, text: str) -> None:
    """Write a file so a reader never sees it half-written (a sibling, then a rename)."""
    import os

    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)


# --- labels: one group, commands from each domain ------------------------------------------


def labels_group(cli: click.Group) -> click.Group:
    """The `labels` group (created on first use); each domain adds its sheets to it."""
    found = cli.commands.get("labels")
    if isinstance(found, click.Group):
        return found

    @cli.group("labels")
    def labels() -> None:
        """Print label sheets to a PDF file (same sheets as /api/v1/labels/...)."""

    return labels


LABEL_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["letter", "thermal"]), default="letter",
    show_default=True, help="letter: Avery 5160 30-up; thermal: 2 x 1 in roll.",
)  # fmt: skip
LABEL_SKIP = click.option(
    "--skip", type=click.IntRange(0, 29), default=0, help="Labels already used on sheet 1."
)
LABEL_OUT = click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))


def write_labels(out: str, render: Callable[[Any, Settings], tuple[bytes, int]]) -> None:
    """Read what to print in one session, render, and write the file only on success."""
    from kernel.problems import DomainError

    settings = Settings()
    database = open_database(settings)
    try:
        with database.session(write=False) as session:
            body, count = render(session, settings)
    except DomainError as exc:
        raise click.ClickException(exc.detail) from exc
    except ValueError as exc:  # a label too dense to scan, a bad skip
        raise click.ClickException(f"cannot print these labels: {exc}") from exc
    finally:
        database.dispose()
    Path(out).write_bytes(body)
    click.echo(f"wrote {count} label(s) to {out}")


# --- the kernel's own commands ---------------------------------------------------------------


def add_kernel_commands(cli: click.Group) -> None:
    """db upgrade, users create, audit verify, backup, restore; and the labels group."""

    @cli.group()
    def db() -> None:
        """Database schema commands."""

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Apply all pending migrations."""
        upgrade_database(Settings())
        click.echo("database is at the latest migration")

    @cli.group()
    def users() -> None:
        """Manage user accounts."""

    @users.command("create")
    @click.argument("username")
    @click.option(
        "--role", required=True, type=click.Choice(["admin", "ma", "purchasing", "auditor"])
    )
    @click.option("--full-name", default="")
    @click.option("--password", default=None, help="Omit to be prompted (or pipe it on stdin).")
    def users_create(username: str, role: str, full_name: str, password: str | None) -> None:
        """Create a user with a role."""
        from kernel.auth.models import Role
        from kernel.auth.service import create_user
        from kernel.problems import DomainError

        if password is None:
            if sys.stdin.isatty():
                password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
            else:
                password = sys.stdin.readline().rstrip("\n")
        settings = Settings()
        upgrade_database(settings)
        database = open_database(settings)
        try:
            with database.session() as session:
                user = create_user(
                    session,
                    actor=SYSTEM_ACTOR,
                    username=username,
                    role=Role(role),
                    password=password or "",
                    full_name=full_name,
                )
                click.echo(f"created user {user.username} ({user.role})")
        except DomainError as exc:
            raise click.ClickException(exc.detail) from exc
        finally:
            database.dispose()

    @cli.group()
    def audit() -> None:
        """Audit trail commands."""

    @audit.command("verify")
    @click.option(
        "--anchors",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The anchor log to check against (default: <data dir>/audit_anchors.log).",
    )
    def audit_verify(anchors: Path | None) -> None:
        """Recompute the audit hash chain, every record seal and the anchors; exit 1 if
        anything was altered, inserted or removed (each problem names table and row)."""
        from kernel.audit.anchors import anchor_log, verify_all

        settings = Settings()
        database = open_database(settings)
        try:
            with database.session(write=False) as session:
                result = verify_all(session, anchors or anchor_log(settings))
        finally:
            database.dispose()
        if result.ok:
            click.echo(result.summary())
            return
        for line in result.problem_lines():
            click.echo(line, err=True)
        sys.exit(1)

    @audit.command("checkpoint")
    @click.option(
        "--anchors",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The anchor log to append to (default: <data dir>/audit_anchors.log).",
    )
    def audit_checkpoint(anchors: Path | None) -> None:
        """Verify, then append a signed anchor of the heads to the anchor log and print it
        (keep a copy off this machine: mail it, print it)."""
        from kernel.audit.anchors import anchor_log, checkpoint

        settings = Settings()
        database = open_database(settings)
        try:
            with database.session(write=False) as session:
                line = checkpoint(session, anchors or anchor_log(settings))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            database.dispose()
        click.echo(line)

    @cli.command()
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
    def backup(file: Path, force: bool) -> None:
        """Write a consistent snapshot of the database to FILE, safe while the server runs
        (SQLite: VACUUM INTO; PostgreSQL: pg_dump --format=custom)."""
        from kernel import backup as backups

        settings = Settings()
        try:
            snapshot = backups.backup(settings.effective_database_url, file, force=force)
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        entries = (
            "" if snapshot.audit_entries is None else f", {snapshot.audit_entries} audit entries"
        )
        click.echo(f"backed up to {snapshot.path}: migration {snapshot.revision}{entries}")

    @cli.command()
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace the current database (it is kept aside).")
    def restore(file: Path, force: bool) -> None:
        """Restore a backup made by `steristock backup`: checks it (SteriStock database, known
        migration, integrity, audit chain), migrates it to the head and swaps it in. Stop the
        server first."""
        from kernel import backup as backups

        settings = Settings()
        try:
            snapshot = backups.restore(settings.effective_database_url, file, force=force)
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"restored {file} into {snapshot.path}: audit chain verified "
            f"({snapshot.audit_entries} entries), migrated to {snapshot.revision}"
        )
        if snapshot.kept:
            click.echo(f"the previous database is kept as {snapshot.kept}")

    labels_group(cli)
