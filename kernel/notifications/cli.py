"""`steristock notify run`: one notification run for cron or a systemd timer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from kernel.notifications.rules import NotificationRule


def add_notify_commands(cli: click.Group, rules: Callable[[], Sequence[NotificationRule]]) -> None:
    @cli.group("notify")
    def notify() -> None:
        """Notifications: run the rules and deliver (docs/notifications.md)."""

    @notify.command("run")
    @click.option(
        "--wait",
        default=60.0,
        show_default=True,
        type=click.FloatRange(0, 3600),
        help="Seconds to wait for the sender lease while another sender holds it.",
    )
    def run(wait: float) -> None:
        """Take the sender lease, run every rule, deliver what is due, exit 0."""
        from kernel.cli import open_database, upgrade_database
        from kernel.clock import Clock
        from kernel.notifications.rules import rules_by_kind
        from kernel.notifications.runner import run_once
        from kernel.settings import Settings

        settings = Settings()
        upgrade_database(settings)
        database = open_database(settings)
        try:
            result = run_once(
                database,
                settings,
                list(rules_by_kind(rules()).values()),
                clock=Clock.from_settings(settings),
                wait=wait,
            )
        finally:
            database.dispose()
        if not result.ran:
            click.echo(f"Another sender held the lease for {wait:g} s; nothing done this time.")
            return
        report = result.rules
        click.echo(
            f"Notifications: {report.facts} facts, {report.new} new, {report.deliveries} "
            f"deliveries queued; {result.sent} sent, {result.failed} failed (retried later)."
        )
        if report.failed_rules:
            click.echo(f"Rules that failed (see the log): {', '.join(report.failed_rules)}")
