"""The pages in a real browser: headless Chromium driven by Playwright, against
`steristock serve` (Granian, two workers, so sessions must not live in one process) on a
loopback port with a fresh SQLite database.

Skips cleanly where Chromium or Playwright is missing. Screenshots go to
``$STERISTOCK_SCREENSHOT_DIR`` (default: a pytest temp dir) and their paths are printed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kernel.auth.models import Role
from kernel.auth.service import create_user
from kernel.db import Database
from kernel.migrations import upgrade
from tests.live_server import live_server

CHROMIUM = os.environ.get("STERISTOCK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # A synthetic camera (a test pattern) and no permission prompt, for the camera test.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PASSWORD = "correct horse battery"
# The page servers run two workers: a session or form made on one must work on the other.
# The clinic's zone is UTC, so a test can type a local time into a form.
BROWSER_ENV = {"STERISTOCK_SECRET_KEY": "browser-test-secret", "STERISTOCK_TIMEZONE": "UTC"}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM}", allow_module_level=True)


@dataclass
class Server:
    base_url: str
    users: dict[str, str] = field(default_factory=dict)
    packs: list[str] = field(default_factory=list)  # sterile packs, one per test that uses one
    assembled: list[str] = field(default_factory=list)


def seed_domain_data(database: Database) -> tuple[list[str], list[str]]:
    """Through the domains' own functions: a sterilizer, sterile and assembled packs, and
    a bin (GLV/M at EXAM1) holding 5 boxes after 1 was used.
    Returns (sterile codes, assembled codes)."""
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from inventory import catalogue, ledger
    from inventory.schemas.catalogue import ItemCreate, LocationCreate, SupplierCreate
    from inventory.schemas.stock import ConsumeStock, ReceiveStock
    from kernel.clock import Clock
    from sterilization import cycles, packs, sterilizers
    from sterilization.shelf_life import ShelfLife

    clock = Clock(ZoneInfo("UTC"))
    now = clock.now()
    with database.session() as session:
        sterilizers.create_sterilizer(
            session, code="AC1", name="Autoclave 1", kind="steam_gravity", actor="test"
        )
        contents = [{"name": "Mirror", "quantity": 1}, {"name": "Explorer", "quantity": 1}]
        sterile = packs.create_packs(
            session, description="Exam kit", contents=contents, quantity=3, implant=False,
            actor="maria", now=now,
        )  # fmt: skip
        assembled = packs.create_packs(
            session, description="Suture kit", contents=contents, quantity=2, implant=False,
            actor="maria", now=now,
        )  # fmt: skip
        # Logged later: it ran 40 minutes (its 30 of exposure fit) and ended an hour ago,
        # so that a test can log another cycle on AC1 as started half an hour back.
        cycle, _ = cycles.start_cycle(
            session, sterilizer_code="AC1", cycle_type="gravity_121_30", pack_codes=sterile,
            bi_lot=None, implants=None, actor="maria", zone=clock.zone, now=now,
            started_at=now - dt.timedelta(minutes=100),
        )  # fmt: skip
        readings = {"temperature_c": 121.5, "exposure_minutes": 30.0,
                    "ended_at": now - dt.timedelta(minutes=60)}  # fmt: skip
        cycles.complete_cycle(
            session, cycle.id, data={"mechanical_ok": True, "chemical_ok": True, **readings},
            actor="maria", zone=clock.zone, shelf_life=ShelfLife(), now=now,
        )  # fmt: skip
        supplier = catalogue.create_supplier(
            session, actor="test", data=SupplierCreate(name="Medline")
        )
        catalogue.create_location(
            session, actor="test", data=LocationCreate(code="EXAM1", name="Exam 1")
        )
        catalogue.create_item(
            session, actor="test",
            data=ItemCreate(sku="GLV/M", name="Nitrile gloves M", unit="box",
                            supplier_id=supplier.id or 0, unit_cost=Decimal("7.50")),
        )  # fmt: skip
        catalogue.set_par_level(
            session, actor="test", sku="GLV/M", location_code="EXAM1", par_level=10,
            reorder_point=6,
        )  # fmt: skip
        ledger.record_movement(
            session, actor="maria", today=clock.today(),
            data=ReceiveStock(sku="GLV/M", location="EXAM1", quantity=6),
        )  # fmt: skip
        ledger.record_movement(  # some use, for the dashboard's chart
            session, actor="maria", today=clock.today(),
            data=ConsumeStock(sku="GLV/M", location="EXAM1", quantity=1),
        )  # fmt: skip
    return sterile, assembled


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{workdir / 'steristock.db'}"
    upgrade(url)
    database = Database(url)
    with database.session() as session:
        create_user(
            session, actor="test", username="maria", role=Role.MA, password=PASSWORD,
            full_name="Maria Lopez",
        )  # fmt: skip
    sterile, assembled = seed_domain_data(database)
    database.dispose()
    with live_server(url, workdir, workers=2, env=BROWSER_ENV) as live:
        yield Server(live.base_url, {"maria": PASSWORD}, sterile, assembled)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("STERISTOCK_SCREENSHOT_DIR")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Tab:
    """A page in a fresh browser context, with every console error and CSP report seen."""

    page: Any
    base_url: str
    console_errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def log_in(self, username: str = "maria", password: str = PASSWORD) -> None:
        self.page.fill("#field-username", username)
        self.page.fill("#field-password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def csp_violations(self) -> list[str]:
        return [m for m in self.console_errors if "Content Security Policy" in m]


@pytest.fixture
def tab(browser: Any, server: Server) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    page = context.new_page()
    page.set_default_timeout(5000)
    tab = Tab(page, server.base_url)
    page.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    page.on("pageerror", lambda e: tab.console_errors.append(f"pageerror: {e}"))
    yield tab
    context.close()


def path_of(tab: Tab) -> str:
    return tab.page.url.removeprefix(tab.base_url)


def test_login_sends_the_user_back_to_the_page_asked_for(tab: Tab) -> None:
    tab.goto("/scan")
    assert path_of(tab) == "/login?next=/scan"
    tab.log_in()
    assert path_of(tab) == "/scan"
    assert tab.page.locator(".who-name").inner_text() == "Maria Lopez"
    # The scan box has the focus, ready for a keyboard-wedge scanner.
    assert tab.page.evaluate("document.activeElement.id") == "scan-code"
    assert tab.csp_violations() == []
    assert tab.console_errors == []


def test_wrong_password_is_shown_on_the_login_page(tab: Tab) -> None:
    tab.goto("/")
    tab.log_in(password="not the password")
    assert path_of(tab).startswith("/login")
    assert "Wrong username or password." in tab.page.locator("[role=alert]").inner_text()
    assert tab.csp_violations() == []


def test_logout_makes_protected_pages_redirect_to_login(tab: Tab) -> None:
    tab.goto("/")
    tab.log_in()
    assert path_of(tab) == "/"
    tab.page.click("text=Log out")
    tab.page.wait_for_load_state()
    assert path_of(tab) == "/login"
    assert "You are logged out." in tab.page.content()
    tab.goto("/scan")
    assert path_of(tab) == "/login?next=/scan"


def test_scan_box_opens_a_pack_url_and_explains_garbage(
    tab: Tab, server: Server, screenshot_dir: Path
) -> None:
    tab.goto("/scan")
    tab.log_in()
    box = tab.page.locator("#scan-code")
    box.type("%%garbage%%")
    box.press("Enter")  # what a keyboard-wedge scanner sends after the code
    tab.page.wait_for_load_state()
    error = tab.page.locator("#scan-error").inner_text()
    assert "Not a pack, bin or product code" in error and "%%garbage%%" in error
    assert tab.page.evaluate("document.activeElement.id") == "scan-code"
    # Chromium on Linux has no BarcodeDetector: the camera UI stays hidden there.
    has_detector = tab.page.evaluate("'BarcodeDetector' in window")
    assert tab.page.locator("#camera").is_visible() == has_detector
    shot = screenshot_dir / "scan-768.png"
    tab.page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")

    box.type(f"{server.base_url}/p/PK-000123")
    box.press("Enter")
    tab.page.wait_for_url("**/p/PK-000123")
    assert path_of(tab) == "/p/PK-000123"
    assert tab.csp_violations() == []


def test_a_forged_form_without_csrf_token_is_refused(tab: Tab) -> None:
    tab.goto("/")
    tab.log_in()
    tab.page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/logout";
            document.body.appendChild(form);
            form.submit();
        }"""
    )
    tab.page.wait_for_load_state()
    assert "Not allowed" in tab.page.locator("h1").inner_text()
    tab.goto("/")
    assert path_of(tab) == "/"  # still logged in: the forged logout did nothing


