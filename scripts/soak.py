"""Sustained mixed load (issue 9): many clients on the real server for minutes, then proof
that nothing went wrong.

`CLIENTS` clients (default 16) for `DURATION` seconds (default 300) against
`steristock serve` (Granian, one worker) on SQLite and on PostgreSQL, each client picking
at random, per operation:

- 70% scans: `GET /api/v1/scan?code=` of pack codes and label URLs, bin paths and GS1
  strings (parenthesised, `]d2` with FNC1 as ASCII 29);
- 20% consumes: `POST /api/v1/stock/movements` (kind consume, 1 unit) with a fresh
  `Idempotency-Key`; a million units of every item were received at every location first,
  so stock never runs out legitimately;
- 10% cycle writes: assemble two packs (`POST /api/v1/packs`), start a cycle with them
  (`POST /api/v1/cycles`), record passing readings (`POST /api/v1/cycles/{id}/complete`).
  Each is logged after the fact (`started_at`, `ended_at`) on a sterilizer lent to the
  client for it (`CycleTimeline`): a cycle cannot claim more exposure than the time it
  ran, and a sterilizer runs one cycle at a time.

Reported: requests, throughput, errors (every non-2xx answer and every connection error
counts; the first few are printed) and p50/p95/p99 latency per kind and overall. Then the
run is checked: the audit chain verifies, on-hand equals the ledger (and its lots) for every
bin, every acknowledged consume is in the ledger exactly once, every acknowledged cycle is
in the cycle log.

The load generator is a small asyncio HTTP/1.1 keep-alive client in this process (the
server is a separate process); its CPU time is measured and reported, since it shares the
machine's cores with the server.

Usage: python scripts/soak.py [--duration 300] [--clients 16] [--backend sqlite|postgres|both]
       [--postgres-url URL]   (also `make soak`, and a scenario of `scripts/bench.py`)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchkit

ITEMS = 100
LOCATIONS = ("SUPPLY", "EXAM1", "EXAM2", "EXAM3")
MIN_STERILIZERS = 4
CYCLE_TYPE = "gravity_121_30"
CYCLE_LENGTH = dt.timedelta(minutes=31)  # 30 min exposure (READINGS), a minute to unload
MAX_BACKDATE = dt.timedelta(days=7)  # the most a cycle may be back-dated (cycle_times)
PREPARE_MARGIN = dt.timedelta(hours=6)  # loading the data and starting the server
MAX_CYCLES_PER_SECOND = 100  # room for; measured ~17/s with 16 clients on 2 cores
SCAN_PACKS = 300
RECEIVED = 1_000_000  # units of every item at every location before the load
PUBLIC_URL = "https://steristock.clinic.example"
MIX = (("scan", 0.70), ("consume", 0.20), ("cycle", 0.10))
REQUEST_TIMEOUT = 30.0
SHOWN_ERRORS = 5


def gtin14(n: int) -> str:
    """A valid GTIN-14 (check digit computed) for item number n."""
    body = f"1061414{n:06d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def sku(n: int) -> str:
    return f"SOAK-{n:04d}"


class CycleTimeline:
    """Which sterilizer each cycle of the load runs on, and when.

    A cycle cannot be completed with more exposure than the time it ran, a sterilizer runs
    one cycle at a time, and a new one cannot start before its previous one ended
    (`sterilization.cycle_times`); the load writes many cycles a second. So every cycle is
    logged after the fact: each sterilizer has its cycles back to back (`CYCLE_LENGTH`
    each), from nearly `MAX_BACKDATE` before the soak began up to its start, and is lent to
    one client at a time. There are enough sterilizers for `MAX_CYCLES_PER_SECOND` over
    the whole run, and at least one per client, so no client waits for one.
    """

    def __init__(self, *, duration: float, clients: int, now: dt.datetime | None = None):
        # Whole minutes: the ends sit exactly on the next starts.
        self.last = (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)
        run = dt.timedelta(minutes=math.ceil(duration / 60))
        self.first = self.last - MAX_BACKDATE + run + PREPARE_MARGIN
        per_sterilizer = (self.last - self.first) // CYCLE_LENGTH
        count = max(
            MIN_STERILIZERS, clients, math.ceil(duration * MAX_CYCLES_PER_SECOND / per_sterilizer)
        )
        self.codes = [f"SK{n}" for n in range(1, count + 1)]
        self._next = dict.fromkeys(self.codes, self.first)
        self._free: asyncio.Queue[str] | None = None

    def take(self, code: str) -> tuple[dt.datetime, dt.datetime]:
        """The next cycle's start and end on sterilizer `code`."""
        started_at = self._next[code]
        ended_at = started_at + CYCLE_LENGTH
        if ended_at > self.last:
            raise RuntimeError(
                f"{code}'s timeline is full ({len(self.codes)} sterilizers for "
                f"{MAX_CYCLES_PER_SECOND} cycles/s): raise MAX_CYCLES_PER_SECOND"
            )
        self._next[code] = ended_at
        return started_at, ended_at

    @contextlib.asynccontextmanager
    async def lend(self) -> AsyncIterator[tuple[str, dt.datetime, dt.datetime]]:
        """A free sterilizer (the one idle longest) and its next cycle's start and end."""
        if self._free is None:
            self._free = asyncio.Queue()
            for code in self.codes:
                self._free.put_nowait(code)
        code = await self._free.get()
        try:
            yield (code, *self.take(code))
        finally:
            self._free.put_nowait(code)


