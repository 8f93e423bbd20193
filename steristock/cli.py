"""The `steristock` command: serve, migrate, manage users, verify the audit trail, demo."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from steristock.settings import Settings

SYSTEM_ACTOR = "cli"


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    from steristock.db import Database

    return Database(
        settings.effective_database_url,
        pool_size=2,
        sqlite_synchronous=settings.sqlite_synchronous,
    )


def _upgrade(settings: Settings) -> None:
    from steristock.migrations import upgrade

    upgrade(settings.effective_database_url)


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
    _upgrade(settings)
    if workers > 1 and settings.effective_database_url.startswith("sqlite"):
        click.echo("note: several workers on SQLite queue on one write lock; PostgreSQL scales.")
    click.echo(f"SteriStock serving on http://{host}:{port} ({workers} worker(s))")
    Granian(
        "steristock.asgi:app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        blocking_threads=threads,
        log_access=False,
    ).serve()


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all pending migrations."""
    settings = Settings()
    _upgrade(settings)
    click.echo("database is at the latest migration")


@main.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "ma", "purchasing", "auditor"]))
@click.option("--full-name", default="")
@click.option("--password", default=None, help="Omit to be prompted (or pipe it on stdin).")
def users_create(username: str, role: str, full_name: str, password: str | None) -> None:
    """Create a user with a role."""
    from steristock.auth.models import Role
    from steristock.auth.service import create_user
    from steristock.problems import DomainError

    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
    settings = Settings()
    _upgrade(settings)
    database = _database(settings)
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


@main.group()
def audit() -> None:
    """Audit trail commands."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 if any entry was altered or removed."""
    from steristock.audit.service import verify_chain

    database = _database(Settings())
    try:
        with database.session(write=False) as session:
            report = verify_chain(session)
    finally:
        database.dispose()
    if report.ok:
        click.echo(f"ok: {report.entries} entries, head {report.head}")
        return
    click.echo(
        f"FAILED at entry {report.first_bad_entry}: {report.problem} "
        f"({report.entries} entries verified before it)",
        err=True,
    )
    sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def backup(file: Path, force: bool) -> None:
    """Write a consistent snapshot of the database to FILE, safe while the server runs
    (SQLite: VACUUM INTO; PostgreSQL: pg_dump --format=custom)."""
    from steristock import backup as backups

    settings = Settings()
    try:
        snapshot = backups.backup(settings.effective_database_url, file, force=force)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    entries = "" if snapshot.audit_entries is None else f", {snapshot.audit_entries} audit entries"
    click.echo(f"backed up to {snapshot.path}: migration {snapshot.revision}{entries}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the current database (it is kept aside).")
def restore(file: Path, force: bool) -> None:
    """Restore a backup made by `steristock backup`: checks it (SteriStock database, known
    migration, integrity, audit chain), migrates it to the head and swaps it in. Stop the
    server first."""
    from steristock import backup as backups

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


@main.group()
def reorder() -> None:
    """Reorder suggestions (the weekly CSV for suppliers' ordering portals)."""


@reorder.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option("--supplier", "supplier_id", type=click.IntRange(min=1), help="Only this supplier.")
def reorder_export(out: str, supplier_id: int | None) -> None:
    """Write the reorder CSV (same file as GET /api/v1/reorder/suggestions.csv)."""
    import datetime as dt
    import os
    from pathlib import Path

    from inventory import reorder as reorder_rules
    from inventory.models import Supplier

    settings = Settings()
    database = _database(settings)
    try:
        with database.session(write=False) as session:
            if supplier_id is not None and session.get(Supplier, supplier_id) is None:
                raise click.ClickException(f"No supplier with id {supplier_id}.")
            today = dt.datetime.now(settings.tz).date()
            df = reorder_rules.suggestions(
                session, today=today, tz=settings.tz, supplier_id=supplier_id, parallel=True
            )
    finally:
        database.dispose()
    target = Path(out)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(reorder_rules.to_csv(df), encoding="utf-8")
    os.replace(partial, target)  # a reader never sees a half-written file
    click.echo(f"wrote {len(df)} suggestion(s) to {target}")


@main.group()
def items() -> None:
    """The catalogue as CSV files (same formats as /api/v1/items.csv and /par-levels.csv)."""


def _print_report(report) -> None:  # type: ignore[no-untyped-def]
    label = "items" if report.file == "items" else "par levels"
    click.echo(
        f"{label}: {report.created} to create, {report.updated} to update, "
        f"{report.unchanged} unchanged, {report.rejected} rejected"
    )
    for row in report.rows:
        if row.action == "update":
            where = f" at {row.location}" if row.location else ""
            click.echo(f"  row {row.row}: update {row.sku}{where} ({', '.join(row.changed)})")
    for problem in report.problems:
        column = f" [{problem.column}]" if problem.column else ""
        click.echo(f"  row {problem.row}{column}: {problem.message}", err=True)


@items.command("import")
@click.argument("items_file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--par-levels",
    "par_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Par levels CSV (sku,location,par_level,reorder_point), in the same transaction.",
)
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
def items_import(items_file: str | None, par_file: str | None, dry_run: bool) -> None:
    """Import the catalogue from ITEMS_FILE (and/or --par-levels): all or nothing."""
    from pathlib import Path

    from inventory.catalogue_import import import_catalogue
    from steristock.problems import DomainError

    if items_file is None and par_file is None:
        raise click.UsageError("Give an items file, --par-levels FILE, or both.")
    settings = Settings()
    database = _database(settings)
    try:
        with database.session() as session:
            try:
                result = import_catalogue(
                    session,
                    actor=SYSTEM_ACTOR,
                    items=Path(items_file).read_bytes() if items_file else None,
                    par_levels=Path(par_file).read_bytes() if par_file else None,
                    dry_run=dry_run,
                )
            except DomainError as exc:
                raise click.ClickException(exc.detail) from exc
            for report in (result.items, result.par_levels):
                if report is not None:
                    _print_report(report)
            if not result.accepted:
                session.rollback()
                raise click.ClickException("Nothing was imported: fix the rows above.")
    finally:
        database.dispose()
    click.echo("dry run: nothing was written" if dry_run else "imported")


