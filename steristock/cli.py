"""The `steristock` command: serve and demo here; every other command comes from a
plugin's `on_cli_init` (the kernel's db/users/audit/backup/restore, the domains' reorder,
items and labels commands)."""

from __future__ import annotations

import click

from kernel.cli import SYSTEM_ACTOR, open_database, upgrade_database
from kernel.notifications.cli import add_notify_commands
from kernel.plugin import KernelPlugin
from kernel.plugins import notification_rules
from kernel.settings import Settings
from steristock.app import plugins


@click.group()
def main() -> None:
    """SteriStock: supplies and sterilization tracking for outpatient clinics."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="STERISTOCK_WORKERS",
    help="Worker processes (env STERISTOCK_WORKERS).",
)
@click.option(
    "--threads", default=None, type=click.IntRange(1, 256), help="Blocking threads per worker."
)
def serve(host: str, port: int, workers: int, threads: int | None) -> None:
    """Apply pending migrations, then serve with Granian."""
    from granian import Granian
    from granian.constants import Interfaces

    settings = Settings()
    settings.ensure_secret_key()
    upgrade_database(settings)
    if workers > 1 and settings.effective_database_url.startswith("sqlite"):
        click.echo("note: several workers on SQLite queue on one write lock; PostgreSQL scales.")
    click.echo(f"SteriStock serving on http://{host}:{port} ({workers} worker(s))")
    # The notification loop runs here, in the serving process, not in each worker: one
    # loop per server, and the database lease makes it one sender across servers.
    from kernel.notifications.runner import serve_loop

    serve_loop(settings, notification_rules(plugins()))
    Granian(
        "steristock.asgi:app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        blocking_threads=threads,
        log_access=False,
    ).serve()


@main.command()
def demo() -> None:
    """Load demo users and data into an empty database (demo only: never in production)."""
    from steristock.demo import DEMO_USERS, has_users, load_demo

    settings = Settings()
    settings.ensure_secret_key()
    upgrade_database(settings)
    database = open_database(settings)
    try:
        with database.session() as session:
            if has_users(session):
                click.echo(
                    "Demo data is already loaded (users exist). Delete ./data/ to start over."
                )
                return
            passwords = load_demo(session, plugins(), actor=SYSTEM_ACTOR)
    finally:
        database.dispose()
    click.echo("Demo users (DEMO ONLY - these passwords are shown once, never use them for real):")
    for username, role, _ in DEMO_USERS:
        click.echo(f"  {username:<11} role={role:<11} password={passwords[username]}")


for plugin in [KernelPlugin(), *plugins()]:
    plugin.on_cli_init(main)
add_notify_commands(main, lambda: notification_rules(plugins()))


if __name__ == "__main__":
    main()