@dataclass
class Fixture:
    """What the load works on, made before the server starts."""

    pack_codes: list[str]
    timeline: CycleTimeline
    scan_codes: list[str] = field(default_factory=list)


def prepare(url: str, timeline: CycleTimeline) -> Fixture:
    """Users, catalogue, a million units of stock per bin, sterilizers and scannable packs,
    made with the service functions in one transaction (not through the API)."""
    from inventory import catalogue, ledger
    from inventory.schemas.catalogue import ItemCreate, LocationCreate, SupplierCreate
    from inventory.schemas.stock import ReceiveStock
    from kernel.clock import Clock
    from kernel.db import Database
    from kernel.settings import Settings
    from sterilization import cycles, packs, sterilizers
    from sterilization.shelf_life import ShelfLife

    benchkit.migrate(url)
    benchkit.ensure_user(url, "soak-ma", "ma")
    benchkit.ensure_user(url, "soak-admin", "admin")
    settings = Settings(STERISTOCK_TIMEZONE="America/Chicago")
    clock = Clock.from_settings(settings)
    today = dt.date.today()
    db = Database(url, pool_size=1)
    try:
        with db.session() as s:
            supplier = catalogue.create_supplier(
                s, actor="soak", data=SupplierCreate(name="Soak supplier")
            )
            for code in LOCATIONS:
                catalogue.create_location(
                    s, actor="soak", data=LocationCreate(code=code, name=code.title())
                )
            for n in range(1, ITEMS + 1):
                catalogue.create_item(
                    s,
                    actor="soak",
                    data=ItemCreate(
                        sku=sku(n),
                        name=f"Soak consumable {n}",
                        unit="each",
                        supplier_id=supplier.id or 0,
                        unit_cost=Decimal("0.25"),
                        gtin=gtin14(n),
                    ),
                )
                for code in LOCATIONS:
                    ledger.record_movement(
                        s,
                        actor="soak",
                        today=today,
                        data=ReceiveStock(sku=sku(n), location=code,
                                        quantity=RECEIVED),
                    )  # fmt: skip
            for code in timeline.codes:
                sterilizers.create_sterilizer(
                    s, code=code, name=f"Autoclave {code}", kind="steam_gravity", actor="soak"
                )
            contents = [{"name": "Mirror", "quantity": 1}, {"name": "Explorer", "quantity": 1}]
            codes = packs.create_packs(
                s,
                description="Soak exam kit",
                contents=contents,
                quantity=SCAN_PACKS,
                implant=False,
                actor="soak",
                now=clock.now(),
            )
            started_at, ended_at = timeline.take(timeline.codes[0])
            cycle, _ = cycles.start_cycle(
                s,
                sterilizer_code=timeline.codes[0],
                cycle_type=CYCLE_TYPE,
                pack_codes=codes[: SCAN_PACKS // 2],
                bi_lot=None,
                implants=False,
                actor="soak",
                zone=clock.zone,
                now=clock.now(),
                started_at=started_at,
            )
            cycles.complete_cycle(
                s, cycle.id, data={**READINGS, "ended_at": ended_at}, actor="soak",
                zone=clock.zone,
                shelf_life=ShelfLife.from_settings(settings), now=clock.now(),
            )  # fmt: skip
    finally:
        db.dispose()
    return Fixture(pack_codes=codes, timeline=timeline, scan_codes=scan_codes(codes))


READINGS = {
    "mechanical_ok": True,
    "chemical_ok": True,
    "temperature_c": 121.5,
    "exposure_minutes": 30.0,
    "pressure_kpa": 205.0,
}


def scan_codes(pack_codes: list[str]) -> list[str]:
    """What scanners send: pack labels in several forms, bin labels, GS1 supply barcodes."""
    rng = random.Random(3)
    expiry = (dt.date.today() + dt.timedelta(days=400)).strftime("%y%m%d")
    out = []
    for i in range(600):
        n = rng.randint(1, ITEMS)
        code = rng.choice(pack_codes)
        loc = rng.choice(LOCATIONS)
        kind = i % 6
        if kind == 0:
            out.append(code)
        elif kind == 1:
            out.append(f"{PUBLIC_URL}/p/{code}")
        elif kind == 2:
            out.append(f"/b/{loc}/{sku(n)}")
        elif kind == 3:
            out.append(f"{PUBLIC_URL}/b/{loc}/{sku(n)}")
        elif kind == 4:
            out.append(f"(01){gtin14(n)}(17){expiry}(10)LOT{n}")
        else:
            out.append(f"]d201{gtin14(n)}10LOT{n}\x1d17{expiry}")
    return out


# A small HTTP/1.1 keep-alive client: much lighter than a general-purpose library, which
# matters when it shares two cores with the server it measures.


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: str = ""
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.fixed}{headers}"
            + (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else "")
            + "\r\n"
        )
        self.writer.write(head.encode("latin-1") + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            if ":" in line:
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.strip()
        if "content-length" in fields:
            payload = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            payload = b"".join(parts)
        else:
            payload = await self.reader.read()
            await self.close()
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, payload


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    connection_errors: int = 0
    ok: dict[str, int] = field(default_factory=dict)

    def record(self, kind: str, ms: float) -> None:
        self.latencies.setdefault(kind, []).append(ms)

    def fail(self, kind: str, what: str) -> None:
        self.error_count += 1
        if len(self.errors) < 50:
            self.errors.append(f"{kind}: {what}")


class Client:
    """One simulated tablet: picks an operation, sends it, records what happened."""

    def __init__(self, number: int, base: str, token: str, fixture: Fixture, tally: Tally):
        parts = urlsplit(base)
        self.conn = Connection(
            parts.hostname or "127.0.0.1", parts.port or 80, {"Authorization": f"Bearer {token}"}
        )
        self.rng = random.Random(1000 + number)
        self.fixture, self.tally = fixture, tally

    async def call(
        self, kind: str, method: str, path: str, body: object = None, headers: str = ""
    ) -> dict | None:
        payload = json.dumps(body).encode() if body is not None else b""
        started = time.perf_counter()
        try:
            status, answer = await asyncio.wait_for(
                self.conn.request(method, path, payload, headers), REQUEST_TIMEOUT
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.conn.close()
            self.tally.connection_errors += 1
            self.tally.fail(kind, f"{method} {path}: {type(exc).__name__}: {exc}")
            return None
        self.tally.record(kind, (time.perf_counter() - started) * 1000)
        if not 200 <= status < 300:
            self.tally.fail(kind, f"{method} {path} -> {status} {answer[:300]!r}")
            return None
        self.tally.ok[kind] = self.tally.ok.get(kind, 0) + 1
        return json.loads(answer) if answer else {}

    async def scan(self) -> None:
        code = self.rng.choice(self.fixture.scan_codes)
        await self.call("scan", "GET", "/api/v1/scan?code=" + quote(code, safe=""))

    async def consume(self) -> None:
        body = {
            "kind": "consume",
            "sku": sku(self.rng.randint(1, ITEMS)),
            "location": self.rng.choice(LOCATIONS),
            "quantity": 1,
        }
        key = f"Idempotency-Key: {uuid.uuid4()}\r\n"
        await self.call("consume", "POST", "/api/v1/stock/movements", body, key)

    async def cycle(self) -> None:
        started = time.perf_counter()
        made = await self.call(
            "cycle: assemble packs",
            "POST",
            "/api/v1/packs",
            {"description": "Soak kit", "contents": [{"name": "Mirror", "quantity": 1}],
             "quantity": 2},
        )  # fmt: skip
        if made is None:
            return
        async with self.fixture.timeline.lend() as (sterilizer, started_at, ended_at):
            cycle = await self.call(
                "cycle: start",
                "POST",
                "/api/v1/cycles",
                {
                    "sterilizer": sterilizer,
                    "cycle_type": CYCLE_TYPE,
                    "packs": [p["code"] for p in made["items"]],
                    "started_at": started_at.isoformat(),
                },
            )
            if cycle is None:
                return
            done = await self.call(
                "cycle: complete",
                "POST",
                f"/api/v1/cycles/{cycle['id']}/complete",
                {**READINGS, "ended_at": ended_at.isoformat()},
            )
        if done is not None:
            self.tally.record("cycle write (3 requests)", (time.perf_counter() - started) * 1000)

    async def run(self, deadline: float) -> None:
        operations = {"scan": self.scan, "consume": self.consume, "cycle": self.cycle}
        kinds = [k for k, _ in MIX]
        weights = [w for _, w in MIX]
        try:
            while time.monotonic() < deadline:
                await operations[self.rng.choices(kinds, weights)[0]]()
        finally:
            await self.conn.close()


async def drive(base: str, token: str, fixture: Fixture, clients: int, duration: float) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + duration
    await asyncio.gather(
        *(Client(i, base, token, fixture, tally).run(deadline) for i in range(clients))
    )
    return tally


def ledger_check(url: str) -> dict[str, int]:
    """Bins whose on-hand differs from the ledger sum or from its lots, negative lots, and
    the consume movements and cycles written (to compare with what was acknowledged)."""
    from sqlalchemy import func, select

    from inventory.models import StockLevel, StockLot, StockMovement
    from kernel.db import Database
    from sterilization.models import Cycle

    db = Database(url, pool_size=1)
    try:
        with db.session(write=False) as s:
            levels = {
                (i, loc): q
                for i, loc, q in s.execute(
                    select(StockLevel.item_id, StockLevel.location_id, StockLevel.on_hand)
                )
            }
            ledger = {
                (i, loc): int(q)
                for i, loc, q in s.execute(
                    select(
                        StockMovement.item_id,
                        StockMovement.location_id,
                        func.sum(StockMovement.quantity),
                    ).group_by(StockMovement.item_id, StockMovement.location_id)
                )
            }
            lots = {
                (i, loc): int(q)
                for i, loc, q in s.execute(
                    select(
                        StockLot.item_id, StockLot.location_id, func.sum(StockLot.quantity)
                    ).group_by(StockLot.item_id, StockLot.location_id)
                )
            }
            negative = s.scalar(select(func.count()).where(StockLot.quantity < 0)) or 0
            consumes = s.scalar(
                select(func.count()).where(StockMovement.kind == "consume")
            )  # fmt: skip
            cycles = s.scalar(select(func.count()).select_from(Cycle)) or 0
    finally:
        db.dispose()
    keys = set(levels) | set(ledger) | set(lots)
    mismatched = sum(
        1 for k in keys if not (levels.get(k, 0) == ledger.get(k, 0) == lots.get(k, 0))
    )
    return {
        "bins": len(keys),
        "mismatched_bins": mismatched,
        "negative_lots": int(negative),
        "consume_movements": int(consumes or 0),
        "cycles": int(cycles),
    }


@dataclass
class SoakResult:
    backend: str
    clients: int
    seconds: float
    requests: int
    errors: int
    first_errors: list[str]
    latency: dict[str, dict[str, float]]  # kind -> count, p50, p95, p99, max
    throughput: float
    client_cpu_percent: float
    server_cpu_percent: float
    chain_ok: bool
    chain_entries: int
    ledger: dict[str, int]
    acknowledged: dict[str, int]

    @property
    def consistent(self) -> bool:
        return (
            self.chain_ok
            and self.ledger["mismatched_bins"] == 0
            and self.ledger["negative_lots"] == 0
            and self.ledger["consume_movements"] == self.acknowledged.get("consume", 0)
            and self.ledger["cycles"] == self.acknowledged.get("cycle: start", 0) + 1
        )

    def lines(self) -> list[str]:
        out = [
            f"{self.backend}: {self.clients} clients, {self.seconds:.0f} s: {self.requests:,} "
            f"requests, {self.throughput:,.1f} req/s, errors {self.errors}; client CPU "
            f"{self.client_cpu_percent:.0f}% of a core, server {self.server_cpu_percent:.0f}%",
        ]
        for kind, s in self.latency.items():
            out.append(
                f"  {kind}: {int(s['count']):,}, p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, "
                f"p99 {s['p99']:.1f} ms, max {s['max']:.1f} ms"
            )
        out.append(
            f"  audit chain {'verifies' if self.chain_ok else 'BROKEN'} "
            f"({self.chain_entries:,} entries); {self.ledger['bins']} bins, "
            f"{self.ledger['mismatched_bins']} with on-hand != ledger, "
            f"{self.ledger['negative_lots']} negative lots; consumes acknowledged "
            f"{self.acknowledged.get('consume', 0):,} = in the ledger "
            f"{self.ledger['consume_movements']:,}; cycles started "
            f"{self.acknowledged.get('cycle: start', 0):,} (+1 made before) = in the log "
            f"{self.ledger['cycles']:,}"
        )
        out += [f"  error: {e}" for e in self.first_errors[:SHOWN_ERRORS]]
        return out


def summarize(latencies: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    stats = {}
    everything: list[float] = []
    for kind, values in latencies.items():
        if kind != "cycle write (3 requests)":
            everything += values
    for kind, values in [*sorted(latencies.items()), ("all requests", everything)]:
        values = sorted(values)
        stats[kind] = {
            "count": len(values),
            "p50": benchkit.percentile(values, 50),
            "p95": benchkit.percentile(values, 95),
            "p99": benchkit.percentile(values, 99),
            "max": values[-1] if values else 0.0,
        }
    return stats


def soak(backend: str, url: str, *, duration: float, clients: int, workers: int = 1) -> SoakResult:
    """Prepare a fresh database, serve it, drive the mixed load, check the result."""
    if url.startswith("sqlite:///"):
        benchkit.remove_sqlite(url)
    else:
        benchkit.reset_postgres(url)
    fixture = prepare(url, CycleTimeline(duration=duration, clients=clients))
    env = {"STERISTOCK_PUBLIC_URL": PUBLIC_URL}
    with benchkit.serve(url, workers=workers, extra_env=env) as base:
        ma = benchkit.login(base, "soak-ma", benchkit.BENCH_PASSWORD)
        admin = benchkit.login(base, "soak-admin", benchkit.BENCH_PASSWORD)
        token = ma["Authorization"].removeprefix("Bearer ")
        pids = benchkit.server_process_tree(base)
        cpu_client = resource.getrusage(resource.RUSAGE_SELF)
        cpu_server = benchkit.process_cpu_seconds(pids)
        started = time.monotonic()
        tally = asyncio.run(drive(base, token, fixture, clients, duration))
        seconds = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = after.ru_utime + after.ru_stime - cpu_client.ru_utime - cpu_client.ru_stime
        server_cpu = benchkit.process_cpu_seconds(pids) - cpu_server
        import urllib.request

        request = urllib.request.Request(base + "/api/v1/audit/verify", headers=admin)  # noqa: S310
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            chain = json.load(response)
    latency = summarize(tally.latencies)
    requests = int(latency["all requests"]["count"]) + tally.connection_errors
    return SoakResult(
        backend=backend,
        clients=clients,
        seconds=seconds,
        requests=requests,
        errors=tally.error_count,
        first_errors=tally.errors[:SHOWN_ERRORS],
        latency=latency,
        throughput=latency["all requests"]["count"] / seconds,
        client_cpu_percent=100 * client_cpu / seconds,
        server_cpu_percent=100 * server_cpu / seconds,
        chain_ok=bool(chain["ok"]),
        chain_entries=int(chain["entries"]),
        ledger=ledger_check(url),
        acknowledged=dict(tally.ok),
    )


def figures(result: SoakResult) -> list[benchkit.Figure]:
    b = result.backend
    out = [
        benchkit.Figure(
            f"requests in {result.seconds:.0f} s, {result.clients} clients", b,
            result.requests, "",
            note=", ".join(f"{k} {int(v['count']):,}" for k, v in result.latency.items()
                           if k != "all requests"),
        ),
        benchkit.Figure("throughput", b, round(result.throughput, 1), "req/s"),
        benchkit.Figure(
            "errors (non-2xx + connection errors)", b, result.errors, "", target=0,
            comparison="==",
            note="; ".join(result.first_errors[:3]) if result.first_errors else "none",
        ),
    ]  # fmt: skip
    for kind, s in result.latency.items():
        out.append(
            benchkit.Figure(
                f"p99 latency: {kind}", b, round(s["p99"], 1), "ms",
                note=f"p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms, max {s['max']:.0f} ms, "
                f"{int(s['count']):,} requests",
            )
        )  # fmt: skip
    out += [
        benchkit.Figure(
            "audit chain verifies afterwards (1 = yes)", b, int(result.chain_ok), "",
            target=1, comparison="==", note=f"{result.chain_entries:,} entries",
        ),
        benchkit.Figure(
            "bins where on-hand ≠ ledger sum or lots", b, result.ledger["mismatched_bins"], "",
            target=0, comparison="==",
            note=f"{result.ledger['bins']} bins, {result.ledger['negative_lots']} negative lots",
        ),
        benchkit.Figure(
            "acknowledged writes missing or doubled", b,
            abs(result.ledger["consume_movements"] - result.acknowledged.get("consume", 0))
            + abs(result.ledger["cycles"] - 1 - result.acknowledged.get("cycle: start", 0)),
            "", target=0, comparison="==",
            note=f"consumes acknowledged {result.acknowledged.get('consume', 0):,} / in the "
            f"ledger {result.ledger['consume_movements']:,}; cycles started "
            f"{result.acknowledged.get('cycle: start', 0):,} / in the log "
            f"{result.ledger['cycles'] - 1:,}",
        ),
        benchkit.Figure(
            "load generator CPU", b, round(result.client_cpu_percent), "% of a core",
            note=f"server {result.server_cpu_percent:.0f}% (of 2 cores = 200%)",
        ),
    ]  # fmt: skip
    return out


def run(ctx: benchkit.BenchContext) -> benchkit.ScenarioResult:
    duration = int(ctx.option("soak_duration", 300))
    clients = int(ctx.option("soak_clients", 16))
    out: list[benchkit.Figure] = []
    for backend, url in ctx.urls("soak"):
        result = soak(backend, url, duration=duration, clients=clients)
        print("\n".join(result.lines()), flush=True)
        out += figures(result)
    return benchkit.ScenarioResult(
        dataset=(
            f"{ITEMS} items \u00d7 {len(LOCATIONS)} locations with {RECEIVED:,} units each, "
            f"{len(CycleTimeline(duration=duration, clients=clients).codes)} sterilizers "
            f"(cycles logged back-to-back over the past week), {SCAN_PACKS} packs to scan; "
            f"{clients} clients for "
            f"{duration} s per backend: 70% scans, 20% consumes, 10% cycle writes"
        ),
        figures=out,
        notes=[
            "Latency is measured by the load generator per HTTP request (a cycle write is "
            "three requests; its whole time is listed separately and left out of "
            "'all requests'). Requests include those that failed.",
        ],
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "STERISTOCK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
        ),
        help="base URL: the soak uses (and recreates) the database <name>_soak",
    )
    args = parser.parse_args(argv)
    ctx = benchkit.BenchContext(
        backends={"sqlite": ("SQLite",), "postgres": ("PostgreSQL",)}.get(
            args.backend, ("SQLite", "PostgreSQL")
        ),
        postgres_url=args.postgres_url,
        work_dir=Path(tempfile.mkdtemp(prefix="steristock-soak-")),
    )
    failed = False
    for backend, url in ctx.urls("soak"):
        result = soak(
            backend, url, duration=args.duration, clients=args.clients, workers=args.workers
        )
        print("\n".join(result.lines()), flush=True)
        failed |= result.errors > 0 or not result.consistent
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
