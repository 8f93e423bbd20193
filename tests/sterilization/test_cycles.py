"""Cycles: starting loads, minimums per cycle type, Bowie-Dick and leak tests, amendments,
immutability and sequential numbers (also under concurrent starts)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from kernel.auth.models import Role
from kernel.clock import Clock, FixedClock
from kernel.db import utcnow
from kernel.problems import Conflict
from sterilization import cycles, packs
from sterilization.models import Cycle, CycleLoad, Pack, Sterilizer
from tests.sterilization_factories import let_time_pass


def test_cycle_numbers_are_sequential_per_sterilizer(steri):
    a = steri.sterilizer()
    b = steri.sterilizer()
    numbers_a = [steri.run(a["code"])["number"] for _ in range(3)]
    numbers_b = [steri.run(b["code"])["number"] for _ in range(2)]
    assert numbers_a == [1, 2, 3]
    assert numbers_b == [1, 2]


def test_only_one_cycle_runs_at_a_time_even_when_tablets_start_together(database, steri, settings):
    """Ten tablets start a cycle on one sterilizer at the same instant: one runs, the
    others are refused naming it, and the numbers stay sequential."""
    ster = steri.sterilizer()
    clock = Clock.from_settings(settings)
    threads = 10
    barrier = threading.Barrier(threads)

    def start_one(i: int) -> int | dict:
        barrier.wait()
        try:
            with database.session() as session:
                cycle, _ = cycles.start_cycle(
                    session,
                    sterilizer_code=ster["code"],
                    cycle_type="gravity_121_30",
                    pack_codes=[],
                    bi_lot=None,
                    implants=None,
                    actor=f"tablet{i}",
                    zone=clock.zone,
                    now=clock.now(),
                )
                return cycle.number
        except Conflict as refused:
            return refused.extra["running_cycle"]

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(start_one, range(threads)))
    assert sorted(r for r in results if isinstance(r, int)) == [1]
    refusals = [r for r in results if isinstance(r, dict)]
    assert len(refusals) == threads - 1 and all(r["number"] == 1 for r in refusals)
    with database.session(write=False) as session:
        assert session.scalars(select(Cycle.number)).all() == [1]
        assert session.scalar(select(Sterilizer.last_cycle_number)) == 1


def test_pack_codes_stay_unique_under_concurrent_creation(database):
    threads = 8
    barrier = threading.Barrier(threads)

    def create(i: int) -> list[str]:
        barrier.wait()
        with database.session() as session:
            return packs.create_packs(
                session,
                description="Kit",
                contents=[],
                quantity=5,
                implant=False,
                actor="t",
                now=utcnow(),
            )

    with ThreadPoolExecutor(threads) as pool:
        codes = [c for chunk in pool.map(create, range(threads)) for c in chunk]
    assert sorted(codes) == [packs.format_code(n) for n in range(1, threads * 5 + 1)]


def test_a_cycle_keeps_its_load_list_in_pack_order_from_the_moment_it_starts(steri, database):
    """What went into the load, as the log lists it: the packs' codes and descriptions in
    the order the packs were made (not the order they were scanned), written with the
    cycle, append-only like it."""
    ster = steri.sterilizer()
    kits = steri.packs(2, description="Suture kit")
    [tray] = steri.packs(1, description="Dental tray")
    cycle = steri.start(ster["code"], [tray, kits[1], kits[0].lower()])
    empty = steri.run(steri.sterilizer()["code"], [])
    with database.session(write=False) as session:
        load = session.get(CycleLoad, cycle["id"])
        loaded = session.scalars(
            select(Pack.code).where(Pack.cycle_id == cycle["id"]).order_by(Pack.id)
        ).all()
        nothing = session.get(CycleLoad, empty["id"])
    assert load is not None and nothing is not None
    assert load.pack_count == 3
    assert load.pack_codes.split(" ") == list(loaded) == [*kits, tray]
    assert load.pack_descriptions == "Suture kit; Suture kit; Dental tray"
    assert (nothing.pack_count, nothing.pack_codes, nothing.pack_descriptions) == (0, "", "")
    for statement in (
        f"UPDATE cycle_loads SET pack_codes = '' WHERE cycle_id = {cycle['id']}",
        f"DELETE FROM cycle_loads WHERE cycle_id = {cycle['id']}",
    ):
        with pytest.raises(Exception, match="evidence"), database.engine.begin() as conn:
            conn.execute(text(statement))


def test_an_out_of_service_sterilizer_refuses_new_cycles_and_writes_nothing(steri, client):
    ster = steri.sterilizer()
    response = client.patch(
        f"/api/v1/sterilizers/{ster['code']}",
        json={"status": "out_of_service", "reason": "door gasket leaking"},
        headers=steri.admin,
    )
    assert response.status_code == 200, response.text
    [code] = steri.packs()
    refused = steri.start(ster["code"], [code], expect=409)
    assert "out of service" in refused["detail"]
    assert "door gasket leaking" in refused["detail"]
    assert steri.pack(code)["status"] == "assembled"
    assert client.get("/api/v1/cycles", headers=steri.ma).json()["total"] == 0
    again = client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma).json()
    assert again["last_cycle_number"] == 0


def test_only_assembled_packs_can_be_loaded(steri, client):
    ster = steri.sterilizer()
    [done, fresh] = steri.packs(2)
    steri.run(ster["code"], [done])
    refused = steri.start(ster["code"], [fresh, done], expect=409)
    assert f"{done} is sterile" in refused["detail"]
    assert steri.pack(fresh)["status"] == "assembled"
    assert client.get("/api/v1/cycles", headers=steri.ma).json()["total"] == 1


BAD_STARTS = [
    {"sterilizer": "NOPE", "cycle_type": "gravity_121_30"},
    {"sterilizer": "{s}", "cycle_type": "boil_100_5"},
    {"sterilizer": "{s}", "cycle_type": "prevac_132_4"},  # a gravity sterilizer
    {"sterilizer": "{s}", "cycle_type": "gravity_121_30", "packs": ["PK-999999"]},
    {"sterilizer": "{s}", "cycle_type": "gravity_121_30", "packs": ["{p}", "{p}"]},
    {"sterilizer": "{s}", "cycle_type": "gravity_121_30", "extra": 1},
    {"cycle_type": "gravity_121_30"},
]


def test_bad_cycle_start_is_refused_and_writes_nothing(steri, client):
    ster = steri.sterilizer("steam_gravity")
    [code] = steri.packs()
    for body in BAD_STARTS:
        filled = {
            k: (v.replace("{s}", ster["code"]) if isinstance(v, str) else v)
            for k, v in body.items()
        }
        if "packs" in filled:
            filled["packs"] = [p.replace("{p}", code) for p in filled["packs"]]
        response = client.post("/api/v1/cycles", json=filled, headers=steri.ma)
        assert response.status_code in (400, 422), (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/cycles", headers=steri.ma).json()["total"] == 0
    assert steri.pack(code)["status"] == "assembled"


@pytest.mark.parametrize(
    ("cycle_type", "kind", "temperature", "exposure"),
    [
        ("prevac_132_4", "steam_prevac", 132, 4),
        ("prevac_134_3", "steam_prevac", 134, 3),
        ("gravity_121_30", "steam_gravity", 121, 30),
        ("gravity_132_15", "steam_gravity", 132, 15),
        ("flash_132_3", "steam_gravity", 132, 3),
    ],
)
def test_cycle_passes_only_at_or_above_its_types_minimum_temperature_and_exposure(
    steri, cycle_type, kind, temperature, exposure
):
    ster = steri.sterilizer(kind)
    at_minimum = steri.start(ster["code"], cycle_type=cycle_type)
    assert (
        steri.complete(at_minimum, temperature_c=temperature, exposure_minutes=exposure)["status"]
        == "passed"
    )
    too_cold = steri.start(ster["code"], cycle_type=cycle_type)
    assert (
        steri.complete(too_cold, temperature_c=temperature - 0.5, exposure_minutes=exposure)[
            "status"
        ]
        == "failed"
    )
    too_short = steri.start(ster["code"], cycle_type=cycle_type)
    result = steri.complete(too_short, temperature_c=temperature, exposure_minutes=exposure - 0.5)
    assert result["status"] == "failed"
    assert "exposure" in result["parameters"]["failure_reasons"][0]


@pytest.mark.parametrize("check", ["mechanical_ok", "chemical_ok"])
def test_any_failed_check_fails_the_cycle_and_its_packs(steri, check):
    ster = steri.sterilizer()
    codes = steri.packs(2)
    cycle = steri.start(ster["code"], codes)
    result = steri.complete(cycle, **{check: False})
    assert result["status"] == "failed"
    assert {p["status"] for p in result["packs"]} == {"failed"}


def test_prevac_sterilizer_without_todays_bowie_dick_gets_a_warning_not_a_refusal(steri):
    ster = steri.sterilizer("steam_prevac", name="Autoclave A")
    first = steri.start(ster["code"], cycle_type="prevac_132_4")
    assert first["status"] == "running"
    assert any("No passed Bowie-Dick test today on Autoclave A" in w for w in first["warnings"])
    steri.complete(first)
    test = steri.run(ster["code"], cycle_type="bowie_dick")
    assert test["status"] == "passed"
    second = steri.start(ster["code"], cycle_type="prevac_132_4", bi_lot="LOT-1")
    assert second["warnings"] == []
    gravity = steri.sterilizer("steam_gravity")
    assert not any("Bowie-Dick" in w for w in steri.start(gravity["code"])["warnings"])


def test_a_failed_bowie_dick_takes_the_sterilizer_out_of_service(steri, client):
    ster = steri.sterilizer("steam_prevac")
    test = steri.start(ster["code"], cycle_type="bowie_dick")
    result = steri.complete(test, chemical_ok=False)
    assert result["status"] == "failed"
    sterilizer = client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma).json()
    assert sterilizer["status"] == "out_of_service"
    assert "Bowie-Dick test failed on cycle 1" in sterilizer["status_reason"]
    assert sterilizer["last_bowie_dick_at"] is None
    steri.start(ster["code"], cycle_type="prevac_132_4", expect=409)


def test_a_failed_leak_test_takes_the_sterilizer_out_of_service(steri, client):
    ster = steri.sterilizer("steam_prevac")
    test = steri.start(ster["code"], cycle_type="leak_test")
    result = steri.complete(test, mechanical_ok=False)
    assert result["status"] == "failed"
    assert result["parameters"]["failure_reasons"] == ["leak test failed"]
    sterilizer = client.get(f"/api/v1/sterilizers/{ster['code']}", headers=steri.ma).json()
    assert sterilizer["status"] == "out_of_service"


def test_test_cycles_refuse_packs(steri):
    ster = steri.sterilizer("steam_prevac")
    [code] = steri.packs()
    steri.start(ster["code"], [code], cycle_type="bowie_dick", expect=422)
    assert steri.pack(code)["status"] == "assembled"


def test_a_completed_cycle_cannot_be_edited_only_amended(steri, client):
    ster = steri.sterilizer()
    cycle = steri.start(ster["code"])
    original = steri.complete(cycle, temperature_c=122.0)
    again = steri.complete(cycle, expect=409, temperature_c=135.0)
    assert "amendment" in again["detail"]

    response = client.post(
        f"/api/v1/cycles/{cycle['id']}/amendments",
        json={"field": "temperature_c", "value": 122.4, "reason": "misread the chart"},
        headers=steri.ma,
    )
    assert response.status_code == 201, response.text
    detail = client.get(
        f"/api/v1/cycles/{cycle['id']}", headers=steri.users.headers(Role.AUDITOR)
    ).json()
    assert detail["parameters"]["temperature_c"] == 122.0  # the original stays
    assert detail["amendments"][0]["original"] == 122.0
    assert detail["amendments"][0]["value"] == 122.4
    assert detail["amendments"][0]["reason"] == "misread the chart"
    assert detail["amended_values"] == {"temperature_c": 122.4}
    assert detail["status"] == original["status"]
    assert client.delete(f"/api/v1/cycles/{cycle['id']}", headers=steri.admin).status_code == 405
    assert client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"field": "status", "value": "passed", "reason": "want it passed"},
        {"field": "temperature_c", "value": "hot", "reason": "typo"},
        {"field": "mechanical_ok", "value": 1, "reason": "typo"},
        {"field": "notes", "value": "x", "reason": ""},
    ],
)
def test_bad_amendments_are_refused_and_write_nothing(steri, client, body):
    ster = steri.sterilizer()
    cycle = steri.run(ster["code"])
    response = client.post(f"/api/v1/cycles/{cycle['id']}/amendments", json=body, headers=steri.ma)
    assert response.status_code in (400, 422), response.text
    assert client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma).json()["amendments"] == []


def test_a_running_cycle_cannot_be_amended(steri, client):
    ster = steri.sterilizer()
    cycle = steri.start(ster["code"])
    response = client.post(
        f"/api/v1/cycles/{cycle['id']}/amendments",
        json={"field": "notes", "value": "x", "reason": "note"},
        headers=steri.ma,
    )
    assert response.status_code == 409


def test_cycle_detail_shows_packs_parameters_and_operator(steri, client):
    ster = steri.sterilizer()
    codes = steri.packs(2)
    cycle = steri.start(ster["code"], codes, bi_lot="LOT-9")
    steri.complete(cycle, notes="full load")
    detail = client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma).json()
    assert [p["code"] for p in detail["packs"]] == codes
    assert detail["operator"].startswith("ma")
    assert detail["bi_lot"] == "LOT-9"
    assert detail["parameters"]["notes"] == "full load"
    assert detail["parameters"]["pressure_kpa"] == 205.0
    assert detail["bi"] is None


def test_cycle_log_filters_by_sterilizer_status_and_dates(steri, client):
    # Mid-morning: the loads below advance the clock by hours, and "today" must not pass
    # the clinic's midnight in between (this failed every evening, Chicago time).
    morning = dt.datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
    client.app.state.clock = FixedClock(ZoneInfo("America/Chicago"), morning)
    a = steri.sterilizer()
    b = steri.sterilizer()
    steri.run(a["code"])
    failed = steri.start(a["code"])
    steri.complete(failed, mechanical_ok=False)
    steri.run(b["code"])
    get = lambda q: client.get(f"/api/v1/cycles?{q}", headers=steri.ma)  # noqa: E731
    assert get(f"sterilizer={a['code']}").json()["total"] == 2
    assert get("status=failed").json()["total"] == 1
    today = client.app.state.clock.today()
    assert get(f"from={today}&to={today}").json()["total"] == 3
    assert get("from=2000-01-01&to=2000-01-02").json()["total"] == 0
    assert get("from=yesterday").status_code == 422
    assert get("status=done").status_code in (400, 422)


def test_cycle_log_dates_are_whole_clinic_days_and_date_times_need_an_offset(steri, client):
    """SPEC: a date-only `from`/`to` means whole days in the clinic's zone, `to` included;
    times are ISO 8601 with offset (a bare wall-clock time is ambiguous, so refused)."""
    chicago = ZoneInfo("America/Chicago")  # the `settings` fixture's zone
    late = dt.datetime(2026, 11, 27, 23, 30, tzinfo=chicago)  # 05:30 UTC on the 28th
    client.app.state.clock = FixedClock(chicago, late)
    cycle = steri.run(steri.sterilizer()["code"])
    get = lambda **q: client.get("/api/v1/cycles", params=q, headers=steri.ma)  # noqa: E731
    assert get(to="2026-11-27").json()["total"] == 1  # the clinic's day, not UTC's
    assert get(**{"from": "2026-11-28"}).json()["total"] == 0
    started = cycle["started_at"]
    assert get(to=started).json()["total"] == 1  # a date-time `to` includes that instant
    assert get(**{"from": "2026-11-27T23:31:00-06:00"}).json()["total"] == 0
    bare = get(**{"from": "2026-11-27T23:00:00"})
    assert bare.status_code == 422
    assert bare.json()["errors"][0] == {
        "field": "from",
        "message": "offset required",
        "source": "query",
    }


def test_the_api_takes_the_time_from_the_kernel_clock(steri, client):
    chicago = ZoneInfo("America/Chicago")
    client.app.state.clock = FixedClock(chicago, dt.datetime(2026, 3, 2, 9, 15, tzinfo=chicago))
    prevac = steri.sterilizer(kind="steam_prevac")
    steri.run(prevac["code"], cycle_type="bowie_dick")  # Monday 09:15 in the clinic
    client.app.state.clock = FixedClock(chicago, dt.datetime(2026, 3, 3, 9, 15, tzinfo=chicago))
    started = steri.start(prevac["code"], cycle_type="prevac_132_4")
    assert started["started_at"] == "2026-03-03T15:15:00Z"
    assert any("No passed Bowie-Dick test today" in w for w in started["warnings"])


def test_admin_configured_cycle_type_is_enforced_with_its_minimums(steri, client):
    body = {
        "code": "dry_heat_160_120",
        "name": "Dry heat 160 °C, 120 min",
        "min_temperature_c": 160,
        "min_exposure_minutes": 120,
        "sterilizer_kinds": ["dry_heat"],
    }
    assert client.post("/api/v1/cycle-types", json=body, headers=steri.ma).status_code == 403
    created = client.post("/api/v1/cycle-types", json=body, headers=steri.admin)
    assert created.status_code == 201, created.text
    assert client.post("/api/v1/cycle-types", json=body, headers=steri.admin).status_code == 409
    types = client.get("/api/v1/cycle-types", headers=steri.ma).json()["items"]
    assert {"prevac_132_4", "bowie_dick", "leak_test", "dry_heat_160_120"} <= {
        t["code"] for t in types
    }
    oven = steri.sterilizer("dry_heat")
    cool = steri.start(oven["code"], cycle_type="dry_heat_160_120")
    let_time_pass(client, 125)
    ok = steri.ok(
        client.post(
            f"/api/v1/cycles/{cool['id']}/complete",
            json={
                "mechanical_ok": True,
                "chemical_ok": True,
                "temperature_c": 150,
                "exposure_minutes": 120,
            },
            headers=steri.ma,
        )
    )
    assert ok["status"] == "failed"
    steam = steri.sterilizer("steam_gravity")
    steri.start(steam["code"], cycle_type="dry_heat_160_120", expect=422)


def test_completing_without_required_readings_is_422_and_keeps_the_cycle_running(steri, client):
    ster = steri.sterilizer()
    cycle = steri.start(ster["code"])
    response = client.post(
        f"/api/v1/cycles/{cycle['id']}/complete",
        json={"mechanical_ok": True, "chemical_ok": True},
        headers=steri.ma,
    )
    assert response.status_code == 422
    assert client.get(f"/api/v1/cycles/{cycle['id']}", headers=steri.ma).json()["status"] == (
        "running"
    )


def test_time_related_shelf_life_sets_expiry_at_release_and_expired_packs_are_not_usable(
    steri, client, database
):
    client.app.state.settings.pack_shelf_life_days = 30
    ster = steri.sterilizer()
    [code, other] = steri.packs(2)
    steri.run(ster["code"], [code, other])
    pack = steri.pack(code)
    expected = client.app.state.clock.today() + dt.timedelta(days=30)
    assert pack["expires_on"] == expected.isoformat()
    assert pack["usable"] is True
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE packs SET expires_on = :d WHERE code = :c"),
            {"d": dt.date(2026, 10, 1), "c": code},
        )
    expired = steri.pack(code)
    assert expired["usable"] is False
    assert expired["reasons"] == ["expired 2026-10-01"]
    refused = steri.use(code)
    assert refused.status_code == 409
    assert refused.json()["reasons"] == ["expired 2026-10-01"]
    assert steri.pack(code)["status"] == "sterile"
