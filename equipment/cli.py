"""Equipment's commands: `maintenance due` (what is overdue or due soon, for a cron mail)."""

from __future__ import annotations

import click


def add_equipment_commands(cli: click.Group) -> None:
    @cli.group("maintenance")
    def maintenance_group() -> None:
        """The maintenance log of equipment, HLD devices and sterilizers."""

    @maintenance_group.command("due")
    @click.option("--within-days", type=click.IntRange(0, 3650), default=30, show_default=True)
    def maintenance_due(within_days: int) -> None:
        """Devices whose next maintenance is overdue or due within N days."""
        from equipment.maintenance import maintenance_due as due
        from kernel.cli import open_database
        from kernel.clock import Clock
        from kernel.settings import Settings

        settings = Settings()
        database = open_database(settings)
        try:
            with database.session() as session:
                today = Clock.from_settings(settings).today()
                rows = due(session, today=today, within_days=within_days)
        finally:
            database.dispose()
        if not rows:
            click.echo(f"Nothing due within {within_days} days.")
        for row in rows:
            state = f"OVERDUE by {row.days_overdue} days" if row.overdue else "due"
            click.echo(
                f"{row.device}\t{row.device_name}\t{state}\t{row.next_due_on}\t"
                f"(last: {row.last_kind} on {row.last_performed_on})"
            )
