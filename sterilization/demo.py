"""Demo data: two sterilizers and thirty days of a small clinic's sterilization record.

Everything goes through the same rule functions the API uses (with the clock set back),
so the demo record is one the rules could have produced: daily Bowie-Dick tests on the
pre-vacuum sterilizer, weekly spore tests, implant loads held for their BI, a failed
cycle, packs used on encounters, and a positive spore test whose recall was confirmed.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime, Clock
from kernel.settings import get_settings
from sterilization import (
    bi_products,
    cycles,
    early_release,
    indicators,
    packs,
    recalls,
    sterilizers,
)
from sterilization.models import Recall
from sterilization.sets.demo import load_set_catalogue, wrap_free_trays
from sterilization.shelf_life import ShelfLife

MA = "ma"
ADMIN = "admin"
DAYS = 30

KITS = [
    ("Basic exam kit", [("Mouth mirror", 1), ("Explorer", 1), ("Cotton pliers", 1)]),
    ("Suture removal kit", [("Iris scissors", 1), ("Adson forceps", 1)]),
    ("Laceration repair kit", [("Needle holder", 1), ("Adson forceps", 1), ("Scissors", 1)]),
    ("Scaling kit", [("Sickle scaler", 2), ("Gracey curette", 2), ("Mirror", 1)]),
    ("Extraction kit", [("Elevator", 2), ("Forceps #150", 1), ("Forceps #151", 1)]),
    ("Biopsy punch kit", [("Punch 4 mm", 1), ("Forceps", 1), ("Scissors", 1)]),
]
IMPLANT_KIT = ("Implant surgical kit", [("Implant driver", 1), ("Drill set", 1), ("Implant", 2)])

# The clinic's spore tests: a rapid-readout BI (3 hours), read the next working morning.
BI_PRODUCT = "ATTEST-1292"

GOOD = {
    "prevac_132_4": {"temperature_c": 132.8, "exposure_minutes": 4.0, "pressure_kpa": 203.0},
    "gravity_121_30": {"temperature_c": 121.6, "exposure_minutes": 30.0, "pressure_kpa": 108.0},
    "bowie_dick": {"temperature_c": 134.0, "exposure_minutes": 3.5, "pressure_kpa": 210.0},
    "bi_test": {"temperature_c": 132.4, "exposure_minutes": 15.0, "pressure_kpa": 200.0},
    "flash_132_3": {"temperature_c": 132.6, "exposure_minutes": 3.0, "pressure_kpa": 201.0},
}


def duration_minutes(data: dict[str, float | None]) -> float:
    """How long a cycle runs: heating up, exposure and drying (a Bowie-Dick test: 3.5 min
    exposure and a short dry, about 12 minutes; a load 30 to 60)."""
    return 8 + (data.get("exposure_minutes") or 0) + (data.get("dry_minutes") or 0)


class DemoClinic:
    def __init__(
        self, session: Session, zone: ClinicTime, shelf_life: ShelfLife, rng: random.Random
    ) -> None:
        self.session = session
        self.zone = zone
        self.shelf_life = shelf_life
        self.rng = rng
        self.encounter = 10_000

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return self.zone.instant(day, dt.time(hour, minute))

    def make_packs(self, count: int, when: dt.datetime, *, implant: bool = False) -> list[str]:
        codes: list[str] = []
        for _ in range(count):
            name, contents = IMPLANT_KIT if implant else self.rng.choice(KITS)
            codes += packs.create_packs(
                self.session,
                description=name,
                contents=[{"name": n, "quantity": q} for n, q in contents],
                quantity=1,
                implant=implant,
                actor=MA,
                now=when,
            )
        return codes

    def run(
        self,
        sterilizer: str,
        cycle_type: str,
        codes: list[str],
        start: dt.datetime,
        *,
        bi_lot: str | None = None,
        readings: dict[str, float | str | None] | None = None,
        complete: bool = True,
        iuss: dict[str, str] | None = None,
    ) -> int:
        cycle, _ = cycles.start_cycle(
            self.session,
            sterilizer_code=sterilizer,
            cycle_type=cycle_type,
            pack_codes=codes,
            bi_lot=bi_lot,
            bi_product=BI_PRODUCT if bi_lot else None,
            iuss=iuss,
            implants=None,
            actor=MA,
            zone=self.zone,
            now=start,
        )
        if complete:
            data = {
                "mechanical_ok": True,
                "chemical_ok": True,
                "dry_minutes": 20.0 if cycle_type != "bowie_dick" else None,
                "notes": None,
                **GOOD[cycle_type],
                **(readings or {}),
            }
            cycles.complete_cycle(
                self.session,
                cycle.id,
                data=data,
                actor=MA,
                zone=self.zone,
                shelf_life=self.shelf_life,
                now=start + dt.timedelta(minutes=duration_minutes(data)),
            )
        return cycle.id

    def bi(
        self, cycle_id: int, result: str, when: dt.datetime, *, control_grew: bool = True
    ) -> None:
        indicators.record_bi_result(
            self.session,
            cycle_id,
            result=result,
            control_grew=control_grew,
            lot=None,
            actor=MA,
            zone=self.zone,
            shelf_life=self.shelf_life,
            now=when,
        )

    def use_some(self, codes: list[str], when: dt.datetime, share: float) -> None:
        for code in codes:
            if self.rng.random() < share:
                self.encounter += 1
                packs.use_pack(
                    self.session,
                    code,
                    encounter_ref=f"ENC-{self.encounter}",
                    actor=MA,
                    zone=self.zone,
                    now=when + dt.timedelta(minutes=self.rng.randint(0, 240)),
                )


def load_demo_data(session: Session, *, actor: str) -> None:
    """Two sterilizers (pre-vacuum A, gravity B) and 30 days of cycles, BIs and packs."""
    settings = get_settings()
    clock = Clock.from_settings(settings)
    demo = DemoClinic(session, clock.zone, ShelfLife.from_settings(settings), random.Random(5))
    now = clock.now()
    today = clock.zone.local_date(now)
    first_day = today - dt.timedelta(days=DAYS)
    sterilizers.create_sterilizer(
        session, code="AC-A", name="Autoclave A", kind="steam_prevac", actor=ADMIN,
        manufacturer="Tuttnauer", model="Elara 11", serial_number="EL11-2410375",
        bi_frequency="weekly",
    )  # fmt: skip
    sterilizers.create_sterilizer(
        session, code="AC-B", name="Autoclave B", kind="steam_gravity", actor=ADMIN,
        manufacturer="Midmark", model="M11", serial_number="V6-219834", bi_frequency="weekly",
    )  # fmt: skip
    # The Tuesday about two weeks back: Monday's BI in Autoclave B reads positive.
    positive_day = next(
        d for d in (today - dt.timedelta(days=n) for n in range(9, 16)) if d.weekday() == 1
    )
    bi_products.create_bi_product(
        session, code=BI_PRODUCT, name="3M Attest 1292 Rapid Readout", manufacturer="3M",
        min_incubation_minutes=180, actor=ADMIN,
    )  # fmt: skip
    pending_bi: list[tuple[str, int]] = []
    failed_cycle_done = False
    # Two weeks back: a Monday BI whose control vial did not grow (an invalid test, kept
    # on record) and the repeat in that afternoon's load.
    invalid_day = next(
        d for d in (today - dt.timedelta(days=n) for n in range(14, 21)) if d.weekday() == 0
    )
    # Five to eleven days back: an emergency implant case, released early on a passed
    # integrator before its BI read negative the next morning.
    early_day = next(
        d for d in (today - dt.timedelta(days=n) for n in range(5, 12)) if d.weekday() == 2
    )
    trays = load_set_catalogue(session, actor=MA, now=demo.at(first_day, 7))

    for offset in range(DAYS):
        day = first_day + dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        if weekend:
            continue
        # Results of BIs incubated since the previous working day.
        for sterilizer, cycle_id in pending_bi:
            positive = sterilizer == "AC-B" and day == positive_day
            if sterilizer == "AC-A-INVALID":
                demo.bi(cycle_id, "negative", demo.at(day, 7, 50), control_grew=False)
                continue
            demo.bi(cycle_id, "positive" if positive else "negative", demo.at(day, 8))
        pending_bi = []
        if day == positive_day:
            _close_recall(session, demo, day)

        weekly_bi = day.weekday() == 0
        # Autoclave A: the morning Bowie-Dick test, then loads.
        demo.run("AC-A", "bowie_dick", [], demo.at(day, 7, 15))
        for hour in (9, 13):
            codes = demo.make_packs(demo.rng.randint(2, 4), demo.at(day, hour - 1, 30))
            codes += wrap_free_trays(
                session, trays, count=1, when=demo.at(day, hour - 1, 40), rng=demo.rng
            )
            lot = f"BI-{day:%y%m%d}-A" if weekly_bi and hour == 9 else None
            if day == invalid_day + dt.timedelta(days=1) and hour == 13:
                lot = f"BI-{day:%y%m%d}-A-REPEAT"  # the repeat of the invalid test
            cycle_id = demo.run("AC-A", "prevac_132_4", codes, demo.at(day, hour), bi_lot=lot)
            if lot:
                invalid = day == invalid_day and hour == 9
                pending_bi.append(("AC-A-INVALID" if invalid else "AC-A", cycle_id))
            demo.use_some(codes, demo.at(day, hour + 1), 0.5)
            if day == early_day and hour == 9:
                _early_release(demo, day)
        # Autoclave B: one gravity load, a BI in Monday's.
        codes = demo.make_packs(demo.rng.randint(2, 3), demo.at(day, 10, 30))
        lot = f"BI-{day:%y%m%d}-B" if weekly_bi else None
        b_start = demo.at(day, 15) if day == positive_day else demo.at(day, 11)
        if offset >= 12 and not failed_cycle_done and not lot:
            # A load that never reached temperature.
            demo.run("AC-B", "gravity_121_30", codes, b_start, readings={"temperature_c": 118.4})
            failed_cycle_done = True
        else:
            cycle_id = demo.run("AC-B", "gravity_121_30", codes, b_start, bi_lot=lot)
            if lot:
                pending_bi.append(("AC-B", cycle_id))
            demo.use_some(codes, demo.at(day, 13), 0.6)
        if day == early_day:
            # Immediate use: the only otoscope set dropped mid-visit, flashed for that patient.
            [dropped] = demo.make_packs(1, demo.at(day, 13, 40))
            demo.encounter += 1
            demo.run(
                "AC-B", "flash_132_3", [dropped], demo.at(day, 14),
                readings={"dry_minutes": None},
                iuss={"reason": "Only set dropped during the procedure; no sterile spare",
                      "encounter_ref": f"ENC-{demo.encounter}"},
            )  # fmt: skip

    if demo.at(today, 8) < now - dt.timedelta(hours=3):
        for _, cycle_id in pending_bi:
            demo.bi(cycle_id, "negative", demo.at(today, 8))
    _today(session, demo, today, now)


def _early_release(demo: DemoClinic, day: dt.date) -> None:
    """An implant load at 11:00 with a BI and a Class 5 integrator that passed, released
    early for an emergency case, one implant used at once; its BI reads negative the
    next morning."""
    implants = demo.make_packs(2, demo.at(day, 10, 30), implant=True)
    cycle_id = demo.run(
        "AC-A", "prevac_132_4", implants, demo.at(day, 11), bi_lot=f"BI-{day:%y%m%d}-IMPL",
        readings={"integrator": "pass"},
    )  # fmt: skip
    early_release.early_release(
        demo.session, cycle_id, reason="Emergency implant case; integrator passed",
        actor=ADMIN, zone=demo.zone, shelf_life=demo.shelf_life, now=demo.at(day, 11, 50),
    )  # fmt: skip
    demo.encounter += 1
    packs.use_pack(
        demo.session, implants[0], encounter_ref=f"ENC-{demo.encounter}", actor=MA,
        zone=demo.zone, now=demo.at(day, 12, 15),
    )  # fmt: skip
    demo.bi(cycle_id, "negative", demo.at(day + dt.timedelta(days=1), 7, 45))


def _close_recall(session: Session, demo: DemoClinic, day: dt.date) -> None:
    """After the positive BI on Autoclave B: confirm the recall, repair, back in service."""
    recall_id = session.scalar(select(Recall.id).where(Recall.status == "open"))
    if recall_id is None:
        return
    recalls.resolve_recall(
        session,
        recall_id,
        resolution="confirmed",
        reason="Door gasket found torn: the failure is real; recalled packs to be reprocessed.",
        actor=ADMIN,
        zone=demo.zone,
        shelf_life=demo.shelf_life,
        now=demo.at(day, 9),
    )
    # Requalification: three empty-chamber BI tests, each read negative, then back.
    tests = [
        demo.run(
            "AC-B",
            "bi_test",
            [],
            demo.at(day, 8, 10) + dt.timedelta(minutes=45 * n),
            bi_lot=f"REQ-{day:%y%m%d}-{n}",
        )
        for n in range(3)
    ]
    for n, cycle_id in enumerate(tests):
        demo.bi(cycle_id, "negative", demo.at(day, 12 + n, 0))
    sterilizers.change_status(
        session,
        "AC-B",
        status="in_service",
        reason="Door gasket replaced; three negative BI tests after the repair.",
        actor=ADMIN,
    )


def _today(session: Session, demo: DemoClinic, today: dt.date, now: dt.datetime) -> None:
    """Today's work in progress: a Bowie-Dick test, an implant load awaiting its BI, a
    load still running, a compromised pack and packs waiting to be loaded."""
    early = now - dt.timedelta(hours=3)
    demo.run("AC-A", "bowie_dick", [], early)
    implants = demo.make_packs(2, early, implant=True)
    demo.run(
        "AC-A", "prevac_132_4", implants, early + dt.timedelta(minutes=20), bi_lot="BI-TODAY-A"
    )
    done = demo.make_packs(3, early)
    demo.run("AC-B", "gravity_121_30", done, early + dt.timedelta(minutes=40))
    packs.compromise_pack(session, done[0], reason="wrap torn when shelved", actor=MA, now=now)
    running = demo.make_packs(3, now - dt.timedelta(minutes=40))
    demo.run("AC-A", "prevac_132_4", running, now - dt.timedelta(minutes=20), complete=False)
    demo.make_packs(4, now - dt.timedelta(minutes=5))