@items.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--par-levels-out",
    "par_out",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the par levels CSV here.",
)
def items_export(out: str, par_out: str | None) -> None:
    """Write the catalogue CSV (and the par levels CSV), ready to edit and import again."""
    import os
    from pathlib import Path

    from inventory.catalogue_import import items_frame, par_levels_frame, to_csv

    settings = Settings()
    database = _database(settings)
    try:
        with database.session(write=False) as session:
            frames = [(out, items_frame(session))]
            if par_out:
                frames.append((par_out, par_levels_frame(session)))
    finally:
        database.dispose()
    for path, frame in frames:
        target = Path(path)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(to_csv(frame), encoding="utf-8")
        os.replace(partial, target)  # a reader never sees a half-written file
        click.echo(f"wrote {len(frame)} row(s) to {target}")


DEMO_USERS = [
    ("admin", "admin", "Avery Admin"),
    ("ma", "ma", "Morgan Assistant"),
    ("purchasing", "purchasing", "Pat Purchasing"),
    ("auditor", "auditor", "Alex Auditor"),
]


@main.command()
def demo() -> None:
    """Load demo users and data into an empty database (demo only: never in production)."""
    from steristock.auth.models import Role, User
    from steristock.auth.service import create_user
    from steristock.domains import domain_demo_loaders

    settings = Settings()
    settings.ensure_secret_key()
    _upgrade(settings)
    database = _database(settings)
    try:
        with database.session() as session:
            if session.scalar(select(func.count()).select_from(User)):
                click.echo(
                    "Demo data is already loaded (users exist). Delete ./data/ to start over."
                )
                return
            passwords = {}
            for username, role, full_name in DEMO_USERS:
                password = f"demo-{secrets.token_urlsafe(9)}"
                create_user(
                    session,
                    actor=SYSTEM_ACTOR,
                    username=username,
                    role=Role(role),
                    password=password,
                    full_name=full_name,
                )
                passwords[username] = password
            for load_demo_data in domain_demo_loaders():
                load_demo_data(session, actor=SYSTEM_ACTOR)
    finally:
        database.dispose()
    click.echo("Demo users (DEMO ONLY - these passwords are shown once, never use them for real):")
    for username, role, _ in DEMO_USERS:
        click.echo(f"  {username:<11} role={role:<11} password={passwords[username]}")


@main.group()
def labels() -> None:
    """Print label sheets to a PDF file (same sheets as /api/v1/labels/...)."""


def _write_labels(out: str, render) -> None:  # type: ignore[no-untyped-def]
    """Read what to print in one session, render, and write the file only on success."""
    from pathlib import Path

    from steristock.problems import DomainError

    settings = Settings()
    database = _database(settings)
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


_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["letter", "thermal"]), default="letter",
    show_default=True, help="letter: Avery 5160 30-up; thermal: 2 x 1 in roll.",
)  # fmt: skip
_SKIP = click.option(
    "--skip", type=click.IntRange(0, 29), default=0, help="Labels already used on sheet 1."
)
_OUT = click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))


@labels.command("packs")
@click.option("--cycle", type=click.IntRange(1, 2_147_483_647), help="Every pack of a cycle.")
@click.option("--codes", help="Comma-separated pack codes (PK-000001,PK-000002).")
@_OUT
@_FORMAT
@_SKIP
def labels_packs(cycle: int | None, codes: str | None, out: str, fmt: str, skip: int) -> None:
    """Pack labels for a cycle's packs or for given codes."""
    if (cycle is None) == (not codes):
        raise click.UsageError("give exactly one of --cycle or --codes")

    def render(session, settings):  # type: ignore[no-untyped-def]
        from sterilization import pack_labels
        from sterilization.clinic import Clinic
        from steristock.labels import pack_labels_pdf
        from steristock.labels.responses import check_skip

        check_skip(fmt, skip)
        clinic = Clinic.from_settings(settings)
        if cycle is not None:
            found = pack_labels.labels_for_cycle(session, cycle, clinic)
        else:
            found = pack_labels.labels_for_codes(
                session, pack_labels.parse_code_list(codes or ""), clinic
            )
        return pack_labels_pdf(found, settings.public_url, fmt, skip=skip), len(found)

    _write_labels(out, render)


@labels.command("bins")
@click.option("--location", required=True, help="Location code, e.g. EXAM1.")
@_OUT
@_FORMAT
@_SKIP
def labels_bins(location: str, out: str, fmt: str, skip: int) -> None:
    """Bin labels for every item stocked at a location or with a par level there."""

    def render(session, settings):  # type: ignore[no-untyped-def]
        from inventory.bins import bin_labels
        from steristock.labels import bin_labels_pdf
        from steristock.labels.responses import check_skip

        check_skip(fmt, skip)
        found = bin_labels(session, location)
        return bin_labels_pdf(found, settings.public_url, fmt, skip=skip), len(found)

    _write_labels(out, render)


if __name__ == "__main__":
    main()
