"""Devices a clinic maintains, whichever domain owns them: a neutral registry.

Maintenance records (the equipment domain) name a `device` by code; that code may be a
piece of equipment, an HLD device or a sterilizer, each owned by a different domain, and
domains never import each other. So each owning domain registers here:

* a **resolver** — "is this code one of yours?" → a `DeviceInfo` (kind, name, site), or
  `None`;
* **maintenance listeners** — told after a maintenance record is written (a sterilizer
  `repair` starts requalification in sterilization).

Registration is by name, so registering twice (an app built twice in one process, tests)
replaces rather than duplicates. The recording domain calls `resolve_device` and
`maintenance_recorded` in the same session/transaction: a listener's refusal rolls the
maintenance record back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """What the maintenance log needs to know about a device: its owner's word for it."""

    code: str
    kind: str  # "sterilizer", "equipment", "hld_device", ...
    name: str
    site_id: int | None = None  # kernel.sites: the site the device is at


@dataclass(frozen=True, slots=True)
class MaintenanceEvent:
    """A maintenance record just written, as listeners see it."""

    device: DeviceInfo
    kind: str  # preventive | repair | inspection | validation
    performed_by: str
    performed_on: dt.date
    notes: str | None
    actor: str
    at: dt.datetime


DeviceResolver = Callable[[Session, str], DeviceInfo | None]
MaintenanceListener = Callable[[Session, MaintenanceEvent], None]

_resolvers: dict[str, DeviceResolver] = {}
_listeners: dict[str, MaintenanceListener] = {}


def register_device_resolver(name: str, resolver: DeviceResolver) -> None:
    """`resolver(session, code)` answers for the devices of the domain called `name`."""
    _resolvers[name] = resolver


def register_maintenance_listener(name: str, listener: MaintenanceListener) -> None:
    """`listener(session, event)` runs after each maintenance record, in its transaction."""
    _listeners[name] = listener


def resolve_device(session: Session, code: str) -> DeviceInfo | None:
    """The device with this code, asked of every registered domain (first answer wins)."""
    for resolver in list(_resolvers.values()):
        found = resolver(session, code)
        if found is not None:
            return found
    return None


def maintenance_recorded(session: Session, event: MaintenanceEvent) -> None:
    """Tell every listener; one that raises refuses the record (the caller rolls back)."""
    for listener in list(_listeners.values()):
        listener(session, event)
