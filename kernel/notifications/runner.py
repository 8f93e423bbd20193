"""One notification run, and the server's loop that repeats it.

`run_once` takes the lease (waiting while another sender holds it), runs every rule,
delivers what is due (e-mail, digests, webhooks) and gives the lease back. `steristock
notify run` calls it once; `steristock serve` starts `NotifierLoop`, which calls it every
`STERISTOCK_NOTIFY_INTERVAL_SECONDS` in the serving process (never in the workers), so
there is one loop per server however many workers it has, and the lease makes it one
sender across servers and containers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kernel.clock import Clock
from kernel.db import Database
from kernel.notifications.engine import RunReport, run_rules_per_site
from kernel.notifications.lease import acquire, new_holder, release
from kernel.notifications.rules import NotificationRule
from kernel.settings import Settings

log = logging.getLogger("steristock.notifications")


@dataclass
class RunResult:
    """A run's outcome: None fields when the lease could not be had."""

    ran: bool
    rules: RunReport = field(default_factory=RunReport)
    sent: int = 0
    failed: int = 0


def run_once(
    database: Database,
    settings: Settings,
    rules: Sequence[NotificationRule],
    *,
    clock: Clock,
    wait: float = 60.0,
    holder: str | None = None,
) -> RunResult:
    """Take the lease (waiting up to `wait` seconds), run the rules, deliver, release."""
    from kernel.notifications.outbox import deliver_due

    holder = holder or new_holder()
    if not acquire(database, holder, wait=wait):
        return RunResult(ran=False)
    try:
        now = clock.now()
        with database.session() as session:
            report = run_rules_per_site(
                session, rules, now=now, email_enabled=bool(settings.smtp_url)
            )
        outcome = deliver_due(database, settings, now=now, zone=clock.zone)
        return RunResult(ran=True, rules=report, sent=outcome.sent, failed=outcome.failed)
    finally:
        release(database, holder)


class NotifierLoop:
    """A daemon thread running `run_once` every `interval` seconds until stopped. A run
    that fails is logged; the loop goes on (the next run retries what is still due)."""

    def __init__(
        self,
        make_run: Callable[[], RunResult],
        interval: float,
        *,
        first_delay: float = 10.0,
    ) -> None:
        self._run = make_run
        self.interval = interval
        self.first_delay = first_delay
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="steristock-notifier", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        delay = self.first_delay
        while not self._stop.wait(delay):
            delay = self.interval
            try:
                result = self._run()
                if result.ran:
                    log.info(
                        "notifications: %d new, %d sent, %d failed",
                        result.rules.new,
                        result.sent,
                        result.failed,
                    )
            except Exception:
                log.exception("notification run failed")


def serve_loop(settings: Settings, rules: Sequence[NotificationRule]) -> NotifierLoop | None:
    """The loop `steristock serve` starts (None when the interval is 0)."""
    if settings.notify_interval_seconds <= 0:
        return None
    database = Database(settings.effective_database_url, pool_size=2)
    clock = Clock.from_settings(settings)

    def run() -> RunResult:
        return run_once(database, settings, rules, clock=clock, wait=0)

    interval = settings.notify_interval_seconds
    loop = NotifierLoop(run, interval, first_delay=min(10.0, interval))
    loop.start()
    return loop
