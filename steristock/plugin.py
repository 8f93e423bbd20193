"""The composition's own plugin: the pages and endpoint that read from more than one
domain (dashboard, scan), and their templates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kernel.auth.models import Role
from kernel.plugins import DomainPlugin, NavLink


class ClinicPagesPlugin(DomainPlugin):
    name = "clinic"
    template_dir = Path(__file__).parent / "templates"
    static_dir = Path(__file__).parent / "static"  # js/scan.js, the scan page's camera
    nav_links = (
        NavLink("Dashboard", "/", order=10),
        NavLink("Today", "/today", frozenset({Role.MA}), order=15),
        NavLink("Scan", "/scan", order=20),
    )

    def route_handlers(self) -> Sequence[Any]:
        from steristock.scan.api import resolve_scan

        return [resolve_scan]

    def page_handlers(self) -> Sequence[Any]:
        from steristock.dashboard.page import dashboard, usage_fragment
        from steristock.scan.page import scan_page
        from steristock.today.page import today_page

        return [dashboard, usage_fragment, scan_page, today_page]
