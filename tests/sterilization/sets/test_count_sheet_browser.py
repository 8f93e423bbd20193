"""The count sheet in a real browser (Chromium, as tests/test_pages_browser.py): the MA
scans the tray's QR into the scan box, the count sheet opens, minus / + / ✓ buttons large
enough for gloved fingers count the tray, a short count is refused listing what is
missing, and "Accept short" with a reason wraps it; the pack page then says SHORT."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.auth.models import Role
from kernel.auth.service import create_user
from kernel.db import Database
from kernel.migrations import upgrade
from tests import test_pages_browser as pages_browser
from tests.live_server import live_server
from tests.test_pages_browser import BROWSER_ENV, PASSWORD, Server, Tab, path_of

# The page tests' Chromium and tabs (fixtures), with this module's own server.
browser = pages_browser.browser
tab = pages_browser.tab
screenshot_dir = pages_browser.screenshot_dir

# A gloved fingertip needs a target of about 9 mm; 48 CSS px is the usual floor.
GLOVED_TARGET_PX = 48


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from sterilization.sets import assets, instruments, templates

    workdir = tmp_path_factory.mktemp("count-sheet")
    url = f"sqlite:///{workdir / 'steristock.db'}"
    upgrade(url)
    database = Database(url)
    now = dt.datetime.now(dt.UTC)
    with database.session() as session:
        create_user(
            session, actor="test", username="maria", role=Role.MA, password=PASSWORD,
            full_name="Maria Lopez",
        )  # fmt: skip
        for code, name in [
            ("NH", "Needle holder"),
            ("FC", "Adson forceps"),
            ("SC", "Iris scissors"),
        ]:
            instruments.create_instrument(
                session, code=code, name=name, manufacturer=None, catalog_number=None,
                actor="test",
            )  # fmt: skip
        templates.create_template(
            session, code="SUTURE", name="Suture kit", packaging="wrap", shelf_life_days=30,
            items=[("NH", 1), ("FC", 2), ("SC", 1)], actor="test", now=now,
        )  # fmt: skip
        trays = [assets.create_set(session, template="SUTURE", actor="test", now=now).code
                 for _ in range(2)]  # fmt: skip
    database.dispose()
    with live_server(url, workdir, workers=1, env=BROWSER_ENV) as live:
        yield Server(live.base_url, {"maria": PASSWORD}, packs=trays)


def scan_tray(tab: Tab, server: Server, tray: str) -> None:
    tab.goto("/scan")
    tab.log_in()
    box = tab.page.locator("#scan-code")
    box.type(f"{server.base_url}/s/{tray}")
    box.press("Enter")  # what the scanner sends after the code
    tab.page.wait_for_url(f"**/s/{tray}")


def test_scanning_the_tray_opens_a_count_sheet_with_gloved_size_buttons(
    tab: Tab,
    server: Server,
    screenshot_dir: Path,
) -> None:
    tray = server.packs[0]
    scan_tray(tab, server, tray)
    page = tab.page
    assert page.locator("#count-sheet").is_visible()
    rows = page.locator(".count-row")
    assert rows.count() == 3
    for selector in (".count-plus", ".count-minus", ".count-all"):
        box = rows.nth(1).locator(selector).bounding_box()
        assert box["height"] >= GLOVED_TARGET_PX and box["width"] >= GLOVED_TARGET_PX, box
    row_box = rows.nth(0).bounding_box()
    assert row_box["height"] >= 64
    # + on a row counts one, and never past the sheet; minus back down; ✓ takes the sheet's.
    forceps = rows.nth(1)
    forceps.locator(".count-plus").click()
    assert forceps.locator(".count-input").input_value() == "1"
    forceps.locator(".count-plus").click()
    forceps.locator(".count-plus").click()
    assert forceps.locator(".count-input").input_value() == "2"
    forceps.locator(".count-minus").click()
    assert forceps.locator(".count-input").input_value() == "1"
    rows.nth(0).locator(".count-all").click()
    rows.nth(2).locator(".count-plus").click()
    assert "Still missing: 1 \u00d7 Adson forceps" in page.locator("#count-summary").inner_text()
    page.screenshot(path=str(screenshot_dir / "count-sheet-768.png"), full_page=True)
    assert tab.csp_violations() == [] and tab.console_errors == []

    # Wrapping it short without accepting: refused, listing what is missing.
    page.get_by_role("button", name="✔ Wrap it: make the pack").click()
    page.wait_for_load_state()
    assert "SHORT: 1 \u00d7 Adson forceps" in page.locator("#count-error").inner_text()
    assert page.locator("#count-1").input_value() == "1"  # what was counted stays

    # Accept short with a reason (the section is open after a short count).
    assert page.locator("#accept-short").is_visible()
    page.locator("#accept-short").check()
    page.fill("#field-short_reason", "second Adson sent for repair")
    page.get_by_role("button", name="✔ Wrap it: make the pack").click()
    page.wait_for_url("**/p/PK-*")
    assert "SHORT: 1 \u00d7 Adson forceps missing" in page.locator("#pack-short").inner_text()
    assert "second Adson sent for repair" in page.content()
    assert path_of(tab).startswith("/p/PK-")


def test_a_full_count_with_the_tick_buttons_wraps_the_tray(tab: Tab, server: Server) -> None:
    tray = server.packs[1]
    scan_tray(tab, server, tray)
    page = tab.page
    for tick in page.locator(".count-all").all():
        tick.click()
    assert "All counted" in page.locator("#count-summary").inner_text()
    page.get_by_role("button", name="✔ Wrap it: make the pack").click()
    page.wait_for_url("**/p/PK-*")
    assert page.locator("#pack-short").count() == 0
    assert "Suture kit" in page.content()
    back = tab.goto(f"/s/{tray}")
    assert back.status == 200
    assert page.locator("#count-sheet").count() == 0  # in a live pack now
    assert tab.csp_violations() == []