def test_pages_render_for_a_tablet_without_csp_violations(tab: Tab, screenshot_dir: Path) -> None:
    tab.goto("/")
    shot = screenshot_dir / "login-768.png"
    tab.page.screenshot(path=str(shot), full_page=True)
    tab.log_in()
    for path, name in [("/", "home"), ("/scan", "scan-empty")]:
        tab.goto(path)
        target = screenshot_dir / f"{name}-768.png"
        tab.page.screenshot(path=str(target), full_page=True)
        print(f"screenshot: {target}")
        # Touch targets: every button and nav link is at least 44 px tall.
        for box in tab.page.locator("button:visible, .nav-link, .tile").all():
            height = box.bounding_box()["height"]
            assert height >= 44, f"{path}: {box.inner_text()!r} is {height}px tall"
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    tab.goto("/")
    tab.page.screenshot(path=str(screenshot_dir / "home-1280.png"), full_page=True)
    assert tab.csp_violations() == []
    assert tab.console_errors == []


def test_status_banner_and_components_read_well_on_a_tablet(tab: Tab, screenshot_dir: Path) -> None:
    from tests.kernel.test_pages import render_components

    tab.goto("/login")  # same origin, so the stylesheet loads
    tab.page.set_content(render_components())
    ok = tab.page.locator(".banner-ok")
    stop = tab.page.locator(".banner-stop")
    assert ok.inner_text().startswith("✔")
    assert "DO NOT USE" in stop.inner_text()
    width = tab.page.viewport_size["width"]
    assert ok.bounding_box()["width"] >= width - 60  # full width, less the page margins
    colours = tab.page.evaluate(
        "[...document.querySelectorAll('.banner')].map(e => getComputedStyle(e).backgroundColor)"
    )
    assert colours == ["rgb(10, 107, 42)", "rgb(179, 0, 27)"]
    shot = screenshot_dir / "components-768.png"
    tab.page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


