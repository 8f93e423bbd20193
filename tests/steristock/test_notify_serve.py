"""`steristock serve` runs the notification rules on its own interval, in one loop per
server whatever its workers; two servers on one database still notify each fact once
(the lease)."""

from __future__ import annotations

import datetime as dt
import time
from contextlib import ExitStack

import pytest
from sqlalchemy import update

from kernel.auth.models import Role
from kernel.db import utcnow
from sterilization.models import Cycle
from tests.live_server import live_server
from tests.notification_factories import deliveries, notifications
from tests.sterilization_factories import Sterilization


@pytest.mark.slow
def test_two_servers_with_two_workers_each_notify_a_fact_once(
    app, client, users, database, database_url, tmp_path
):
    steri = Sterilization(client, users)
    users.headers(Role.MA)  # one MA to tell
    cycle = steri.start(steri.sterilizer()["code"])
    with database.session() as session:  # the load was started three hours ago
        session.execute(
            update(Cycle)
            .where(Cycle.id == cycle["id"])
            .values(started_at=utcnow() - dt.timedelta(hours=3))
        )
    env = {"STERISTOCK_NOTIFY_INTERVAL_SECONDS": "1", "STERISTOCK_TIMEZONE": "America/Chicago"}
    with ExitStack() as servers:
        for name in ("a", "b"):
            workdir = tmp_path / name
            workdir.mkdir()
            servers.enter_context(live_server(database_url, workdir, workers=2, env=env))
        deadline = time.monotonic() + 60
        while not notifications(app, "cycle_overdue"):
            assert time.monotonic() < deadline, "no server ran the rules"
            time.sleep(0.5)
        time.sleep(4)  # several more runs by both servers
    assert len(notifications(app, "cycle_overdue")) == 1
    assert [d.channel for d, _ in deliveries(app, "cycle_overdue")] == ["in_app"]
