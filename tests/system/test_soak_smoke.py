"""The sustained mixed-load soak (`scripts/soak.py`, `make soak`) works: a few seconds with
a few clients against the real server (Granian subprocess) answer every request with 2xx,
and afterwards the audit chain verifies, on-hand equals the ledger, and every acknowledged
consume and cycle is recorded exactly once. The five-minute soak itself is `make soak`."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import benchkit
import soak

from tests.conftest import POSTGRES_URL
from tests.live_server import free_port


def soak_database_url(backend: str, tmp_path: Path) -> str:
    """SQLite in the test's directory; on PostgreSQL a database of its own next to the
    test database (the soak recreates its schema, so never the shared one)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'soak.db'}"
    base = make_url(POSTGRES_URL)
    url = base.set(database=f"{base.database}_soak").render_as_string(hide_password=False)
    benchkit.ensure_postgres_database(url)
    return url


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_short_soak_answers_every_request_and_leaves_consistent_records(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(benchkit, "free_port", free_port)  # this xdist worker's ports
    url = soak_database_url(backend, tmp_path)
    result = soak.soak(backend, url, duration=5, clients=3)
    print("\n".join(result.lines()))
    assert result.errors == 0, result.first_errors
    assert result.requests > 0
    for kind in ("scan", "consume", "cycle: start", "cycle: complete"):
        assert result.acknowledged.get(kind, 0) > 0, kind
    assert result.chain_ok
    assert result.ledger["mismatched_bins"] == 0
    assert result.ledger["negative_lots"] == 0
    assert result.ledger["consume_movements"] == result.acknowledged["consume"]
    assert result.ledger["cycles"] == result.acknowledged["cycle: start"] + 1
    assert result.consistent


def test_the_cycle_timeline_fits_the_run_within_the_back_dating_limit() -> None:
    """Every cycle the soak logs starts at most a week back (counted from the end of the
    run), ends before the soak began, and follows its sterilizer's previous one."""
    now = dt.datetime(2026, 12, 4, 9, 30, 17, tzinfo=dt.UTC)
    duration = 300
    timeline = soak.CycleTimeline(duration=duration, clients=16, now=now)
    assert len(timeline.codes) >= 16
    run_end = now + dt.timedelta(seconds=duration)
    slots = []
    for code in timeline.codes[:2]:
        previous_end = None
        while True:
            try:
                started_at, ended_at = timeline.take(code)
            except RuntimeError:
                break
            assert started_at >= run_end - soak.MAX_BACKDATE
            assert ended_at <= now
            assert ended_at - started_at >= dt.timedelta(minutes=soak.READINGS["exposure_minutes"])
            assert previous_end is None or started_at >= previous_end
            previous_end = ended_at
            slots.append(code)
    per_sterilizer = len(slots) // 2
    assert per_sterilizer * len(timeline.codes) >= duration * soak.MAX_CYCLES_PER_SECOND
