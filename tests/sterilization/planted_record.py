"""A sterilization record planted at chosen clinic times (through the rule functions, which
take `now`), for the auditor's reports: a month of cycles with known gaps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kernel.clock import ClinicTime
from kernel.db import Database
from sterilization import bi_products, cycles, early_release, indicators, packs, sterilizers
from sterilization.models import BiProduct
from sterilization.shelf_life import ShelfLife
from tests.sterilization_factories import GOOD_READINGS

CHICAGO = ZoneInfo("America/Chicago")  # the `settings` fixture's clinic zone
ZONE = ClinicTime(CHICAGO)
RAPID = "RAPID-1H"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A clinic wall-clock time, as the UTC instant the record stores."""
    return ZONE.instant(day, dt.time(hour, minute))


@dataclass
class PlantedCycle:
    id: int
    sterilizer: str
    number: int
    cycle_type: str
    packs: list[str]


@dataclass
class Record:
    database: Database
    shelf_life: ShelfLife = field(default_factory=lambda: ShelfLife(days=30))
    actor: str = "ma-planted"
    cycles: list[PlantedCycle] = field(default_factory=list)

    def sterilizer(self, code: str, kind: str) -> None:
        with self.database.session() as s:
            sterilizers.create_sterilizer(s, code=code, name=f"Autoclave {code}", kind=kind,
                                          actor="admin-planted")  # fmt: skip
            # The planted spore tests are a rapid-readout product (read within the hour).
            if s.scalar(select(BiProduct.id).where(BiProduct.code == RAPID)) is None:
                bi_products.create_bi_product(s, code=RAPID, name="Rapid readout BI",
                                              manufacturer=None, min_incubation_minutes=60,
                                              actor="admin-planted")  # fmt: skip

    def packs(self, n: int, when: dt.datetime, *, implant: bool = False) -> list[str]:
        with self.database.session() as s:
            return packs.create_packs(
                s,
                description="Implant kit" if implant else "Exam kit",
                contents=[],
                quantity=n,
                implant=implant,
                actor=self.actor,
                now=when,
            )

    def cycle(
        self,
        sterilizer: str,
        cycle_type: str,
        when: dt.datetime,
        *,
        pack_codes: list[str] | None = None,
        bi_lot: str | None = None,
        minutes: float | None = None,
        **readings: Any,
    ) -> PlantedCycle:
        with self.database.session() as s:
            cycle, _ = cycles.start_cycle(
                s,
                sterilizer_code=sterilizer,
                cycle_type=cycle_type,
                pack_codes=pack_codes or [],
                bi_lot=bi_lot,
                bi_product=RAPID if bi_lot else None,
                implants=None,
                actor=self.actor,
                zone=ZONE,
                now=when,
            )
            planted = PlantedCycle(cycle.id, sterilizer, cycle.number, cycle_type, pack_codes or [])
        data = {
            "mechanical_ok": True,
            "chemical_ok": True,
            "pressure_kpa": 205.0,
            **GOOD_READINGS[cycle_type],
            **readings,
        }
        if minutes is None:  # the exposure, plus a few minutes to heat up and dry
            minutes = max(20, (data.get("exposure_minutes") or 0) + 5)
        with self.database.session() as s:
            cycles.complete_cycle(
                s,
                planted.id,
                data=data,
                actor=self.actor,
                zone=ZONE,
                shelf_life=self.shelf_life,
                now=when + dt.timedelta(minutes=minutes),
            )
        self.cycles.append(planted)
        return planted

    def bi(self, cycle: PlantedCycle, result: str, when: dt.datetime) -> None:
        with self.database.session() as s:
            indicators.record_bi_result(
                s,
                cycle.id,
                result=result,
                control_grew=True,
                lot=None,
                actor=self.actor,
                zone=ZONE,
                shelf_life=self.shelf_life,
                now=when,
            )

    def early_release(self, cycle: PlantedCycle, when: dt.datetime, reason: str) -> None:
        with self.database.session() as s:
            early_release.early_release(
                s, cycle.id, reason=reason, actor=self.actor, zone=ZONE,
                shelf_life=self.shelf_life, now=when,
            )  # fmt: skip

    def use(self, code: str, when: dt.datetime, encounter: str) -> None:
        with self.database.session() as s:
            packs.use_pack(s, code, encounter_ref=encounter, actor=self.actor, zone=ZONE, now=when)

    def amend(
        self, cycle: PlantedCycle, field_name: str, value: Any, reason: str, when: dt.datetime
    ) -> None:
        with self.database.session() as s:
            cycles.add_amendment(
                s, cycle.id, field=field_name, value=value, reason=reason, actor="admin-planted",
                now=when,
            )  # fmt: skip


