"""Cycle types: the built-in ones (SPEC) and those an administrator configures, with the
minimum temperature and exposure time a load must reach and the sterilizer kinds that can
run them. `bowie_dick` and `leak_test` are test cycles, run empty."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import audit
from kernel.problems import Conflict, InvalidInput
from sterilization.models import CycleType

STEAM = ("steam_prevac", "steam_gravity")
IUSS_CYCLE_TYPE = "flash_132_3"


@dataclass(frozen=True)
class CycleTypeRule:
    """What a cycle type demands: the minimum temperature and exposure time (None: no
    minimum), which sterilizer kinds can run it, and whether it is a load or a test."""

    code: str
    name: str
    purpose: str  # "load", "bowie_dick", "leak_test" or "bi_test"
    min_temperature_c: float | None
    min_exposure_minutes: float | None
    sterilizer_kinds: tuple[str, ...] = ()
    builtin: bool = True

    @property
    def is_test(self) -> bool:
        return self.purpose != "load"

    @property
    def is_iuss(self) -> bool:
        """Immediate-use steam sterilization: packs are used on one encounter at once."""
        return self.code == IUSS_CYCLE_TYPE


BUILTIN_CYCLE_TYPES: dict[str, CycleTypeRule] = {
    rule.code: rule
    for rule in (
        CycleTypeRule(
            "prevac_132_4", "Pre-vacuum 132 °C, 4 min", "load", 132, 4, ("steam_prevac",)
        ),
        CycleTypeRule(
            "prevac_134_3", "Pre-vacuum 134 °C, 3 min", "load", 134, 3, ("steam_prevac",)
        ),
        CycleTypeRule("gravity_121_30", "Gravity 121 °C, 30 min", "load", 121, 30, STEAM),
        CycleTypeRule("gravity_132_15", "Gravity 132 °C, 15 min", "load", 132, 15, STEAM),
        CycleTypeRule("flash_132_3", "Immediate use 132 °C, 3 min", "load", 132, 3, STEAM),
        CycleTypeRule(
            "bowie_dick", "Bowie-Dick air-removal test", "bowie_dick", 132, 3.5, ("steam_prevac",)
        ),
        CycleTypeRule("leak_test", "Vacuum leak test", "leak_test", None, None, ("steam_prevac",)),
        # Requalification: an empty chamber with a BI (no packs), 121 °C at least.
        CycleTypeRule("bi_test", "BI test, empty chamber (requalification)", "bi_test", 121, 3),
    )
}
TEST_CYCLE_TYPES = tuple(code for code, rule in BUILTIN_CYCLE_TYPES.items() if rule.is_test)


def _custom_rule(row: CycleType) -> CycleTypeRule:
    kinds = tuple(k for k in row.sterilizer_kinds.split(",") if k)
    return CycleTypeRule(
        row.code, row.name, "load", row.min_temperature_c, row.min_exposure_minutes, kinds, False
    )


def cycle_type_rule(session: Session, code: str) -> CycleTypeRule:
    rule = BUILTIN_CYCLE_TYPES.get(code)
    if rule is not None:
        return rule
    row = session.scalar(select(CycleType).where(CycleType.code == code))
    if row is None:
        known = ", ".join(BUILTIN_CYCLE_TYPES)
        raise InvalidInput(
            f"Unknown cycle type {code!r}. Use one of {known} or a type an administrator "
            "configured.",
            field="cycle_type",
        )
    return _custom_rule(row)


def list_cycle_types(session: Session) -> list[CycleTypeRule]:
    custom = session.scalars(select(CycleType).order_by(CycleType.code))
    return [*BUILTIN_CYCLE_TYPES.values(), *(_custom_rule(row) for row in custom)]


def create_cycle_type(
    session: Session,
    *,
    code: str,
    name: str,
    min_temperature_c: float,
    min_exposure_minutes: float,
    sterilizer_kinds: list[str],
    actor: str,
) -> CycleTypeRule:
    if code in BUILTIN_CYCLE_TYPES or session.scalar(
        select(CycleType.id).where(CycleType.code == code)
    ):
        raise Conflict(f"Cycle type {code!r} already exists.", field="code")
    row = CycleType(
        code=code,
        name=name,
        min_temperature_c=min_temperature_c,
        min_exposure_minutes=min_exposure_minutes,
        sterilizer_kinds=",".join(dict.fromkeys(sterilizer_kinds)),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="cycle_type.create",
        entity="cycle_type",
        entity_id=code,
        after=audit.snapshot(row),
    )
    return _custom_rule(row)
