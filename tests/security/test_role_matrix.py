"""Who may call what: one row per route of the app (API, pages, static, health, schema).

The table is checked against the app's own route table: a route with no row here (or a
row for a route that no longer exists) fails `test_every_route_has_a_row`, naming the
(method, path) pairs. Adding a route means adding one line below.

For every row, as anonymous and as each role:
- API: anonymous -> 401, a role not listed -> 403, a listed role -> anything but 401/403
  (and never a 5xx);
- pages: anonymous -> 303 to /login?next=..., a role not listed -> 403, a listed role -> neither;
- public routes: nobody is refused.
The requests are minimal (empty bodies, ids that do not exist), so an allowed call fails
validation or finds nothing, and nothing heavy is written. Guards do not depend on the
database, so the matrix runs on SQLite only.

Role rules (SPEC section 3): admin everything; ma reads inventory, moves stock, and does
everything on packs, cycles and indicator results; purchasing reads inventory and keeps
items, suppliers, locations, par levels, purchase orders, reorder and receiving; auditor
reads everything and writes nothing. Users, sterilizers, cycle types and recall decisions
are admin's; the audit trail and the compliance pages are for auditors (and admin).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from kernel.auth.models import Role
from kernel.db import Database
from kernel.settings import Settings
from steristock.app import create_app
from tests.factories import UserFactory, csrf_token_from, page_login

A, P, M, U = "admin", "purchasing", "ma", "auditor"
ROLES = (A, P, M, U)


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] | None  # None: public, nobody is refused
    fresh_login: bool = False  # the call ends the caller's session (logout)


def only(*roles: str, fresh_login: bool = False) -> Rule:
    """The roles besides admin (who may do everything) that may call a route."""
    return Rule(frozenset({A, *roles}), fresh_login)


PUBLIC = Rule(None)
ADMIN = only()
EVERYONE = only(P, M, U)
INVENTORY = only(P)  # catalogue, par levels, purchase orders, reorder
STOCK = only(P, M)  # stock movements (purchasing: receiving only, checked per kind)
STERILE = only(M)  # packs, cycles, indicator results
AUDIT = only(U)

ROUTES: dict[tuple[str, str], Rule] = {
    # shell: health, auth, users, audit, scan, schema, static
    ("GET", "/health"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): only(P, M, U, fresh_login=True),
    ("GET", "/api/v1/users"): ADMIN,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/me"): EVERYONE,
    ("PATCH", "/api/v1/users/{username}"): ADMIN,
    ("POST", "/api/v1/users/{username}/competencies"): ADMIN,
    ("GET", "/api/v1/users/{username}/competencies"): AUDIT,
    ("GET", "/api/v1/notifications"): EVERYONE,
    ("POST", "/api/v1/notifications/{notification_id}/read"): EVERYONE,
    ("GET", "/api/v1/users/me/notification-preferences"): EVERYONE,
    ("PUT", "/api/v1/users/me/notification-preferences"): EVERYONE,
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): ADMIN,
    ("GET", "/api/v1/sites"): ADMIN,
    ("POST", "/api/v1/sites"): ADMIN,
    ("GET", "/api/v1/sites/{code}"): ADMIN,
    ("GET", "/api/v1/audit"): AUDIT,
    ("GET", "/api/v1/audit/verify"): AUDIT,
    ("GET", "/api/v1/audit.csv"): AUDIT,
    ("GET", "/api/v1/scan"): EVERYONE,
    ("GET", "/schema"): PUBLIC,
    ("GET", "/schema/{path}"): PUBLIC,
    ("GET", "/schema/openapi.json"): PUBLIC,
    ("GET", "/static/swagger/{file_path}"): PUBLIC,
    ("GET", "/static/{file_path}"): PUBLIC,
    # inventory API
    ("GET", "/api/v1/suppliers"): EVERYONE,
    ("POST", "/api/v1/suppliers"): INVENTORY,
    ("GET", "/api/v1/suppliers/{supplier_id}"): EVERYONE,
    ("PATCH", "/api/v1/suppliers/{supplier_id}"): INVENTORY,
    ("GET", "/api/v1/locations"): EVERYONE,
    ("POST", "/api/v1/locations"): INVENTORY,
    ("GET", "/api/v1/locations/{code}"): EVERYONE,
    ("PATCH", "/api/v1/locations/{code}"): INVENTORY,
    ("GET", "/api/v1/items"): EVERYONE,
    ("POST", "/api/v1/items"): INVENTORY,
    ("GET", "/api/v1/items/{sku}"): EVERYONE,
    ("PATCH", "/api/v1/items/{sku}"): INVENTORY,
    ("PUT", "/api/v1/items/{sku}/par-levels/{location_code}"): INVENTORY,
    ("GET", "/api/v1/items/{sku}/par-levels/{location_code}"): EVERYONE,
    ("GET", "/api/v1/items/{sku}/packagings"): EVERYONE,
    ("POST", "/api/v1/items/{sku}/packagings"): INVENTORY,
    ("GET", "/api/v1/items/{sku}/packagings/{packaging_id}"): EVERYONE,
    ("PATCH", "/api/v1/items/{sku}/packagings/{packaging_id}"): INVENTORY,
    ("DELETE", "/api/v1/items/{sku}/packagings/{packaging_id}"): INVENTORY,
    ("GET", "/api/v1/suppliers/{supplier_id}/order-format"): EVERYONE,
    ("PUT", "/api/v1/suppliers/{supplier_id}/order-format"): INVENTORY,
    ("DELETE", "/api/v1/suppliers/{supplier_id}/order-format"): INVENTORY,
    ("GET", "/api/v1/stock"): EVERYONE,
    ("GET", "/api/v1/stock/expiring"): EVERYONE,
    ("GET", "/api/v1/stock/movements"): EVERYONE,
    ("GET", "/api/v1/stock/movements/{movement_id}"): EVERYONE,
    ("POST", "/api/v1/stock/movements"): STOCK,
    ("POST", "/api/v1/stock/receive-barcode"): STOCK,
    ("GET", "/api/v1/stock/restock"): EVERYONE,
    ("POST", "/api/v1/stock/restock"): only(M),
    ("GET", "/api/v1/labels/bins.pdf"): EVERYONE,
    ("GET", "/api/v1/reorder/par-review"): EVERYONE,
    ("GET", "/api/v1/reorder/suggestions"): EVERYONE,
    ("GET", "/api/v1/reorder/suggestions.csv"): EVERYONE,
    ("GET", "/api/v1/purchase-orders"): EVERYONE,
    ("POST", "/api/v1/purchase-orders"): INVENTORY,
    ("POST", "/api/v1/purchase-orders/from-suggestions"): INVENTORY,
    ("GET", "/api/v1/purchase-orders/{po_id}"): EVERYONE,
    ("GET", "/api/v1/purchase-orders/{po_id}/pdf"): EVERYONE,
    ("POST", "/api/v1/purchase-orders/{po_id}/submit"): INVENTORY,
    ("POST", "/api/v1/purchase-orders/{po_id}/send"): INVENTORY,
    ("POST", "/api/v1/purchase-orders/{po_id}/receive"): INVENTORY,
    ("POST", "/api/v1/purchase-orders/{po_id}/cancel"): INVENTORY,
    # sterilization API
    ("GET", "/api/v1/sterilizers"): EVERYONE,
    ("POST", "/api/v1/sterilizers"): ADMIN,
    ("GET", "/api/v1/sterilizers/{code}"): EVERYONE,
    ("PATCH", "/api/v1/sterilizers/{code}"): ADMIN,
    ("GET", "/api/v1/cycle-types"): EVERYONE,
    ("POST", "/api/v1/cycle-types"): ADMIN,
    # instrument sets (sterilization/sets): MAs keep the count sheets and trays
    ("GET", "/api/v1/instruments"): EVERYONE,
    ("POST", "/api/v1/instruments"): STERILE,
    ("GET", "/api/v1/instruments/{code}"): EVERYONE,
    ("GET", "/api/v1/set-templates"): EVERYONE,
    ("POST", "/api/v1/set-templates"): STERILE,
    ("GET", "/api/v1/set-templates/{code}"): EVERYONE,
    ("PUT", "/api/v1/set-templates/{code}"): STERILE,
    ("GET", "/api/v1/set-templates/{code}/versions"): EVERYONE,
    ("GET", "/api/v1/set-templates/{code}/versions/{version}"): EVERYONE,
    ("GET", "/api/v1/sets"): EVERYONE,
    ("POST", "/api/v1/sets"): STERILE,
    ("GET", "/api/v1/sets/{code}"): EVERYONE,
    ("GET", "/api/v1/sets/{code}/encounters"): EVERYONE,
    ("GET", "/api/v1/sets/{code}/label.png"): EVERYONE,
    ("GET", "/api/v1/sets/{code}/label.svg"): EVERYONE,
    ("GET", "/api/v1/set-templates/{code}/photo"): EVERYONE,
    ("PUT", "/api/v1/set-templates/{code}/photo"): STERILE,
    ("GET", "/api/v1/packs"): EVERYONE,
    ("POST", "/api/v1/packs"): STERILE,
    ("GET", "/api/v1/packs/{code}"): EVERYONE,
    ("DELETE", "/api/v1/packs/{code}"): EVERYONE,  # 405 for everyone: never deleted
    ("GET", "/api/v1/packs/{code}/history"): EVERYONE,
    ("POST", "/api/v1/packs/{code}/use"): STERILE,
    ("POST", "/api/v1/packs/{code}/compromise"): STERILE,
    ("POST", "/api/v1/packs/{code}/transfer"): STERILE,
    ("GET", "/api/v1/packs/{code}/label.png"): EVERYONE,
    ("GET", "/api/v1/packs/{code}/label.svg"): EVERYONE,
    ("GET", "/api/v1/labels/packs.pdf"): EVERYONE,
    ("GET", "/api/v1/cycles"): EVERYONE,
    ("POST", "/api/v1/cycles"): STERILE,
    ("GET", "/api/v1/cycles/{cycle_id}"): EVERYONE,
    ("DELETE", "/api/v1/cycles/{cycle_id}"): EVERYONE,  # 405 for everyone: never deleted
    ("POST", "/api/v1/cycles/{cycle_id}/complete"): STERILE,
    ("POST", "/api/v1/cycles/{cycle_id}/bi-result"): STERILE,
    ("POST", "/api/v1/cycles/{cycle_id}/early-release"): STERILE,
    ("GET", "/api/v1/bi-products"): EVERYONE,
    ("POST", "/api/v1/bi-products"): ADMIN,
    ("GET", "/api/v1/bi-products/{code}"): EVERYONE,
    ("POST", "/api/v1/cycles/{cycle_id}/amendments"): STERILE,
    ("POST", "/api/v1/cycles/{cycle_id}/attachments"): STERILE,
    ("POST", "/api/v1/cycle-records"): STERILE,
    ("GET", "/api/v1/cycles/{cycle_id}/attachments"): EVERYONE,
    ("GET", "/api/v1/cycles/{cycle_id}/attachments/{attachment_id}"): EVERYONE,
    # 405 for everyone: never deleted
    ("DELETE", "/api/v1/cycles/{cycle_id}/attachments/{attachment_id}"): EVERYONE,
    ("GET", "/api/v1/recalls"): EVERYONE,
    ("GET", "/api/v1/recalls/{recall_id}"): EVERYONE,
    ("POST", "/api/v1/recalls/{recall_id}/resolve"): ADMIN,
    ("GET", "/api/v1/encounters/{ref}/packs"): EVERYONE,
    ("GET", "/api/v1/sterilization/compliance"): EVERYONE,
    ("GET", "/api/v1/sterilization/log.csv"): EVERYONE,
    ("GET", "/api/v1/sterilization/log.pdf"): EVERYONE,
    # equipment API
    ("GET", "/api/v1/equipment"): EVERYONE,
    ("POST", "/api/v1/equipment"): ADMIN,
    ("GET", "/api/v1/equipment/{code}"): EVERYONE,
    ("PATCH", "/api/v1/equipment/{code}"): ADMIN,
    ("GET", "/api/v1/equipment/{code}/runs"): EVERYONE,
    ("POST", "/api/v1/equipment/{code}/runs"): STERILE,
    ("GET", "/api/v1/equipment/{code}/tests"): EVERYONE,
    ("POST", "/api/v1/equipment/{code}/tests"): STERILE,
    ("GET", "/api/v1/equipment/{code}/missed-tests"): EVERYONE,
    ("GET", "/api/v1/maintenance"): EVERYONE,
    ("POST", "/api/v1/maintenance"): STERILE,
    ("GET", "/api/v1/maintenance/due"): EVERYONE,
    ("GET", "/api/v1/maintenance/{record_id}"): EVERYONE,
    ("GET", "/api/v1/hld-devices"): EVERYONE,
    ("POST", "/api/v1/hld-devices"): ADMIN,
    ("GET", "/api/v1/hld-devices/{code}"): EVERYONE,
    ("GET", "/api/v1/hld-devices/{code}/runs"): EVERYONE,
    ("POST", "/api/v1/hld-devices/{code}/runs"): STERILE,
    ("GET", "/api/v1/hld-devices/{code}/runs/{run_id}"): EVERYONE,
    ("POST", "/api/v1/hld-devices/{code}/use"): STERILE,
    ("GET", "/api/v1/hld-devices/{code}/uses"): EVERYONE,
    ("GET", "/api/v1/encounters/{ref}/devices"): EVERYONE,
    ("GET", "/api/v1/equipment/tests.csv"): EVERYONE,
    ("GET", "/api/v1/equipment/runs.csv"): EVERYONE,
    ("GET", "/api/v1/maintenance.csv"): EVERYONE,
    ("GET", "/api/v1/hld-devices/runs.csv"): EVERYONE,
    ("GET", "/api/v1/hld-devices/uses.csv"): EVERYONE,
    # pages
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): only(P, M, U, fresh_login=True),
    ("GET", "/"): EVERYONE,
    ("GET", "/dashboard/usage"): EVERYONE,
    ("GET", "/scan"): EVERYONE,
    ("GET", "/b/{location}/{sku}"): EVERYONE,
    ("POST", "/b/{location}/{sku}"): STOCK,
    ("GET", "/purchasing/orders"): EVERYONE,
    ("GET", "/purchasing/orders/new"): INVENTORY,
    ("POST", "/purchasing/orders"): INVENTORY,
    # catalogue pages (desktop) and the catalogue import
    ("GET", "/api/v1/items.csv"): EVERYONE,
    ("GET", "/api/v1/par-levels.csv"): EVERYONE,
    ("POST", "/api/v1/items/import"): INVENTORY,
    ("POST", "/api/v1/par-levels/import"): INVENTORY,
    ("POST", "/api/v1/packagings/import"): INVENTORY,
    ("GET", "/api/v1/packagings.csv"): EVERYONE,
    ("GET", "/catalogue/import"): INVENTORY,
    ("POST", "/catalogue/import"): INVENTORY,
    ("POST", "/catalogue/import/confirm"): INVENTORY,
    ("GET", "/catalogue/import/items.csv"): INVENTORY,
    ("GET", "/catalogue/import/par-levels.csv"): INVENTORY,
    ("GET", "/catalogue/import/packagings.csv"): INVENTORY,
    ("POST", "/catalogue/packagings"): INVENTORY,
    ("POST", "/catalogue/packagings/{packaging_id}/remove"): INVENTORY,
    ("GET", "/catalogue/items"): EVERYONE,
    ("GET", "/catalogue/items/new"): INVENTORY,
    ("POST", "/catalogue/items/new"): INVENTORY,
    ("GET", "/catalogue/items/{sku}"): EVERYONE,
    ("POST", "/catalogue/items/{sku}"): INVENTORY,
    ("GET", "/catalogue/par-levels"): EVERYONE,
    ("POST", "/catalogue/par-levels"): INVENTORY,
    ("GET", "/catalogue/suppliers"): EVERYONE,
    ("POST", "/catalogue/suppliers"): INVENTORY,
    ("GET", "/catalogue/suppliers/{supplier_id}"): INVENTORY,
    ("POST", "/catalogue/suppliers/{supplier_id}"): INVENTORY,
    ("POST", "/catalogue/suppliers/{supplier_id}/order-format"): INVENTORY,
    ("GET", "/catalogue/locations"): EVERYONE,
    ("POST", "/catalogue/locations"): INVENTORY,
    ("GET", "/catalogue/locations/{code}"): INVENTORY,
    ("POST", "/catalogue/locations/{code}"): INVENTORY,
    ("GET", "/today"): EVERYONE,
    ("GET", "/notifications"): EVERYONE,
    ("POST", "/notifications/{notification_id}/open"): EVERYONE,
    ("GET", "/notifications/preferences"): EVERYONE,
    ("POST", "/notifications/preferences"): EVERYONE,
    # administration pages
    ("GET", "/admin/webhooks"): ADMIN,
    ("POST", "/admin/webhooks"): ADMIN,
    ("GET", "/admin/webhooks/{webhook_id}"): ADMIN,
    ("GET", "/admin/users"): ADMIN,
    ("GET", "/admin/sites"): ADMIN,
    ("POST", "/admin/sites"): ADMIN,
    ("POST", "/admin/users/{username}/sites"): ADMIN,
    ("POST", "/site"): EVERYONE,
    ("POST", "/admin/users"): ADMIN,
    ("GET", "/admin/users/{username}"): ADMIN,
    ("POST", "/admin/users/{username}/role"): ADMIN,
    ("POST", "/admin/users/{username}/active"): ADMIN,
    ("POST", "/admin/users/{username}/password"): ADMIN,
    ("GET", "/s/{code}"): EVERYONE,
    ("POST", "/s/{code}/assemble"): STERILE,
    ("GET", "/set-templates/{code}/photo"): EVERYONE,
    ("GET", "/recalls/{recall_id}"): EVERYONE,
    ("GET", "/admin/sterilizers"): only(M, U),
    ("POST", "/admin/sterilizers"): ADMIN,
    ("POST", "/admin/sterilizers/{code}/status"): ADMIN,
    ("POST", "/admin/sterilizers/{code}/details"): ADMIN,
    ("GET", "/purchasing"): EVERYONE,
    ("GET", "/purchasing/reorder.csv"): EVERYONE,
    ("POST", "/purchasing/from-suggestions"): INVENTORY,
    ("GET", "/purchasing/orders/{po_id}"): EVERYONE,
    ("GET", "/purchasing/orders/{po_id}/pdf"): EVERYONE,
    ("POST", "/purchasing/orders/{po_id}/submit"): INVENTORY,
    ("POST", "/purchasing/orders/{po_id}/receive"): INVENTORY,
    ("GET", "/p/{code}"): EVERYONE,
    ("POST", "/p/{code}/use"): STERILE,
    ("POST", "/p/{code}/compromise"): STERILE,
    ("GET", "/cycles"): EVERYONE,
    ("GET", "/cycles/new"): STERILE,
    ("POST", "/cycles/new"): STERILE,
    ("GET", "/cycles/{cycle_id}"): EVERYONE,
    ("POST", "/cycles/{cycle_id}/complete"): STERILE,
    ("POST", "/cycles/{cycle_id}/bi"): STERILE,
    ("POST", "/cycles/{cycle_id}/early-release"): STERILE,
    ("POST", "/cycles/{cycle_id}/attachments"): STERILE,
    ("GET", "/cycles/{cycle_id}/attachments/{attachment_id}"): EVERYONE,
    ("GET", "/records/import"): STERILE,
    ("POST", "/records/import"): STERILE,
    ("GET", "/compliance"): AUDIT,
    ("GET", "/d/{code}"): EVERYONE,
    ("GET", "/equipment/exports/{log}"): only(M, U),
    ("GET", "/equipment"): only(M, U),
    ("POST", "/equipment/{code}/tests"): STERILE,
    ("POST", "/equipment/{code}/runs"): STERILE,
    ("POST", "/equipment/maintenance"): STERILE,
    ("POST", "/d/{code}/use"): STERILE,
    ("POST", "/d/{code}/runs"): STERILE,
    ("GET", "/compliance/log.csv"): AUDIT,
    ("GET", "/compliance/log.pdf"): AUDIT,
}

# A value for each path parameter that names nothing, so allowed calls find nothing.
SAMPLE_PATH_VALUES = {
    "notification_id": "999999",
    "webhook_id": "999999",
    "username": "nobody",
    "supplier_id": "999999",
    "po_id": "999999",
    "packaging_id": "999999",
    "movement_id": "999999",
    "cycle_id": "999999",
    "recall_id": "999999",
    "attachment_id": "999999",
    "version": "999",
    "record_id": "999999",
    "log": "hld-runs",
    "run_id": "999999",
    "code": "NOSUCH-1",
    "sku": "NOSUCH-SKU",
    "location": "NOWHERE",
    "location_code": "NOWHERE",
    "ref": "ENC-NONE",
    "path": "nothing-here",
    "file_path": "nothing-here.css",
}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def route_table(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, from its own route table."""
    return {
        (method, route.path_format)
        for route in app.routes
        for method in getattr(route, "route_handler_map", {})
        if method not in IGNORED_METHODS
    }


