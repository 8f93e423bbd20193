"""The administrator's pages in a real browser (headless Chromium via Playwright, against
`steristock serve` with two workers, as in `test_pages_browser`): creating a user who
then logs in, and taking a sterilizer out of service, refused without a reason."""

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
    PASSWORD,
    Server,
    Tab,
    browser,  # noqa: F401 (a fixture)
    path_of,
    screenshot_dir,  # noqa: F401 (a fixture)
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An admin ("ada") and one steam sterilizer (AC-A) on a fresh SQLite database."""
    from sterilization import sterilizers

    workdir = tmp_path_factory.mktemp("admin-browser")
    url = f"sqlite:///{workdir / 'steristock.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        create_user(
            session, actor="test", username="ada", role=Role.ADMIN, password=PASSWORD,
            full_name="Ada Admin",
        )  # fmt: skip
        sterilizers.create_sterilizer(
            session, code="AC-A", name="Autoclave A", kind="steam_prevac", actor="test"
        )
    database.dispose()
    with live_server(url, workdir, workers=2, env=BROWSER_ENV) as live:
        yield Server(live.base_url, {"ada": PASSWORD})


def unexpected_errors(tab: Tab) -> list[str]:
    """Console errors besides Chromium's note on the refused form's 422 response."""
    return [m for m in tab.console_errors if "status of 422" not in m]


def new_tab(browser: Any, server: Server) -> tuple[Any, Tab]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # a desktop
    page = context.new_page()
    page.set_default_timeout(5000)
    tab = Tab(page, server.base_url)
    page.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    page.on("pageerror", lambda e: tab.console_errors.append(f"pageerror: {e}"))
    return context, tab


@pytest.fixture
def ada(browser: Any, server: Server) -> Iterator[Tab]:  # noqa: F811
    context, tab = new_tab(browser, server)
    tab.goto("/admin/users")
    tab.log_in("ada")
    assert path_of(tab) == "/admin/users"
    yield tab
    context.close()


def test_admin_creates_a_user_who_then_logs_in(
    ada: Tab,
    browser: Any,  # noqa: F811
    server: Server,
    screenshot_dir: Path,  # noqa: F811
) -> None:
    page = ada.page
    page.click("nav >> text=Users")
    page.wait_for_load_state()
    assert path_of(ada) == "/admin/users"
    form = page.locator("#create-user-form")
    form.locator("#field-username").fill("nina")
    form.locator("#field-full_name").fill("Nina Nurse")
    form.locator("#field-role").select_option("ma")
    form.locator("#field-password").fill("short")
    form.locator("#field-password_confirm").fill("short")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    # refused: the error next to the password, the other values still there
    assert page.locator("#field-password-error").inner_text() == "✖ At least 8 characters."
    assert page.locator("#field-username").input_value() == "nina"
    assert page.locator("#field-role").input_value() == "ma"
    assert page.locator("#field-password").input_value() == ""
    page.screenshot(path=str(screenshot_dir / "admin-user-refused.png"), full_page=True)
    page.locator("#field-password").fill("nina's long password")
    page.locator("#field-password_confirm").fill("nina's long password")
    page.locator("#create-user-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "Created user nina." in page.locator("[role=status]").inner_text()
    row = page.locator("#user-nina")
    assert "Nina Nurse" in row.inner_text() and "Medical assistant" in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "admin-users.png"), full_page=True)
    print(f"screenshots: {screenshot_dir}/admin-users.png")
    assert ada.csp_violations() == [] and unexpected_errors(ada) == []

    context, nina = new_tab(browser, server)
    try:
        nina.goto("/")
        nina.log_in("nina", "nina's long password")
        assert path_of(nina) == "/"
        assert nina.page.locator(".who-name").inner_text() == "Nina Nurse"
        assert nina.page.locator("nav >> text=Users").count() == 0
    finally:
        context.close()


def test_taking_a_sterilizer_out_of_service_needs_a_reason(
    ada: Tab,
    screenshot_dir: Path,  # noqa: F811
) -> None:
    page = ada.page
    page.click("nav >> text=Sterilizers")
    page.wait_for_load_state()
    assert path_of(ada) == "/admin/sterilizers"
    row = page.locator("#sterilizer-AC-A")
    assert "in service" in row.inner_text()
    row.locator("button[type=submit]").click()  # no reason
    page.wait_for_load_state()
    row = page.locator("#sterilizer-AC-A")
    assert "Say why" in page.locator("#reason-AC-A-error").inner_text()
    assert "in service" in row.inner_text() and "OUT OF SERVICE" not in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "admin-sterilizer-refused.png"), full_page=True)
    page.locator("#reason-AC-A").fill("Bowie-Dick sheet showed uneven colour")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "AC-A is now out of service." in page.locator("[role=status]").inner_text()
    row = page.locator("#sterilizer-AC-A")
    assert "OUT OF SERVICE" in row.inner_text()
    assert "Bowie-Dick sheet showed uneven colour" in row.inner_text()
    assert "Return to service" in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "admin-sterilizers.png"), full_page=True)
    assert ada.csp_violations() == [] and unexpected_errors(ada) == []
