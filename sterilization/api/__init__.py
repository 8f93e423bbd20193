"""The sterilization HTTP API (`/api/v1`), one module per resource.

Handlers are thin: they parse, call the service modules and convert with
`sterilization.responses`. Time comes from the kernel clock (the `clock` dependency), the
shelf-life setting from the `shelf_life` dependency (`sterilization.plugin`).
"""

from __future__ import annotations

from typing import Any

from sterilization.api.bi_products import BiProductController
from sterilization.api.cycle_records import CycleAttachmentController, CycleRecordController
from sterilization.api.cycle_types import CycleTypeController
from sterilization.api.cycles import CycleController
from sterilization.api.encounters import EncounterController
from sterilization.api.instruments import InstrumentController
from sterilization.api.labels import PackLabelController, PackLabelSheetController
from sterilization.api.packs import PackController
from sterilization.api.recalls import RecallController
from sterilization.api.reports import SterilizationReportController
from sterilization.api.set_photos import SetTemplatePhotoController
from sterilization.api.set_templates import SetTemplateController
from sterilization.api.sets import SetController
from sterilization.api.sterilizers import SterilizerController

route_handlers: list[Any] = [
    SterilizerController,
    CycleTypeController,
    BiProductController,
    PackController,
    CycleController,
    CycleAttachmentController,
    CycleRecordController,
    RecallController,
    EncounterController,
    PackLabelController,
    PackLabelSheetController,
    SterilizationReportController,
    InstrumentController,
    SetTemplateController,
    SetController,
    SetTemplatePhotoController,
]