def concrete_path(template: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in SAMPLE_PATH_VALUES, f"add a sample value for path parameter {name!r}"
        return SAMPLE_PATH_VALUES[name]

    return re.sub(r"\{(\w+)\}", value, template)


def is_api(path: str) -> bool:
    return path.startswith("/api/")


class Callers:
    """One app on one SQLite file for the whole module; a bearer token and a logged-in
    browser (session cookie + CSRF token) per role."""

    def __init__(self, app: Any, database: Database, stack: ExitStack) -> None:
        self.app = app
        self.stack = stack
        self.anonymous = stack.enter_context(TestClient(app))
        self.users = UserFactory(database, self.anonymous)
        self.usernames = {role: self.users.create(Role(role)) for role in ROLES}
        self.headers = {role: self.users.headers(Role(role)) for role in ROLES}
        self.browsers = {role: self.browser(role) for role in ROLES}

    def browser(self, role: str) -> tuple[TestClient[Any], str]:
        client = self.stack.enter_context(TestClient(self.app))
        assert page_login(client, self.usernames[role]).status_code == 303
        return client, csrf_token_from(client.get("/scan").text)

    def call(self, method: str, path: str, role: str | None, rule: Rule) -> Any:
        if is_api(path):
            headers = {}
            if role is not None:
                token = self.users.token(self.usernames[role]) if rule.fresh_login else None
                headers = {"Authorization": f"Bearer {token}"} if token else self.headers[role]
            body = (
                {"json": {}} if method in ("POST", "PUT", "PATCH") and "logout" not in path else {}
            )
            return self.anonymous.request(method, path, headers=headers, **body)
        if role is None:  # a fresh browser that has only seen the login form
            client = self.stack.enter_context(TestClient(self.app))
            csrf = csrf_token_from(client.get("/login").text)
        elif rule.fresh_login:
            client, csrf = self.browser(role)
        else:
            client, csrf = self.browsers[role]
        data = {"_csrf_token": csrf} if method == "POST" and csrf else None
        return client.request(method, path, data=data, follow_redirects=False)


@pytest.fixture(scope="module")
def callers(sqlite_template, tmp_path_factory) -> Iterator[Callers]:
    directory = tmp_path_factory.mktemp("role_matrix")
    shutil.copyfile(sqlite_template, directory / "steristock.db")
    url = f"sqlite:///{directory / 'steristock.db'}"
    settings = Settings(
        DATABASE_URL=url,
        STERISTOCK_DATA_DIR=directory / "data",
        STERISTOCK_SECRET_KEY="test-secret-key",
        STERISTOCK_PUBLIC_URL="https://clinic.example",
    )
    database = Database(url, pool_size=5)
    with ExitStack() as stack:
        yield Callers(create_app(settings, database), database, stack)
    database.dispose()


def test_every_route_has_a_row(callers: Callers) -> None:
    served = route_table(callers.app)
    missing = sorted(served - ROUTES.keys())
    stale = sorted(ROUTES.keys() - served)
    assert not missing, (
        "Routes with no row in ROUTES (tests/security/test_role_matrix.py); add one line "
        "each saying "
        f"who may call it: {missing}"
    )
    assert not stale, f"Rows in ROUTES for routes the app no longer serves: {stale}"


def expectation(path: str, rule: Rule, role: str | None) -> str:
    if rule.roles is None:
        return "public"
    if role is None:
        return "anonymous"
    return "allowed" if role in rule.roles else "forbidden"


@pytest.mark.parametrize(("method", "template"), sorted(ROUTES), ids=lambda v: str(v))
def test_route_admits_exactly_its_roles(callers: Callers, method: str, template: str) -> None:
    rule = ROUTES[(method, template)]
    path = concrete_path(template)
    wrong: list[str] = []
    for role in (None, *ROLES):
        response = callers.call(method, path, role, rule)
        status, location = response.status_code, response.headers.get("location", "")
        # Sent to log in (and come back); a logout's own redirect is plain "/login".
        to_login = status == 303 and location.startswith("/login?next=")
        expected = expectation(path, rule, role)
        if expected == "anonymous" and is_api(path):
            ok = status == 401 and response.headers["content-type"].startswith(
                "application/problem+json"
            )
        elif expected == "anonymous":
            ok = to_login
        elif expected == "forbidden":
            ok = status == 403
        else:  # allowed or public: not refused, not sent to log in, not broken
            ok = status not in (401, 403) and not to_login and status < 500
        if not ok:
            who = role or "anonymous"
            wrong.append(f"{who}: expected {expected}, got {status} {location}".rstrip())
    assert not wrong, f"{method} {path}: " + "; ".join(wrong)
