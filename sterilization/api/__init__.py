"""The sterilization HTTP API (`/api/v1`), one module per resource.

Handlers are thin: they parse, call the service modules and convert with
`sterilization.responses`. Time comes from the kernel clock (the `clock` dependency), the
shelf-life setting from the `shelf_life` dependency (`sterilization.plugin`).
"""

from __future__ import annotations

from typing import Any

from sterilization.api.cycle_types import CycleTypeController
from sterilization.api.cycles import CycleController
from sterilization.api.encounters import EncounterController
from sterilization.api.labels import PackLabelController, PackLabelSheetController
from sterilization.api.packs import PackController
from sterilization.api.recalls import RecallController
from sterilization.api.reports import SterilizationReportController
from sterilization.api.sterilizers import SterilizerController

route_handlers: list[Any] = [
    SterilizerController,
    CycleTypeController,
    PackController,
    CycleController,
    RecallController,
    EncounterController,
    PackLabelController,
    PackLabelSheetController,
    SterilizationReportController,
]
