"""Demo data: the clinic's equipment record over the last five weeks.

Everything goes through the rule functions the API uses, with the time set back, so the
record is one the rules could have produced: an ultrasonic cleaner with weekly foil tests
(one week missed), a washer-disinfector, a TEE probe disinfected with OPA between patients
(one run failed its MEC strip and was repeated), and maintenance of the ultrasonic and the
autoclaves, every service on time. With the lapsed HLD competency of the demo MA (the
demo users' training record), the auditor's report finds exactly: the missed foil test,
the failed HLD run, and the HLD runs since the competency lapsed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from equipment import hld, hld_use, maintenance, registry, testing
from kernel.clock import Clock
from kernel.devices import resolve_device
from kernel.settings import get_settings

MA = "ma"
ADMIN = "admin"
DAYS = 35
OPA = {
    "disinfectant": "OPA (Cidex OPA)",
    "mec_result": "pass",
    "soak_minutes": 12.0,
    "temperature_c": 22.0,
    "min_soak_minutes": 12.0,
    "min_temperature_c": 20.0,
}


def load_demo_data(session: Session, *, actor: str) -> None:
    """The ultrasonic, the washer, the TEE probe, their tests, runs and maintenance."""
    clock = Clock.from_settings(get_settings())
    zone = clock.zone
    today = clock.today()
    first = today - dt.timedelta(days=DAYS)

    def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return zone.instant(day, dt.time(hour, minute))

    start = at(first, 7)
    ultrasonic = registry.create_equipment(
        session, code="US-1", kind="ultrasonic", name="Ultrasonic cleaner",
        manufacturer="L&R", model="Quantrex 140", serial_number="QX140-2291",
        test_frequency="weekly", actor=ADMIN, now=start,
    )  # fmt: skip
    registry.create_equipment(
        session, code="WD-1", kind="washer_disinfector", name="Washer-disinfector",
        manufacturer="Miele", model="PG 8582", serial_number="MI-8582-104", actor=ADMIN,
        now=start,
    )  # fmt: skip
    probe = hld.create_device(
        session, code="TEE-1", name="TEE probe", kind="probe", manufacturer="Philips",
        serial_number="X7-2T-5531", actor=ADMIN, now=start,
    )  # fmt: skip

    # Foil tests on Monday mornings (and on the day it was installed); the week two weeks
    # back was missed.
    missed_week = zone.iso_week(today - dt.timedelta(days=14))
    day = first
    while day <= today:
        if (day.weekday() == 0 or day == first) and zone.iso_week(day) != missed_week:
            when = at(day, 7, 30)
            testing.record_test(
                session, ultrasonic.code, kind="foil", result="pass", actor=MA, now=when,
                zone=zone,
            )  # fmt: skip
        if day.weekday() < 5 and day < today:
            testing.record_run(
                session, ultrasonic.code, result="pass", program="Instruments 10 min",
                actor=MA, now=at(day, 11, 15),
            )  # fmt: skip
        day += dt.timedelta(days=1)

    # The TEE probe: used on a patient, disinfected, every few days; a bottle of OPA lasts
    # 14 days once opened. The MEC strip of the 8th run failed: a fresh bottle, run again.
    bottles_from = first - dt.timedelta(days=2)
    encounter = 20_500
    day = first + dt.timedelta(days=1)
    number = 0
    while day < today:
        bottle = (day - bottles_from).days // 14
        opened = bottles_from + dt.timedelta(days=14 * bottle)
        solution = {"solution_lot": f"OPA-{2231 + bottle}", "solution_opened_on": opened,
                    "solution_expires_on": opened + dt.timedelta(days=14)}  # fmt: skip
        number += 1
        mec = "fail" if number == 8 else "pass"
        run = hld.record_run(
            session, probe.code, **{**OPA, **solution, "mec_result": mec},
            encounter_ref=f"ENC-{encounter}" if number > 1 else None,
            actor=MA, zone=zone, now=at(day, 8, 0),
        )  # fmt: skip
        if run.result == "fail":
            fresh = {"solution_lot": f"OPA-{2231 + bottle}B", "solution_opened_on": day,
                     "solution_expires_on": day + dt.timedelta(days=14)}  # fmt: skip
            hld.record_run(
                session, probe.code, **{**OPA, **fresh}, actor=MA, zone=zone,
                now=at(day, 8, 40),
            )  # fmt: skip
        encounter += 1
        hld_use.use_device(
            session, probe.code, encounter_ref=f"ENC-{encounter}", actor=MA, zone=zone,
            now=at(day, 10, 30),
        )  # fmt: skip
        day += dt.timedelta(days=3)

    # Maintenance, every service on time; the next ones are due months ahead.
    services = [
        ("US-1", "preventive", "L&R service", 60, 120, "Transducers checked, tank degassed"),
        ("WD-1", "validation", "Miele Professional", 45, 320, "Annual thermal validation"),
        ("AC-A", "preventive", "Tuttnauer service", 90, 90, "Door gasket and filters replaced"),
        ("AC-B", "inspection", "Clinic biomed", 20, 160, "Chamber and drain inspected"),
    ]
    for code, kind, by, ago, due_in, notes in services:
        if resolve_device(session, code) is None:  # a sterilizer the demo did not add
            continue
        done = today - dt.timedelta(days=ago)
        maintenance.record_maintenance(
            session, device=code, kind=kind, performed_by=by, performed_on=done, notes=notes,
            next_due_on=today + dt.timedelta(days=due_in), actor=MA, now=at(done, 15),
            today=done,
        )  # fmt: skip
