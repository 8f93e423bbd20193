"""The equipment HTTP API (`/api/v1`), one module per resource. Handlers are thin: they
parse, call the service modules and convert with `equipment.responses`."""

from __future__ import annotations

from typing import Any

from equipment.api.equipment import EquipmentController
from equipment.api.exports import export_handlers
from equipment.api.hld import EncounterDeviceController, HldDeviceController
from equipment.api.maintenance import MaintenanceController

route_handlers: list[Any] = [
    EquipmentController,
    MaintenanceController,
    HldDeviceController,
    EncounterDeviceController,
    *export_handlers,
]
