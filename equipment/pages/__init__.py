"""Equipment pages (tablet-friendly), listed here for the plugin."""

from __future__ import annotations

from typing import Any

from equipment.pages.devices import page_handlers as device_pages
from equipment.pages.equipment import page_handlers as equipment_pages
from equipment.pages.exports import page_handlers as export_pages

page_handlers: list[Any] = [*equipment_pages, *device_pages, *export_pages]
