"""Every page, rendered as an admin on the demo clinic: no inline script, no inline event
handlers, no ``javascript:`` URLs, no inline style (the CSP allows none of them), and a
CSRF token in every POST form; and every page POST route refuses a post without the token.

The pages are found from the app's route table, so a new page (or a new form) is covered
without touching this file; a new path parameter needs a line in ``path_values``.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from equipment.models import HldDevice
from inventory import purchasing
from inventory.models import Item, ItemPackaging, Location, PurchaseOrder, StockLevel, Supplier
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role, User
from kernel.auth.service import create_user
from kernel.clock import ClinicTime
from kernel.db import Database
from kernel.settings import Settings
from sterilization.models import Cycle, Pack, Recall
from steristock.app import create_app, plugins
from tests.factories import UserFactory, page_login

NOT_PAGES = ("/api/", "/static/", "/schema", "/health")
PASSWORD = UserFactory.password


def page_routes(app: Litestar, method: str) -> list[str]:
    """Every page path (outside the API, static files, schema and health) served for
    `method`, straight from the route table."""
    paths = []
    for route in app.routes:
        if route.path.startswith(NOT_PAGES) or route.path == "/health":
            continue
        methods = set().union(*(h.http_methods for h in getattr(route, "route_handlers", [])))
        if method in methods:
            paths.append(route.path)
    return sorted(set(paths))


PARAM_RE = re.compile(r"\{(\w+):\w+\}")


def fill(path: str, values: dict[str, list[str]]) -> list[str]:
    """The path with each combination of the given values for its parameters (zipped:
    the n-th value of every parameter together). Values are looked up by the path's
    prefix and parameter ("/catalogue/locations/{code}") first, then by name ("code")."""
    prefix = PARAM_RE.split(path)[0]
    names = PARAM_RE.findall(path)
    chosen = {name: values.get(f"{prefix}{{{name}}}") or values.get(name) for name in names}
    missing = [name for name, found in chosen.items() if not found]
    assert not missing, f"{path}: add demo values for {missing} in path_values()"
    if not names:
        return [path]
    count = min(len(found or []) for found in chosen.values())
    filled = []
    for index in range(count):
        result = path
        for name in names:
            result = re.sub(r"\{" + name + r":\w+\}", (chosen[name] or [])[index], result)
        filled.append(result)
    return filled


def path_values(database: Database) -> dict[str, list[str]]:
    """Demo values for every page path parameter: one pack per state, one cycle per
    state, one purchase order per state, a few bins."""
    with database.session(write=False) as session:

        def one_per(column: Any, key: Any) -> list[str]:
            rows = session.execute(select(func.min(column)).group_by(key)).scalars()
            return [str(value) for value in rows if value is not None]

        bins = session.execute(
            select(Location.code, Item.sku)
            .select_from(StockLevel)
            .join(Location, Location.id == StockLevel.location_id)
            .join(Item, Item.id == StockLevel.item_id)
            .order_by(Location.code, Item.sku)
            .limit(3)
        ).all()
        return {
            "code": [*one_per(Pack.code, Pack.status), "PK-NOPE"],
            "cycle_id": [*one_per(Cycle.id, Cycle.status), "999999"],
            "recall_id": [*one_per(Recall.id, Recall.status), "999999"],
            "po_id": [*one_per(PurchaseOrder.id, PurchaseOrder.status), "999999"],
            "packaging_id": [
                *map(str, session.scalars(select(ItemPackaging.id).limit(2))),
                "999999",
            ],
            "location": [location for location, _ in bins],
            "/catalogue/locations/{code}": [*sorted({location for location, _ in bins}), "NOPE"],
            "supplier_id": [*one_per(Supplier.id, Supplier.name)[:3], "999999"],
            "sku": [sku.replace("/", "%2F") for _, sku in bins],
            "username": [*session.scalars(select(User.username).limit(3)), "nobody"],
            "webhook_id": ["999999"],
            "notification_id": ["999999"],
            "/d/{code}": [*session.scalars(select(HldDevice.code).limit(2)), "NOPE-1"],
            "log": ["equipment-tests", "hld-runs", "nope"],
            # No demo cycle has an attachment: the page answers 404 (never a 500).
            "attachment_id": ["1", "999999"],
        }


@pytest.fixture(scope="module")
def demo_database(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A SQLite copy of the migrated schema with the demo clinic and an admin (one per
    module: loading the demo takes seconds; the pages' HTML does not depend on the backend)."""
    target = tmp_path_factory.mktemp("demo") / "steristock.db"
    shutil.copyfile(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    with database.session() as session:
        create_user(session, actor="test", username="boss", role=Role.ADMIN, password=PASSWORD)
        for plugin in plugins():
            plugin.load_demo_data(session, actor="test")
    with database.session() as session:  # purchase orders: a draft and a submitted one
        drafts = purchasing.create_from_suggestions(
            session, actor="test", today=dt.date.today(), zone=ClinicTime(dt.UTC), supplier_id=None
        ).items
        purchasing.submit(session, actor="test", po_id=drafts[0].id)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def demo_app(demo_database: Database, tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    settings = Settings(
        DATABASE_URL=str(demo_database.engine.url),
        STERISTOCK_DATA_DIR=tmp_path_factory.mktemp("data"),
        STERISTOCK_SECRET_KEY="test-secret-key",
        STERISTOCK_TIMEZONE="America/Chicago",
    )
    return create_app(settings, demo_database)


@pytest.fixture(scope="module")
def admin(demo_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(demo_app) as client:
        assert page_login(client, "boss").status_code == 303
        yield client


class PageAudit(HTMLParser):
    """Collects what the CSP forbids, and the POST forms with or without a CSRF field."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.post_forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"inline handler {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name}= on <{tag}>")
        if tag == "form" and (attributes.get("method") or "get").lower() == "post":
            self._form = {"action": attributes.get("action"), "csrf": ""}
            self.post_forms.append(self._form)
        if tag == "input" and self._form is not None and attributes.get("name") == "_csrf_token":
            self._form["csrf"] = attributes.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def rendered_pages(
    admin: TestClient[Litestar], demo_app: Litestar, demo_database: Database
) -> dict[str, Any]:
    values = path_values(demo_database)
    pages: dict[str, Any] = {}
    for route in page_routes(demo_app, "GET"):
        for path in fill(route, values):
            pages[path] = admin.get(path, follow_redirects=False)
    for extra in ["/scan?code=junk", "/login", "/no-such-page", "/cycles/new?sterilizer=1"]:
        pages[extra] = admin.get(extra, follow_redirects=False)
    return pages


def test_every_page_route_is_rendered_without_a_server_error(rendered_pages: dict[str, Any]):
    assert len(rendered_pages) >= 20
    errors = {path: r.status_code for path, r in rendered_pages.items() if r.status_code >= 500}
    assert errors == {}
    # The demo values lead to real pages, not only to "not found".
    ok = [path for path, r in rendered_pages.items() if r.status_code == 200]
    assert any(path.startswith("/p/PK") for path in ok)
    assert any(path.startswith("/cycles/") and path[8:].isdigit() for path in ok)
    assert any(path.startswith("/b/") for path in ok)
    assert any(path.startswith("/purchasing/orders/") for path in ok)


def test_no_page_has_inline_script_handlers_javascript_urls_or_inline_style(
    rendered_pages: dict[str, Any],
) -> None:
    found = {}
    for path, response in rendered_pages.items():
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        problems = audit(response.text).problems
        if problems:
            found[path] = sorted(set(problems))
    assert found == {}


def test_every_post_form_on_every_page_carries_a_csrf_token(
    rendered_pages: dict[str, Any],
) -> None:
    forms = 0
    missing = []
    for path, response in rendered_pages.items():
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for form in audit(response.text).post_forms:
            forms += 1
            if len(form["csrf"]) < 20:
                missing.append(f"{path}: form to {form['action']}")
        # A GET form can't carry the token safely (it would land in URLs and logs).
    assert forms >= 5, "the crawl should meet the app's forms"
    assert missing == []


def test_every_page_post_route_refuses_a_post_without_the_csrf_token(
    admin: TestClient[Litestar], demo_app: Litestar, demo_database: Database
) -> None:
    def audit_count() -> int:
        with demo_database.session(write=False) as session:
            return session.scalar(select(func.count()).select_from(AuditEntry)) or 0

    values = path_values(demo_database)
    routes = page_routes(demo_app, "POST")
    assert "/logout" in routes and "/login" in routes
    before = audit_count()
    refused = {}
    for route in routes:
        for path in fill(route, values)[:2]:
            forged = {"username": "boss", "password": PASSWORD, "quantity": "1", "note": "x"}
            response = admin.post(path, data=forged, follow_redirects=False)
            refused[path] = response.status_code
            # A wrong token is as bad as none.
            response = admin.post(
                path, data={**forged, "_csrf_token": "forged"}, follow_redirects=False
            )
            refused[path + " (forged token)"] = response.status_code
    assert set(refused.values()) == {403}, refused
    assert audit_count() == before
    assert admin.get("/", follow_redirects=False).status_code == 200  # still logged in