# Chromium on Linux has no BarcodeDetector; this stand-in "sees" a pack label on the third
# frame, so the camera flow of scan.js runs for real against the fake camera stream.
FAKE_BARCODE_DETECTOR = """
window.BarcodeDetector = class {
  static getSupportedFormats() { return Promise.resolve(["qr_code", "ean_13", "aztec"]); }
  constructor(options) { window.__detectorFormats = options.formats; this.frames = 0; }
  detect(source) {
    if (!(source instanceof HTMLVideoElement) || source.readyState < 2) {
      return Promise.reject(new DOMException("not ready", "InvalidStateError"));
    }
    this.frames += 1;
    const found = [{ rawValue: location.origin + "/p/PK-000777", format: "qr_code" }];
    return Promise.resolve(this.frames < 3 ? [] : found);
  }
};
"""


def test_camera_scanning_opens_the_pack_where_barcode_detector_exists(tab: Tab) -> None:
    tab.page.context.grant_permissions(["camera"], origin=tab.base_url)
    tab.page.add_init_script(FAKE_BARCODE_DETECTOR)
    tab.goto("/scan")
    tab.log_in()
    assert tab.page.locator("#camera").is_visible()
    assert tab.page.evaluate("window.__detectorFormats") == ["qr_code", "ean_13"]
    tab.page.click("#camera-start")
    tab.page.wait_for_url("**/p/PK-000777")
    assert tab.csp_violations() == []