# The constructed month: two sterilizers over four working weeks (ISO weeks 41-44 of 2026),
# with exactly these gaps planted.
MONTH_FROM, MONTH_TO = dt.date(2026, 10, 5), dt.date(2026, 10, 30)
NO_BI_WEEK = "2026-W42"  # GRAV: its Monday BI is skipped
NO_BOWIE_DICK_DAY = dt.date(2026, 10, 14)  # PREVAC: no test at all
LATE_BOWIE_DICK_DAY = dt.date(2026, 10, 22)  # PREVAC: test run after the first load
FAILED_DAY = dt.date(2026, 10, 7)  # GRAV: an under-temperature load, then a retest
EARLY_IMPLANT_DAY = dt.date(2026, 10, 20)  # PREVAC: implant load released early, used that day


@dataclass
class Month:
    record: Record
    early_implant: str | None
    proper_implant: str | None
    failed: PlantedCycle | None
    retest: PlantedCycle | None
    used: list[str]


def working_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def plant_month(database: Database, first: dt.date = MONTH_FROM, last: dt.date = MONTH_TO) -> Month:
    """The month (or the part of it from `first` to `last`, to keep a test fast)."""
    rec = Record(database)
    rec.sterilizer("PREVAC", "steam_prevac")
    rec.sterilizer("GRAV", "steam_gravity")
    early_implant = proper_implant = None
    failed = retest = None
    used: list[str] = []
    for day in working_days(first, last):
        monday = day.weekday() == 0
        if day not in (NO_BOWIE_DICK_DAY, LATE_BOWIE_DICK_DAY):
            rec.cycle("PREVAC", "bowie_dick", at(day, 7))
        load = rec.packs(2, at(day, 6))
        if day == dt.date(2026, 10, 19):
            [proper_implant] = rec.packs(1, at(day, 6), implant=True)
            load.append(proper_implant)
        if day == EARLY_IMPLANT_DAY:
            [early_implant] = rec.packs(1, at(day, 6), implant=True)
            load.append(early_implant)
        implant_bi = "LOT-P-EARLY" if day == EARLY_IMPLANT_DAY else None
        prevac = rec.cycle(
            "PREVAC", "prevac_132_4", at(day, 8), pack_codes=load,
            bi_lot="LOT-P" if monday else implant_bi,
            **({"integrator": "pass"} if implant_bi else {}),
        )  # fmt: skip
        if implant_bi:  # released before its BI on a passed integrator, used at 11:00
            rec.early_release(prevac, at(day, 10), "emergency implant case")
        if monday or implant_bi:
            rec.bi(prevac, "negative", at(day + dt.timedelta(days=1), 7, 30))
        if day == LATE_BOWIE_DICK_DAY:
            rec.cycle("PREVAC", "bowie_dick", at(day, 10))
        grav_load = rec.packs(1, at(day, 6))
        grav = rec.cycle(
            "GRAV", "gravity_121_30", at(day, 9), pack_codes=grav_load,
            bi_lot="LOT-G" if monday and day.isocalendar()[1] != 42 else None, minutes=45,
        )  # fmt: skip
        if monday and day.isocalendar()[1] != 42:
            rec.bi(grav, "negative", at(day + dt.timedelta(days=1), 7, 45))
        if day == FAILED_DAY:
            failed = rec.cycle("GRAV", "gravity_121_30", at(day, 11), temperature_c=110.0)
            retest = rec.cycle("GRAV", "gravity_121_30", at(day, 12), minutes=45)
        rec.use(load[0], at(day, 14), f"ENC-{day.isoformat()}")
        used.append(load[0])
    if proper_implant and last >= dt.date(2026, 10, 20):
        rec.use(proper_implant, at(dt.date(2026, 10, 20), 10), "ENC-IMPLANT-OK")
    if early_implant:
        rec.use(early_implant, at(EARLY_IMPLANT_DAY, 11), "ENC-IMPLANT-EARLY")
    return Month(rec, early_implant, proper_implant, failed, retest, used)
