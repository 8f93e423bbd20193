"""The import page in a real browser (headless Chromium via Playwright) against
`steristock serve` with two workers: the dry run and the confirm may land on different
workers, so the checked upload must wait in the database, not in a process."""

from __future__ import annotations

from collections.abc import Iterator
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
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    Tab,
    sync_api,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("import-browser")
    url = f"sqlite:///{workdir / 'steristock.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        create_user(session, actor="test", username="pat", role=Role.PURCHASING,
                    password=PASSWORD, full_name="Pat Purchasing")  # fmt: skip
        create_user(session, actor="test", username="maria", role=Role.MA, password=PASSWORD)
    database.dispose()
    with live_server(url, workdir, workers=2, env=BROWSER_ENV) as live:
        yield live.base_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser: Any, server: str) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10000)
    tab = Tab(page, server)
    page.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    page.on("pageerror", lambda e: tab.console_errors.append(f"pageerror: {e}"))
    yield tab
    context.close()


def test_upload_check_and_confirm_the_distributor_files(tab: Tab) -> None:
    tab.goto("/catalogue/import")
    tab.log_in("pat")
    assert tab.page.url.endswith("/catalogue/import")
    assert tab.page.locator("nav a[href='/catalogue/import']").inner_text() == "Import"
    # A bad file first: the problems are listed by row, and there is nothing to confirm.
    tab.page.set_input_files(
        "#field-items-file",
        files=[{"name": "bad.csv", "mimeType": "text/csv",
                "buffer": b"sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,"
                          b"lead_time_days,min_order_qty,lot_tracked,category\n"
                          b"A-1,Gauze,box,0,Medline,,$1.00,,,,no,\n"}],
    )  # fmt: skip
    tab.page.click("#upload-form button[type=submit]")
    tab.page.wait_for_load_state()
    problems = tab.page.locator("#problems-items tbody tr")
    assert problems.count() == 1
    assert problems.first.locator("td").first.inner_text() == "2"
    assert "pack_size" in problems.first.inner_text()
    assert tab.page.locator("#confirm-form").count() == 0
    # The real files: the dry-run table, then the confirm.
    tab.page.set_input_files("#field-items-file", str(FIXTURES / "distributor_items.csv"))
    tab.page.set_input_files("#field-par-levels-file", str(FIXTURES / "distributor_par_levels.csv"))
    tab.page.click("#upload-form button[type=submit]")
    tab.page.wait_for_load_state()
    assert "Ready to import" in tab.page.locator("#confirm").inner_text()
    rows = tab.page.locator("#rows-items tbody tr")
    assert rows.count() == 500
    assert rows.first.get_attribute("data-action") == "create"
    assert tab.page.locator("#rows-par_levels tbody tr").count() == 999
    tab.page.click("#confirm-form button[type=submit]")
    tab.page.wait_for_load_state()
    flash = tab.page.locator(".flash-success").inner_text()
    assert "500 created" in flash and "par levels: 999 created" in flash
    # The same files again: every row unchanged, nothing listed as a change.
    tab.page.set_input_files("#field-items-file", str(FIXTURES / "distributor_items.csv"))
    tab.page.click("#upload-form button[type=submit]")
    tab.page.wait_for_load_state()
    assert "500 unchanged" in tab.page.locator("#report-items").inner_text()
    assert tab.page.locator("#rows-items").count() == 0
    assert tab.csp_violations() == []
    assert [m for m in tab.console_errors if "status of 422" not in m] == []


def test_a_medical_assistant_sees_no_import(tab: Tab) -> None:
    tab.goto("/catalogue/import")
    tab.log_in("maria")
    assert "Not allowed" in tab.page.locator("main").inner_text()
    assert tab.page.locator("nav a[href='/catalogue/import']").count() == 0