# Domain pages ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def maria_state(browser: Any, server: Server) -> Any:
    """Maria's logged-in browser state, so each domain test skips the (argon2) login."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.base_url + "/login")
    tab = Tab(page, server.base_url)
    tab.log_in()
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def maria(browser: Any, server: Server, maria_state: Any) -> Iterator[Tab]:
    context = browser.new_context(
        viewport={"width": 768, "height": 1024}, storage_state=maria_state
    )
    page = context.new_page()
    page.set_default_timeout(5000)
    tab = Tab(page, server.base_url)
    page.on("console", lambda m: m.type == "error" and tab.console_errors.append(m.text))
    page.on("pageerror", lambda e: tab.console_errors.append(f"pageerror: {e}"))
    yield tab
    context.close()


def shoot(tab: Tab, screenshot_dir: Path, name: str) -> None:
    width = tab.page.viewport_size["width"]
    shot = screenshot_dir / f"{name}-{width}.png"
    tab.page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")


def test_scanned_usable_pack_is_green_then_red_already_used_after_recording_use(
    maria: Tab, server: Server, screenshot_dir: Path
) -> None:
    code = server.packs[0]
    maria.goto("/scan")
    box = maria.page.locator("#scan-code")
    box.type(f"{server.base_url}/p/{code}")
    box.press("Enter")
    maria.page.wait_for_url(f"**/p/{code}")
    banner = maria.page.locator(".banner")
    assert "OK TO USE" in banner.inner_text()
    assert "banner-ok" in banner.get_attribute("class")
    assert banner.bounding_box()["width"] >= 768 - 60
    shoot(maria, screenshot_dir, "pack-ok")
    maria.page.fill("#field-encounter_ref", "ENC-2041")
    maria.page.click("#use-form button[type=submit]")
    maria.page.wait_for_load_state()
    banner = maria.page.locator(".banner")
    assert "DO NOT USE" in banner.inner_text()
    assert "already used on encounter ENC-2041" in banner.inner_text()
    assert "banner-stop" in banner.get_attribute("class")
    assert "Recorded: pack" in maria.page.locator(".flash-success").inner_text()
    shoot(maria, screenshot_dir, "pack-used")
    assert maria.csp_violations() == []
    assert maria.console_errors == []


def test_taking_from_a_bin_lowers_on_hand(maria: Tab, screenshot_dir: Path) -> None:
    maria.goto("/b/EXAM1/GLV%2FM")
    assert maria.page.locator("#on-hand").inner_text() == "5"
    shoot(maria, screenshot_dir, "bin")
    maria.page.click("#take1-form button")
    maria.page.wait_for_load_state()
    assert maria.page.locator("#on-hand").inner_text() == "4"
    assert "Took 1 box" in maria.page.locator(".flash-success").inner_text()
    maria.page.fill("#take-quantity", "9")
    maria.page.click("#take-form button")
    maria.page.wait_for_load_state()
    assert "cannot take 9" in maria.page.locator("#action-error").inner_text()
    assert maria.page.locator("#on-hand").inner_text() == "4"
    assert maria.csp_violations() == []
    # The refusal is a 409 page, which Chromium logs; nothing else may be.
    assert [m for m in maria.console_errors if "status of 409" not in m] == []


def test_start_and_complete_a_cycle(maria: Tab, server: Server, screenshot_dir: Path) -> None:
    maria.goto("/cycles/new")
    maria.page.check("input[name=sterilizer][value=AC1]")
    maria.page.select_option("#field-cycle_type", "gravity_121_30")
    maria.page.check(f"input[name=pack][value={server.assembled[0]}]")
    maria.page.fill("#field-codes", server.assembled[1])
    # Logged after the fact: it started 35 minutes ago (the clinic's zone is UTC), so its
    # 30 minutes of exposure fit before now.
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=35)
    maria.page.fill("#field-started_at", started.strftime("%Y-%m-%dT%H:%M"))
    shoot(maria, screenshot_dir, "cycle-new")
    maria.page.click("#start-form button[type=submit]")
    maria.page.wait_for_url("**/cycles/*")
    assert "started with 2 packs" in maria.page.locator(".flash").first.inner_text()
    maria.page.fill("#field-temperature_c", "121.4")
    maria.page.fill("#field-exposure_minutes", "30")
    maria.page.check("input[name=mechanical][value=pass]")
    maria.page.check("input[name=chemical][value=pass]")
    shoot(maria, screenshot_dir, "cycle-complete")
    maria.page.click("#complete-form button[type=submit]")
    maria.page.wait_for_load_state()
    assert "its packs are sterile" in maria.page.locator(".flash-success").inner_text()
    assert "passed" in maria.page.locator("#cycle-status").inner_text()
    assert maria.csp_violations() == []


def test_domain_pages_read_well_on_both_tablet_sizes(maria: Tab, screenshot_dir: Path) -> None:
    pages = [("/", "dashboard"), ("/cycles", "cycles")]
    for width, height in ((768, 1024), (1280, 800)):
        maria.page.set_viewport_size({"width": width, "height": height})
        for path, name in pages:
            maria.goto(path)
            if path == "/":  # the usage chart: SVG drawn on the server, loaded by htmx
                maria.page.wait_for_selector("svg.chart .chart-bar")
            shoot(maria, screenshot_dir, name)
            for box in maria.page.locator("button:visible, .nav-link, .btn:visible").all():
                tall = box.bounding_box()["height"]
                assert tall >= 44, f"{path}: {box.inner_text()!r} is {tall}px tall"
            # Nothing wider than the screen (no sideways scrolling with gloves).
            assert maria.page.evaluate("document.documentElement.scrollWidth") <= width
    assert maria.csp_violations() == []
    assert maria.console_errors == []


# Swagger UI 5 virtualizes a long list of operations (150 rows of tags and operations or
# more): only those near the viewport are in the DOM. This scrolls the page from the top to
# the bottom, half a screen at a time, and returns the id of every operation block that
# was rendered on the way; or, given an id, stops where that block is rendered.
SWAGGER_SCROLL = """async (wanted) => {
  const seen = new Set();
  const paint = (done) => requestAnimationFrame(() => requestAnimationFrame(done));
  const frame = () => new Promise(paint);
  const look = () => document.querySelectorAll(".opblock").forEach((block) => seen.add(block.id));
  window.scrollTo(0, 0);
  await frame();
  for (;;) {
    look();
    if (wanted && seen.has(wanted)) break;
    const before = window.scrollY;
    window.scrollBy(0, window.innerHeight / 2);
    await frame();
    if (window.scrollY === before) break;
  }
  look();
  return [...seen];
}"""


def test_swagger_ui_renders_every_operation_with_problem_responses(tab: Tab) -> None:
    """The interactive API docs at /schema load their vendored assets and the schema."""
    tab.page.set_default_timeout(30000)  # a 1.5 MB bundle, on a busy CI box
    tab.goto("/schema")
    tab.page.wait_for_selector(".opblock")
    schema = tab.page.request.get(tab.base_url + "/schema/openapi.json").json()
    tagged = [
        f"operations-{tag.replace(' ', '_')}-{operation['operationId']}"
        for item in schema["paths"].values() for key, operation in item.items()
        if key in ("get", "post", "put", "patch", "delete") for tag in operation["tags"]
    ]  # fmt: skip
    # (an operation with two tags is listed under both)
    rendered = tab.page.evaluate(SWAGGER_SCROLL, None)
    assert len(tagged) > 50
    assert set(tagged) <= set(rendered), sorted(set(tagged) - set(rendered))
    add_item_id = schema["paths"]["/api/v1/items"]["post"]["operationId"]
    tab.page.evaluate(SWAGGER_SCROLL, f"operations-inventory-{add_item_id}")
    add_item = tab.page.locator(f"#operations-inventory-{add_item_id}")
    add_item.locator(".opblock-summary").click()
    add_item.locator('tr.response[data-code="201"]').wait_for()
    for status in ("401", "403", "409", "422"):
        row = add_item.locator(f'tr.response[data-code="{status}"]')
        assert row.locator('option[value="application/problem+json"]').count() == 1, status
    loaded = "() => Object.keys(window.ui.specSelectors.specJson().toJS().components.schemas)"
    assert "ProblemDetails" in tab.page.evaluate(loaded)  # the model list renders lazily
    assert tab.csp_violations() == []
    assert tab.console_errors == []
