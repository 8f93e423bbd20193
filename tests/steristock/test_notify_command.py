"""`steristock notify run` (cron, a systemd timer): takes the lease, runs every rule of
every domain, delivers, exits 0; with the lease held elsewhere it waits, then gives up
cleanly. The server's loop runs the same thing on its interval."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from kernel.auth.models import Role
from kernel.db import utcnow
from kernel.notifications.lease import release, try_acquire
from kernel.notifications.runner import NotifierLoop, RunResult
from kernel.settings import get_settings
from sterilization.models import Cycle
from steristock.cli import main
from tests.notification_factories import kinds_for, notifications
from tests.sterilization_factories import Sterilization


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path):
    env = {
        "DATABASE_URL": database_url,
        "STERISTOCK_DATA_DIR": str(tmp_path / "data"),
        "STERISTOCK_SECRET_KEY": "test-secret-key",
        "STERISTOCK_TIMEZONE": "America/Chicago",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_notify_run_notifies_each_fact_once_and_exits_0(app, client, users, database, cli_env):
    steri = Sterilization(client, users)
    cycle = steri.start(steri.sterilizer()["code"])
    with database.session() as session:  # the load was started three hours ago
        session.execute(
            update(Cycle)
            .where(Cycle.id == cycle["id"])
            .values(started_at=utcnow() - dt.timedelta(hours=3))
        )
    first = CliRunner().invoke(main, ["notify", "run"])
    assert first.exit_code == 0, first.output
    assert "new" in first.output
    second = CliRunner().invoke(main, ["notify", "run"])
    assert second.exit_code == 0, second.output
    assert len(notifications(app, "cycle_overdue")) == 1
    assert "cycle_overdue" in kinds_for(client, users.headers(Role.MA))


def test_notify_run_waits_for_the_lease_then_gives_up_cleanly(database, cli_env):
    assert try_acquire(database, "a-server")
    try:
        result = CliRunner().invoke(main, ["notify", "run", "--wait", "0.5"])
    finally:
        release(database, "a-server")
    assert result.exit_code == 0, result.output
    assert "Another sender held the lease" in result.output


def test_the_server_loop_runs_on_its_interval_and_survives_a_failed_run():
    runs: list[int] = []
    twice = threading.Event()

    def run() -> RunResult:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("database away")
        if len(runs) >= 3:
            twice.set()
        return RunResult(ran=True)

    loop = NotifierLoop(run, interval=0.05, first_delay=0.01)
    loop.start()
    assert twice.wait(10)
    loop.stop()
    loop.thread.join(5)
    assert not loop.thread.is_alive()
