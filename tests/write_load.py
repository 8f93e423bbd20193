"""A concurrent write load over real HTTP (consumes, half with an Idempotency-Key, and
cycle starts + completions) on seeded data, and the checks that a database it wrote to is
whole: shared by the crash-safety and backup tests."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from inventory import ledger
from inventory.models import StockMovement
from inventory.schemas.stock import ReceiveStock
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.auth.service import create_user
from kernel.db import Database, utcnow
from kernel.idempotency import IdempotencyRecord
from sterilization.models import Cycle, CycleParameters, Pack, PackEvent, Sterilizer
from sterilization.packs import create_packs
from sterilization.sterilizers import create_sterilizer
from tests.inventory_factories import InventoryFactory
from tests.server_process import cli_env, steristock_command

SEED = int(os.environ.get("STERISTOCK_CRASH_SEED", "909"))
PASSWORD = "crash test password"
SKUS = ("GLV-M", "GAUZE", "SUT-4")
LOCATIONS = ("EXAM1", "EXAM2")
STERILIZERS = ("AC1", "AC2")
CONSUME_CLIENTS = 4
PACKS_PER_CYCLE = 3
PACKS_PER_STERILIZER = 30
GOOD_READINGS = {
    "mechanical_ok": True,
    "chemical_ok": True,
    "temperature_c": 121.5,
    "exposure_minutes": 30.0,
    "pressure_kpa": 205.0,
}


@dataclass
class Attempt:
    """One write request and what the client learned about it."""

    kind: str  # consume | start | complete
    body: dict[str, Any]
    key: str | None = None
    path: str = "/api/v1/stock/movements"
    status: int | None = None  # None: no response (sent, outcome unknown)
    result: Any = None
    sent_at: float = 0.0
    answered_at: float | None = None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def seed(database: Database) -> dict[str, list[str]]:
    """Stock in two locations (one item lot-tracked in two lots), two sterilizers in
    service and assembled packs for each; returns each sterilizer's pack codes."""
    today = dt.datetime.now(ZoneInfo("America/Chicago")).date()
    factory = InventoryFactory(database)
    factory.locations(*LOCATIONS)
    for sku in SKUS:
        factory.item(sku, lot_tracked=sku == "SUT-4")
    with database.session() as session:
        create_user(session, actor="test", username="crashma", role=Role.MA, password=PASSWORD)
        for sku, location in itertools.product(SKUS, LOCATIONS):
            # (lot, expires in days, units): a small early lot, so consumes span two lots
            lots = [("L1", 20, 12), ("L2", 60, 5000)] if sku == "SUT-4" else [(None, 0, 5000)]
            for lot, days, units in lots:
                ledger.record_movement(
                    session,
                    actor="test",
                    today=today,
                    data=ReceiveStock(
                        sku=sku,
                        location=location,
                        quantity=units,
                        lot=lot,
                        expires_on=today + dt.timedelta(days=days) if lot else None,
                    ),
                )
        packs = {}
        for code in STERILIZERS:
            create_sterilizer(
                session, code=code, name=f"Autoclave {code}", kind="steam_gravity", actor="test"
            )
            packs[code] = create_packs(
                session,
                description="Exam kit",
                contents=[{"name": "Mirror", "quantity": 1}],
                quantity=PACKS_PER_STERILIZER,
                implant=False,
                actor="test",
                now=utcnow(),
            )
    return packs


class Load:
    """Client threads writing until the server dies; every attempt is kept."""

    def __init__(self, base_url: str, headers: dict[str, str], packs: dict[str, list[str]]):
        self.base_url = base_url
        self.headers = headers
        self.packs = packs
        self.attempts: list[Attempt] = []
        self.acknowledged = 0
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

    def send(self, client: httpx.Client, attempt: Attempt) -> bool:
        """POST one attempt; False once the server is gone."""
        with self.changed:
            self.attempts.append(attempt)
        headers = {"Idempotency-Key": attempt.key} if attempt.key else {}
        attempt.sent_at = time.monotonic()
        try:
            response = client.post(attempt.path, json=attempt.body, headers=headers)
        except httpx.ConnectError:
            attempt.status = 0  # refused before anything was sent: certainly not written
            return False
        except httpx.TransportError:
            return False  # sent; the answer was lost with the server
        attempt.answered_at = time.monotonic()
        attempt.status = response.status_code
        assert attempt.status < 500, response.text
        attempt.result = response.json()
        if attempt.acknowledged:
            with self.changed:
                self.acknowledged += 1
                self.changed.notify_all()
        return True

    def consumer(self, number: int) -> None:
        rng = random.Random(SEED * 100 + number)
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30) as client:
            for n in itertools.count():
                if self.stop.is_set():
                    return
                body = {
                    "kind": "consume",
                    "sku": rng.choice(SKUS),
                    "location": rng.choice(LOCATIONS),
                    "quantity": rng.randint(1, 4),
                }
                key = f"crash-{number}-{n}" if n % 2 == 0 else None
                if not self.send(client, Attempt("consume", body, key)):
                    return

    def cycler(self, sterilizer: str) -> None:
        codes = self.packs[sterilizer]
        # Cycles are logged after the fact, one after another from a week back (a cycle
        # takes 31 minutes: its exposure cannot be longer than the time it ran).
        at = dt.datetime.now(dt.UTC) - dt.timedelta(days=7) + dt.timedelta(hours=1)
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30) as client:
            for i in itertools.count(0, PACKS_PER_CYCLE):
                if self.stop.is_set():
                    return
                load = codes[i : i + PACKS_PER_CYCLE]  # empty loads once the packs run out
                body = {"sterilizer": sterilizer, "cycle_type": "gravity_121_30", "packs": load,
                        "started_at": at.isoformat()}  # fmt: skip
                start = Attempt("start", body, path="/api/v1/cycles")
                if not self.send(client, start):
                    return
                assert start.status == 201, start.result
                at += dt.timedelta(minutes=31)
                done = Attempt(
                    "complete", {**GOOD_READINGS, "ended_at": at.isoformat()},
                    path=f"/api/v1/cycles/{start.result['id']}/complete",
                )  # fmt: skip
                if not self.send(client, done):
                    return
                assert done.status == 200, done.result

    def start(self) -> None:
        """Start the client threads (they write until `finish` or the server dies)."""

        def guarded(target: Any, *args: Any) -> None:
            try:
                target(*args)
            except BaseException as exc:
                self.errors.append(exc)
                with self.changed:
                    self.changed.notify_all()

        self.threads = [
            threading.Thread(target=guarded, args=(self.consumer, n))
            for n in range(CONSUME_CLIENTS)
        ] + [threading.Thread(target=guarded, args=(self.cycler, code)) for code in STERILIZERS]
        for thread in self.threads:
            thread.start()

    def wait_for(self, acknowledged: int, timeout: float = 60) -> int:
        """Block until `acknowledged` writes were acknowledged; returns how many requests
        are in flight at that moment."""
        with self.changed:
            reached = self.changed.wait_for(
                lambda: self.acknowledged >= acknowledged or self.errors, timeout=timeout
            )
            assert reached, f"only {self.acknowledged} writes acknowledged in {timeout} s"
            assert not self.errors, self.errors
            return sum(1 for a in self.attempts if a.status is None)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not self.errors, self.errors


