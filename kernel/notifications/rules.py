"""What a domain hands the notification engine: rules, each a plain function that looks
at the records and reports facts. The kernel never knows what a BI or a lot is; a rule
says what it found (`Fact`), and the engine takes care of "never twice", recipients,
channels and retries.

    def cycle_overdue(session: Session, ctx: RuleContext) -> Iterator[Fact]:
        for cycle in ...:
            yield Fact(key=f"cycle:{cycle.id}", subject=..., url=f"/cycles/{cycle.id}")

    RULES = (NotificationRule("cycle_overdue", "Cycle running over 2 h", cycle_overdue,
                              roles=frozenset({Role.MA})),)

A domain plugin returns its rules from `notification_rules()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kernel.auth.models import Role
from kernel.clock import ClinicTime

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Mode = Literal["off", "immediate", "digest"]
MODES: tuple[str, ...] = ("off", "immediate", "digest")
STATE_KEY = "notification_rules"


@dataclass(frozen=True)
class Fact:
    """Something a rule found. `key` identifies the fact within its kind (the engine makes
    the dedup key `<kind>:<key>`): the same fact found again is not notified again, so a
    key names what happened (the cycle, the recall, the day), never when it was seen."""

    key: str
    subject: str
    url: str = "/"
    detail: str = ""
    site: str | None = None


@dataclass(frozen=True)
class RuleContext:
    """What a rule may use besides the session: the time, the site's zone and the site
    (None before sites exist). Rules never read the wall clock themselves."""

    now: dt.datetime
    zone: ClinicTime
    site: str | None = None
    site_id: int | None = None  # recipients: the users of this site (None: everyone)

    @property
    def today(self) -> dt.date:
        return self.zone.local_date(self.now)


@dataclass(frozen=True)
class NotificationRule:
    """One kind of notification: its stable `kind`, a label for people, the check, and the
    roles that get it by default (immediately; everyone else: off until they choose)."""

    kind: str
    label: str
    check: Callable[[Session, RuleContext], Iterable[Fact]]
    roles: frozenset[Role] = field(default_factory=frozenset)
    description: str = ""

    def default_mode(self, role: Role | str) -> str:
        return "immediate" if Role(role) in self.roles else "off"


def rules_by_kind(rules: Sequence[NotificationRule]) -> dict[str, NotificationRule]:
    """The rules keyed by kind; two rules with one kind are a programming error."""
    found: dict[str, NotificationRule] = {}
    for rule in rules:
        if rule.kind in found:
            raise ValueError(f"two notification rules have the kind {rule.kind!r}")
        found[rule.kind] = rule
    return found
