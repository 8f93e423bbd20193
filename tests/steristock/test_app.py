"""The composition: the app is its plugins (kernel first), and what each plugin declares
reaches the app, the header, the template loader and the CLI."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from equipment.plugin import EquipmentPlugin
from inventory.plugin import InventoryPlugin
from kernel.auth.models import Role
from kernel.plugin import KernelPlugin, nav_links, static_directories, template_directories
from kernel.plugins import domain_plugins
from sterilization.plugin import SterilizationPlugin
from steristock.app import plugins
from steristock.cli import main
from steristock.plugin import ClinicPagesPlugin
from tests.factories import UserFactory, page_login


def test_the_app_is_the_kernel_then_every_package_plugin(app: Litestar) -> None:
    found = domain_plugins(app.plugins.init)
    assert [type(p) for p in found] == [
        KernelPlugin,
        InventoryPlugin,
        SterilizationPlugin,
        EquipmentPlugin,
        ClinicPagesPlugin,
    ]


def test_each_plugins_routes_are_served(app: Litestar) -> None:
    paths = {route.path for route in app.routes}
    assert {"/health", "/api/v1/audit", "/login", "/admin/users"} <= paths  # kernel
    assert {"/api/v1/items", "/catalogue/items", "/b/{location:str}/{sku:path}"} <= paths
    assert {"/api/v1/cycles", "/cycles", "/compliance"} <= paths  # sterilization
    assert {"/api/v1/equipment", "/api/v1/hld-devices", "/d/{code:str}"} <= paths  # equipment
    assert {"/", "/scan", "/api/v1/scan", "/dashboard/usage"} <= paths  # composition


def test_templates_are_looked_up_in_plugin_order_kernel_first() -> None:
    directories = template_directories([KernelPlugin(), *plugins()])
    assert [d.parent.name for d in directories] == [
        "web",
        "inventory",
        "sterilization",
        "equipment",
        "steristock",
    ]
    assert all(d.is_dir() for d in directories)


def test_static_files_are_served_from_the_kernel_then_each_plugins_directory(
    client: TestClient[Litestar],
) -> None:
    directories = static_directories([KernelPlugin(), *plugins()])
    assert [d.parent.name for d in directories] == [
        "web",
        "sterilization",
        "equipment",
        "steristock",
    ]
    scan_js = directories[3] / "js" / "scan.js"  # the scan page's, not the kernel's
    assert scan_js.is_file()
    assert not (directories[0] / "js" / "scan.js").exists()
    response = client.get("/static/js/scan.js")
    assert response.status_code == 200
    assert response.text == scan_js.read_text()
    assert client.get("/static/js/soak-timer.js").status_code == 200  # the equipment's
    assert client.get("/static/js/count_sheet.js").status_code == 200  # sterilization's
    assert client.get("/static/css/steristock.css").status_code == 200  # the kernel's


def test_the_header_links_come_from_the_plugins_in_their_order() -> None:
    labels = [link.label for link in nav_links([KernelPlugin(), *plugins()])]
    assert labels == [
        "Dashboard",
        "Today",
        "Scan",
        "Cycles",
        "Purchasing",
        "Equipment",
        "Compliance",
        "Catalogue",
        "Import",
        "Users",
        "Sites",
        "Webhooks",
        "Sterilizers",
    ]


def test_an_ma_sees_the_links_for_the_ma(client: TestClient, users: UserFactory) -> None:
    page_login(client, users.create(Role.MA))
    html = client.get("/").text
    for label in ("Dashboard", "Scan", "Cycles", "Purchasing", "Equipment", "Catalogue",
                  "Sterilizers"):  # fmt: skip
        assert f">{label}</a>" in html
    for label in ("Compliance", "Import", "Users"):
        assert f">{label}</a>" not in html


def test_the_cli_has_every_plugins_commands() -> None:
    assert {"serve", "demo", "db", "users", "audit", "backup", "restore"} <= set(main.commands)
    assert {"reorder", "items", "labels"} <= set(main.commands)
    labels = main.commands["labels"]
    assert set(labels.commands) == {"packs", "bins"}  # type: ignore[attr-defined]