def audit_references(session: Any) -> list[str]:
    """The movement reference of every stock audit entry."""
    rows = session.scalars(select(AuditEntry.after).where(AuditEntry.action.like("stock.%")))
    return [json.loads(after)["reference"] for after in rows]


def check_nothing_half_written(database: Database) -> None:
    with database.session(write=False) as session:
        # Every movement group (one request) has exactly one audit entry, and back.
        movement_refs = set(session.scalars(select(StockMovement.reference).distinct()))
        audited = audit_references(session)
        assert len(audited) == len(set(audited)), "a movement was audited twice"
        assert movement_refs == set(audited)

        audit_ids = {
            (action, entity_id)
            for action, entity_id in session.execute(
                select(AuditEntry.action, AuditEntry.entity_id).where(AuditEntry.entity == "cycle")
            )
        }
        params = set(session.scalars(select(CycleParameters.cycle_id)))
        cycles = {c.id: c for c in session.scalars(select(Cycle))}
        for cycle in cycles.values():
            assert ("cycle.start", str(cycle.id)) in audit_ids, f"cycle {cycle.id} not audited"
            completed = cycle.status != "running"
            assert (("cycle.complete", str(cycle.id)) in audit_ids) == completed
            assert (cycle.id in params) == completed
            assert (cycle.ended_at is not None) == completed

        for pack in session.scalars(select(Pack)):
            events = set(
                session.scalars(select(PackEvent.event).where(PackEvent.pack_id == pack.id))
            )
            if pack.cycle_id is None:
                assert pack.status == "assembled" and "loaded" not in events, pack.code
                continue
            cycle = cycles[pack.cycle_id]
            expected = {"running": "loaded", "passed": "sterile"}[cycle.status]
            assert pack.status == expected, (
                f"{pack.code} is {pack.status} in a {cycle.status} cycle"
            )
            assert "loaded" in events
            assert ("sterilized" in events) == (expected == "sterile")

        for sterilizer in session.scalars(select(Sterilizer)):
            numbers = sorted(
                session.scalars(select(Cycle.number).where(Cycle.sterilizer_id == sterilizer.id))
            )
            assert numbers == list(range(1, sterilizer.last_cycle_number + 1)), sterilizer.code

        for record in session.scalars(select(IdempotencyRecord)):
            body = json.loads(record.response_body)
            stored = session.get(StockMovement, body["id"])
            assert stored is not None and stored.reference == body["reference"], record.key


def check_acknowledged_present(database: Database, attempts: list[Attempt]) -> None:
    with database.session(write=False) as session:
        for a in attempts:
            if not a.acknowledged:
                continue
            if a.kind == "consume":
                rows = session.scalars(
                    select(StockMovement).where(StockMovement.reference == a.result["reference"])
                ).all()
                assert a.result["id"] in {m.id for m in rows}, f"lost movement {a.result}"
                assert {m.kind for m in rows} == {"consume"}
                assert -sum(m.quantity for m in rows) == a.body["quantity"]
            elif a.kind == "start":
                cycle = session.get(Cycle, a.result["id"])
                assert cycle is not None, f"lost cycle {a.result}"
                loaded = set(session.scalars(select(Pack.code).where(Pack.cycle_id == cycle.id)))
                assert loaded == set(a.body["packs"])
            else:
                cycle = session.get(Cycle, a.result["id"])
                assert cycle is not None and cycle.status == a.result["status"] == "passed"


def audit_verify(database_url: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*steristock_command(), "audit", "verify"],
        env=cli_env(database_url, workdir / "data"),
        capture_output=True,
        text=True,
        timeout=120,
    )


def login(base_url: str) -> dict[str, str]:
    response = httpx.post(
        base_url + "/api/v1/auth/token", json={"username": "crashma", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def check_consistent(database: Database) -> None:
    """Nothing half-written, on-hand == lots == ledger, nothing negative."""
    check_nothing_half_written(database)
    assert InventoryFactory(database).invariant_violations() == []
