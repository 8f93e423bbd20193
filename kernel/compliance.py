"""The compliance report's sections, contributed by any domain.

The auditor's report is one document (`GET /api/v1/sterilization/compliance`, its page),
but its findings come from several domains that never import each other: sterilization
builds its per-sterilizer findings, and each other domain (or the kernel itself)
registers a section here. The report asks every registered section for its findings over
the same period and adds each under its `name` (a top-level JSON key); the page shows each
section's `tables`, with its CSV `exports`.

Registration is by name (registering twice replaces), from a plugin's constructor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from kernel.clock import ClinicTime
from kernel.periods import Period


@dataclass(frozen=True, slots=True)
class ComplianceScope:
    """What every section is built for: the period (UTC bounds and local days)."""

    period: Period
    zone: ClinicTime
    first: dt.date
    last: dt.date
    today: dt.date
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class FindingTable:
    """One table of a section on the page: a title, and its rows (empty: nothing found)."""

    key: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    none_text: str = "none"


@dataclass(frozen=True, slots=True)
class ComplianceSection:
    name: str  # the JSON key
    title: str  # the page's heading
    build: Callable[[Session, ComplianceScope], Any]  # a msgspec Struct or builtins
    tables: Callable[[Any, ClinicTime], list[FindingTable]]
    # CSV downloads for the page, (label, path); the period is appended as a query.
    exports: Sequence[tuple[str, str]] = field(default_factory=tuple)
    order: int = 100


_sections: dict[str, ComplianceSection] = {}


def register_compliance_section(section: ComplianceSection) -> None:
    _sections[section.name] = section


def compliance_sections() -> list[ComplianceSection]:
    return sorted(_sections.values(), key=lambda s: (s.order, s.name))


@dataclass(frozen=True, slots=True)
class BuiltSection:
    section: ComplianceSection
    value: Any

    def tables(self, zone: ClinicTime) -> list[FindingTable]:
        return self.section.tables(self.value, zone)

    def findings(self, zone: ClinicTime) -> int:
        return sum(len(t.rows) for t in self.tables(zone))


def build_sections(session: Session, scope: ComplianceScope) -> list[BuiltSection]:
    """Every registered section's findings for the scope, in order."""
    return [BuiltSection(s, s.build(session, scope)) for s in compliance_sections()]


def as_json(built: Sequence[BuiltSection]) -> dict[str, Any]:
    """The sections as the report's extra top-level keys."""
    return {b.section.name: msgspec.to_builtins(b.value) for b in built}
