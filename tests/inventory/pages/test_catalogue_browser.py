"""The par-level grid in a real browser: headless Chromium (Playwright) against
`steristock serve` on a fresh SQLite database, logged in as purchasing. A changed par
level is saved and shown; a refused value is shown next to its row with what was typed.

Uses the server and browser machinery of `test_pages_browser` (skips the same way where
Chromium or Playwright is missing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kernel.auth.models import Role
from kernel.auth.service import create_user
from kernel.db import Database
from kernel.migrations import upgrade
from tests.live_server import live_server
from tests.test_pages_browser import (
    BROWSER_ENV,
    PASSWORD,
    Server,
    Tab,
    browser,
    screenshot_dir,
    shoot,
)

__all__ = ["browser", "screenshot_dir"]  # fixtures used here


def seed_catalogue(database: Database) -> None:
    from inventory import catalogue, ledger
    from inventory.schemas.catalogue import ItemCreate, LocationCreate, SupplierCreate
    from inventory.schemas.stock import ReceiveStock

    with database.session() as session:
        create_user(
            session, actor="test", username="paula", role=Role.PURCHASING, password=PASSWORD,
            full_name="Paula Buyer",
        )  # fmt: skip
        supplier = catalogue.create_supplier(
            session, actor="test", data=SupplierCreate(name="Medline")
        )
        for code, name in (("EXAM1", "Exam 1"), ("SUPPLY", "Supply room")):
            catalogue.create_location(
                session, actor="test", data=LocationCreate(code=code, name=name)
            )
        for sku, name in (("GLV/M", "Nitrile gloves M"), ("GAUZE-4", "Gauze 4x4")):
            catalogue.create_item(
                session, actor="test",
                data=ItemCreate(sku=sku, name=name, unit="box", supplier_id=supplier.id or 0,
                                unit_cost=Decimal("7.50")),
            )  # fmt: skip
        catalogue.set_par_level(
            session, actor="test", sku="GLV/M", location_code="EXAM1", par_level=10,
            reorder_point=6,
        )  # fmt: skip
        catalogue.set_par_level(
            session, actor="test", sku="GAUZE-4", location_code="EXAM1", par_level=6,
            reorder_point=None,
        )  # fmt: skip
        ledger.record_movement(
            session, actor="test", today=dt.date.today(),
            data=ReceiveStock(sku="GLV/M", location="EXAM1", quantity=4),
        )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("catalogue-browser")
    url = f"sqlite:///{workdir / 'steristock.db'}"
    upgrade(url)
    database = Database(url)
    seed_catalogue(database)
    database.dispose()
    with live_server(url, workdir, workers=2, env=BROWSER_ENV) as live:
        yield Server(live.base_url, {"paula": PASSWORD})


@pytest.fixture
def paula(browser: Any, server: Server) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(5000)
    tab = Tab(page, server.base_url)
    page.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    page.on("pageerror", lambda e: tab.console_errors.append(f"pageerror: {e}"))
    tab.goto("/catalogue/par-levels?location=EXAM1")
    tab.log_in("paula")
    yield tab
    context.close()


def test_editing_a_par_level_in_the_grid_saves_it_and_a_refusal_stays_on_its_row(
    paula: Tab, screenshot_dir: Path
) -> None:
    page = paula.page
    assert page.url.endswith("/catalogue/par-levels?location=EXAM1")
    assert page.locator(".subnav-link[aria-current=page]").inner_text() == "Par levels"
    par = page.get_by_label("Par level of GLV/M")
    assert par.input_value() == "10"
    par.fill("14")
    shoot(paula, screenshot_dir, "catalogue-par-grid")
    page.click("#par-grid-form button[type=submit]")
    page.wait_for_load_state()
    assert "Saved 1 par level at EXAM1." in page.locator(".flash-success").inner_text()
    assert page.get_by_label("Par level of GLV/M").input_value() == "14"
    assert page.get_by_label("Reorder point of GLV/M").input_value() == "6"

    # A reorder point above the par level: refused on its row, the typed value kept.
    page.get_by_label("Reorder point of GAUZE-4").fill("9")
    page.get_by_label("Par level of GLV/M").fill("16")
    page.click("#par-grid-form button[type=submit]")
    page.wait_for_load_state()
    row = page.locator("#par-row-GAUZE-4")
    assert "cannot be above the par level (6)" in row.locator(".field-message").inner_text()
    assert "row-error" in (row.get_attribute("class") or "")
    assert page.get_by_label("Reorder point of GAUZE-4").input_value() == "9"
    assert page.get_by_label("Par level of GLV/M").input_value() == "16"
    assert "Nothing was saved" in page.locator("#action-error").inner_text()
    shoot(paula, screenshot_dir, "catalogue-par-grid-refused")

    # Nothing of that post was written: a fresh load shows the saved values.
    paula.goto("/catalogue/par-levels?location=EXAM1")
    assert page.get_by_label("Par level of GLV/M").input_value() == "14"
    assert page.get_by_label("Reorder point of GAUZE-4").input_value() == "3"
    assert paula.csp_violations() == []
    # The refusal is a 422 page, which Chromium logs; nothing else may be.
    assert [m for m in paula.console_errors if "status of 422" not in m] == []


def test_items_search_and_the_item_form_in_the_browser(paula: Tab, screenshot_dir: Path) -> None:
    page = paula.page
    paula.goto("/catalogue/items")
    shoot(paula, screenshot_dir, "catalogue-items")
    page.fill("#field-q", "gauze")
    page.click("#item-filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#items-table tbody tr").count() == 1
    page.click("text=GAUZE-4")
    page.wait_for_load_state()
    page.fill("#field-unit_cost", "1.23456")
    page.fill("#field-name", "Gauze 4x4, sterile")
    page.click("#item-form button[type=submit]")
    page.wait_for_load_state()
    assert "at most 4 decimal places" in page.locator("#field-unit_cost-error").inner_text()
    assert page.locator("#field-name").input_value() == "Gauze 4x4, sterile"
    shoot(paula, screenshot_dir, "catalogue-item-refused")
    page.fill("#field-unit_cost", "1.25")
    page.click("#item-form button[type=submit]")
    page.wait_for_load_state()
    assert "Saved GAUZE-4: name, unit_cost." in page.locator(".flash-success").inner_text()
    assert paula.csp_violations() == []
    assert [m for m in paula.console_errors if "status of 422" not in m] == []
