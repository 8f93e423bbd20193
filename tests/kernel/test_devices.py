"""The device registry (`kernel/devices.py`): the maintenance log names devices any domain
owns, and a listener that refuses a maintenance record rolls it back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

import kernel.devices as devices
from equipment.models import MaintenanceRecord
from kernel.problems import Conflict
from tests.equipment_factories import EquipmentApi


def test_registering_a_resolver_twice_under_one_name_replaces_it(monkeypatch):
    monkeypatch.setattr(devices, "_resolvers", {})
    devices.register_device_resolver("x", lambda s, code: None)
    devices.register_device_resolver(
        "x", lambda s, code: devices.DeviceInfo(code, "thing", "Thing")
    )
    assert len(devices._resolvers) == 1
    assert devices.resolve_device(None, "T-1") == devices.DeviceInfo("T-1", "thing", "Thing")  # type: ignore[arg-type]


def test_a_listener_that_refuses_rolls_the_maintenance_record_back(
    client, users, database, monkeypatch
):
    eq = EquipmentApi(client, users)
    eq.pin(dt.datetime(2026, 12, 2, 9, 0))
    code = eq.equipment()

    def refuse(session, event):
        raise Conflict(f"{event.device.code} is locked for validation.")

    monkeypatch.setitem(devices._listeners, "test-refuser", refuse)
    refused = eq.maintenance(code, expect=409)
    assert "locked for validation" in refused["detail"]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(MaintenanceRecord)) == 0
