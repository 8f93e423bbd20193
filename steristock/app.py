"""The Litestar application: the kernel, each domain and the clinic-wide pages, as plugins."""

from __future__ import annotations

from litestar import Litestar

from equipment.plugin import EquipmentPlugin
from inventory.plugin import InventoryPlugin
from kernel.db import Database
from kernel.plugin import KernelPlugin
from kernel.plugins import DomainPlugin
from kernel.settings import Settings
from sterilization.plugin import SterilizationPlugin
from steristock.plugin import ClinicPagesPlugin


def plugins() -> list[DomainPlugin]:
    """Every package's plugin after the kernel's (the CLI and the demo use the same list)."""
    return [InventoryPlugin(), SterilizationPlugin(), EquipmentPlugin(), ClinicPagesPlugin()]


def create_app(settings: Settings | None = None, database: Database | None = None) -> Litestar:
    kernel = KernelPlugin(settings, database)
    return kernel.behind_proxies(Litestar(plugins=[kernel, *plugins()]))
