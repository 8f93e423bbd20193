"""The strict CSP in a real browser: headless Chromium loads /schema (the Swagger UI must
render the API's operations with no inline script allowed) and the pages, and reports no
CSP violation. Skips cleanly where Chromium or Playwright is missing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kernel.auth.models import Role
from kernel.auth.service import create_user
from kernel.db import Database
from kernel.migrations import upgrade
from tests.live_server import LiveServer, live_server
from tests.test_pages_browser import SWAGGER_SCROLL

CHROMIUM = os.environ.get("STERISTOCK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)

# Every violation the page sees, recorded by the browser itself (not only console text).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("csp")
    url = f"sqlite:///{workdir / 'steristock.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        create_user(session, actor="test", username="boss", role=Role.ADMIN, password=PASSWORD)
    database.dispose()
    with live_server(url, workdir, env={"STERISTOCK_SECRET_KEY": "csp-test-secret"}) as running:
        yield running


@pytest.fixture
def page(server: LiveServer) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1024, "height": 900})
        context.add_init_script(RECORD_VIOLATIONS)
        tab = context.new_page()
        tab.set_default_timeout(15000)
        tab.console_errors = []
        tab.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
        tab.on("pageerror", lambda e: tab.console_errors.append(f"pageerror: {e}"))
        yield tab
        browser.close()


def violations(page: Any) -> list[str]:
    return page.evaluate("window.__cspViolations") + [
        m for m in page.console_errors if "Content Security Policy" in m
    ]


def test_swagger_ui_renders_the_operations_under_the_strict_csp(
    page: Any, server: LiveServer
) -> None:
    response = page.goto(server.base_url + "/schema")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock", state="attached")
    assert page.locator(".opblock-summary-path", has_text="/api/v1/auth/token").count() >= 1
    assert "SteriStock API" in page.locator(".info .title").inner_text()
    page.locator(".opblock-summary", has_text="/api/v1/users/me").first.click()
    page.wait_for_selector(".opblock.is-open")
    # The long list is virtualized: the operations render as the page scrolls to them.
    operations = len(page.evaluate(SWAGGER_SCROLL, None))
    assert operations >= 20, f"only {operations} operations rendered"
    assert violations(page) == []
    assert page.console_errors == []


def test_pages_load_without_csp_violations(page: Any, server: LiveServer) -> None:
    page.goto(server.base_url + "/login")
    page.fill("#field-username", "boss")
    page.fill("#field-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    for path in ["/", "/scan", "/cycles", "/cycles/new", "/purchasing", "/compliance"]:
        response = page.goto(server.base_url + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    assert violations(page) == []
    assert page.console_errors == []
