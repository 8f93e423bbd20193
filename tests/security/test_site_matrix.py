"""The role matrix's site axis (SPEC section 9): a user of site MAIN, in every role, never
reads or writes a record of site NORTH.

Site NORTH holds one of everything (a location with stock and a par level, a sterilizer,
packs assembled, sterilized, used and recalled, cycles, a recall, purchase orders). Users
of MAIN only (admin and auditor too, with `all_sites` off) then call every route of
`ROUTES` (tests/security/test_role_matrix.py) that their role may call:

- a route naming a NORTH record in its path answers 404 (API and pages), or exactly what
  it answers for a record that does not exist (an encounter's packs: an empty list);
- every list, report, export and page without a path parameter leaves NORTH out: its
  codes, names and pack codes appear nowhere in the response;
- afterwards NORTH's records are exactly as they were.

Scans (`/api/v1/scan?code=`) and label sheets take the record in the query: they have
tests of their own below. Routes about the group itself (sites, users, the audit trail)
are admin's and auditors' business, not a site's, and are left out of the list check.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from inventory.models import PurchaseOrder, StockLevel
from kernel.auth.models import Role
from kernel.db import Database
from kernel.settings import Settings
from sterilization.models import Cycle, Pack, Recall, Sterilizer
from steristock.app import create_app
from tests.factories import UserFactory, csrf_token_from, page_login
from tests.security.test_role_matrix import ROLES, ROUTES, concrete_path, is_api
from tests.sterilization_factories import GOOD_READINGS, cycle_minutes, let_time_pass

NORTH = {"code": "NORTH", "name": "North clinic", "timezone": "Asia/Tokyo"}
MARKERS = ("ZX-", "Zorbix")  # in every NORTH code and name

# Bodies that pass validation, so a write reaches the lookup that must not find NORTH's.
WRITE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/v1/locations/{code}"): {"name": "Taken over"},
    ("PUT", "/api/v1/items/{sku}/par-levels/{location_code}"): {"par_level": 99},
    ("PATCH", "/api/v1/sterilizers/{code}"): {"status": "out_of_service", "reason": "not yours"},
    ("POST", "/api/v1/packs/{code}/use"): {"encounter_ref": "ENC-THEFT"},
    ("POST", "/api/v1/packs/{code}/compromise"): {"reason": "dropped on the floor"},
    ("POST", "/api/v1/packs/{code}/transfer"): {"to_site": "MAIN"},
    ("POST", "/api/v1/cycles/{cycle_id}/complete"): {
        "mechanical_ok": False, "chemical_ok": True, **GOOD_READINGS["gravity_121_30"]
    },
    ("POST", "/api/v1/cycles/{cycle_id}/bi-result"): {"result": "positive", "control_grew": True},
    ("POST", "/api/v1/cycles/{cycle_id}/amendments"): {
        "field": "notes", "value": "rewritten", "reason": "not ours to amend"
    },
    ("POST", "/api/v1/recalls/{recall_id}/resolve"): {
        "resolution": "released", "reason": "not ours to release"
    },
    ("POST", "/api/v1/purchase-orders/{po_id}/submit"): {},
    ("POST", "/api/v1/purchase-orders/{po_id}/cancel"): {"reason": "not ours"},
    ("POST", "/api/v1/purchase-orders/{po_id}/receive"): {
        "location": "MAIN-SUP", "lines": [{"sku": "ZXGLOVE", "quantity": 1}]
    },
}  # fmt: skip

# Routes whose path parameters name no site-owned record (the shared catalogue, users,
# sites, static files) or that refuse everything whatever they name (deletion of records).
NOT_SITE_OWNED = {"username", "supplier_id", "packaging_id", "file_path", "path"}


class North:
    """What NORTH holds, made through the API by an admin who sees every site."""

    def __init__(self, client: TestClient[Any], users: UserFactory) -> None:
        admin = users.headers(Role.ADMIN)

        def ok(response: Any, status: int = 200) -> Any:
            assert response.status_code == status, response.text
            return response.json()

        def post(path: str, body: dict[str, Any], status: int = 201) -> Any:
            return ok(client.post(path, json=body, headers=admin), status)

        post("/api/v1/sites", NORTH)
        post("/api/v1/locations", {"code": "ZX-SUP", "name": "Zorbix supply", "site": "NORTH"})
        post("/api/v1/locations", {"code": "MAIN-SUP", "name": "Main supply", "site": "MAIN"})
        supplier = post("/api/v1/suppliers", {"name": "Acme medical"})
        post("/api/v1/items", {"sku": "ZXGLOVE", "name": "Exam gloves", "unit": "box",
                               "supplier_id": supplier["id"], "unit_cost": "2.50"})  # fmt: skip
        ok(client.put("/api/v1/items/ZXGLOVE/par-levels/ZX-SUP", json={"par_level": 40},
                      headers=admin))  # fmt: skip
        self.movement = post("/api/v1/stock/movements", {"kind": "receive", "sku": "ZXGLOVE",
                             "location": "ZX-SUP", "quantity": 5})["id"]  # fmt: skip
        post("/api/v1/sterilizers", {"code": "ZX-AC", "name": "Zorbix autoclave",
                                     "kind": "steam_gravity", "site": "NORTH"})  # fmt: skip
        packs = post("/api/v1/packs", {"description": "Zorbix kit", "quantity": 4,
                                       "site": "NORTH"})["items"]  # fmt: skip
        self.packs = [p["code"] for p in packs]
        used, sterile, recalled, assembled = self.packs

        def run(codes: list[str], bi_lot: str | None = None) -> dict[str, Any]:
            body: dict[str, Any] = {"sterilizer": "ZX-AC", "cycle_type": "gravity_121_30",
                                    "packs": codes}  # fmt: skip
            if bi_lot:
                body["bi_lot"] = bi_lot
            cycle = post("/api/v1/cycles", body)
            done = {"mechanical_ok": True, "chemical_ok": True, **GOOD_READINGS["gravity_121_30"]}
            let_time_pass(client, cycle_minutes(done))
            post(f"/api/v1/cycles/{cycle['id']}/complete", done, 200)
            return cycle

        first = run([used], bi_lot="ZX-BI-1")
        let_time_pass(client, 24 * 60 + 1)  # a BI is read after its incubation
        post(f"/api/v1/cycles/{first['id']}/bi-result",
             {"result": "negative", "control_grew": True}, 200)  # fmt: skip
        post(f"/api/v1/packs/{used}/use", {"encounter_ref": "ENC-ZX-1"}, 200)
        run([sterile])
        second = run([recalled], bi_lot="ZX-BI-2")
        let_time_pass(client, 24 * 60 + 1)
        post(f"/api/v1/cycles/{second['id']}/bi-result",
             {"result": "positive", "control_grew": True}, 200)  # fmt: skip
        self.cycle = second["id"]
        self.recall = ok(client.get("/api/v1/recalls", headers=admin))["items"][0]["id"]
        self.pack = sterile
        self.assembled = assembled
        self.po = post("/api/v1/purchase-orders", {"supplier_id": supplier["id"], "site": "NORTH",
                       "lines": [{"sku": "ZXGLOVE", "quantity": 10}]})["id"]  # fmt: skip
        post(f"/api/v1/purchase-orders/{self.po}/submit", {}, 200)

    def path(self, template: str) -> str | None:
        """The template naming NORTH's records, or None when it names nothing of a site."""
        names = set(re.findall(r"\{(\w+)\}", template))
        if not names or names & NOT_SITE_OWNED or "/sites/" in template:
            return None
        if template.startswith("/api/v1/items/{sku}") and "location_code" not in names:
            return None  # an item of the shared catalogue
        if template.startswith("/catalogue/items/{sku}"):
            return None
        values = {
            "cycle_id": str(self.cycle),
            "recall_id": str(self.recall),
            "po_id": str(self.po),
            "movement_id": str(self.movement),
            "ref": "ENC-ZX-1",
            "sku": "ZXGLOVE",
            "location": "ZX-SUP",
            "location_code": "ZX-SUP",
        }
        if names - set(values) - {"code"}:
            return None  # records of tables not site-owned yet (docs/sites.md)
        if "code" in names:
            if "sterilizers" in template:
                values["code"] = "ZX-AC"
            elif "locations" in template:
                values["code"] = "ZX-SUP"
            elif "packs" in template or template.startswith("/p/"):
                values["code"] = self.pack
            else:
                return None  # cycle types: shared by the group
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


class MainCallers:
    """Users of site MAIN only, one per role (admin and auditor without `all_sites`)."""

    def __init__(self, app: Any, database: Database, stack: ExitStack) -> None:
        self.app = app
        self.database = database
        self.stack = stack
        self.client = stack.enter_context(TestClient(app))
        self.users = UserFactory(database, self.client)
        self.north = North(self.client, self.users)
        self.usernames = {
            role: self.users.create(Role(role), f"main-{role}", sites=["MAIN"], all_sites=False)
            for role in ROLES
        }
        self.headers = {
            role: {"Authorization": f"Bearer {self.users.token(name)}"}
            for role, name in self.usernames.items()
        }
        self.browsers = {role: self.browser(role) for role in ROLES}

    def browser(self, role: str) -> tuple[TestClient[Any], str]:
        client = self.stack.enter_context(TestClient(self.app))
        assert page_login(client, self.usernames[role]).status_code == 303
        return client, csrf_token_from(client.get("/scan").text)

    def call(self, method: str, template: str, path: str, role: str) -> Any:
        if is_api(path):
            body = WRITE_BODIES.get((method, template))
            if body is None and method in ("POST", "PUT", "PATCH"):
                body = {}
            kwargs = {"json": body} if body is not None else {}
            return self.client.request(method, path, headers=self.headers[role], **kwargs)
        client, csrf = self.browsers[role]
        data = {"_csrf_token": csrf} if method == "POST" else None
        return client.request(method, path, data=data, follow_redirects=False)

    def snapshot(self) -> dict[str, Any]:
        """NORTH's records as they stand (to prove nothing was written)."""
        queries = {
            "packs": select(Pack.code, Pack.status, Pack.encounter_ref, Pack.site_id),
            "cycles": select(Cycle.id, Cycle.status),
            "sterilizers": select(Sterilizer.code, Sterilizer.status, Sterilizer.status_reason),
            "recalls": select(Recall.id, Recall.status),
            "orders": select(PurchaseOrder.id, PurchaseOrder.status),
            "stock": select(StockLevel.location_id, StockLevel.on_hand, StockLevel.par_level),
        }
        with self.database.session(write=False) as s:
            return {name: sorted(s.execute(q).all()) for name, q in queries.items()}


@pytest.fixture(scope="module")
def main_callers(sqlite_template, tmp_path_factory) -> Iterator[MainCallers]:
    directory = tmp_path_factory.mktemp("site_matrix")
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
        yield MainCallers(create_app(settings, database), database, stack)
    database.dispose()


SITE_ROUTES = sorted(
    (method, template) for method, template in ROUTES if method != "DELETE"
)  # deletions of records are refused to everyone (tests/sterilization: never deleted)


@pytest.mark.parametrize(("method", "template"), SITE_ROUTES, ids=lambda v: str(v))
def test_another_sites_record_answers_404_on_every_route(
    main_callers: MainCallers, method: str, template: str
) -> None:
    path = main_callers.north.path(template)
    rule = ROUTES[(method, template)]
    if path is None or rule.roles is None:
        pytest.skip("names no record of a site")
    before = main_callers.snapshot()
    wrong = []
    for role in sorted(rule.roles):
        response = main_callers.call(method, template, path, role)
        if response.status_code == 404:
            continue
        # A lookup that answers a list (an encounter's packs) answers as for nothing.
        nothing = main_callers.call(method, template, concrete_path(template), role)
        if (response.status_code, response.content) != (nothing.status_code, nothing.content):
            wrong.append(f"{role}: {response.status_code} {response.text[:200]}")
    assert not wrong, f"{method} {path}: " + "; ".join(wrong)
    assert main_callers.snapshot() == before


LIST_SKIPS = {  # the group's own business, or files that name no records
    "/api/v1/sites",
    "/api/v1/users",
    "/admin/users",
    "/admin/sites",
    "/api/v1/audit",
    "/api/v1/audit.csv",
    "/api/v1/audit/verify",
    "/api/v1/users/me",
    "/api/v1/scan",
    "/api/v1/labels/packs.pdf",
    "/api/v1/catalogue/items.csv",
    "/api/v1/suppliers",
    "/api/v1/items",
    "/catalogue/items",
    "/catalogue/suppliers",
    "/catalogue/import",
    "/schema",
    "/schema/openapi.json",
    "/health",
}


def list_routes() -> list[str]:
    return sorted(
        template
        for method, template in ROUTES
        if method == "GET" and "{" not in template and template not in LIST_SKIPS
    )


@pytest.mark.parametrize("template", list_routes())
def test_lists_and_reports_leave_another_site_out(main_callers: MainCallers, template: str):
    rule = ROUTES[("GET", template)]
    leaks = []
    for role in sorted(rule.roles or ROLES):
        response = main_callers.call("GET", template, template, role)
        assert response.status_code < 500, response.text
        text = response.content.decode("latin-1")
        found = [m for m in (*MARKERS, *main_callers.north.packs) if m in text]
        if found:
            leaks.append(f"{role}: {found}")
    assert not leaks, f"GET {template} shows site NORTH's records: " + "; ".join(leaks)


def test_scanning_another_sites_pack_or_bin_answers_404(main_callers: MainCallers) -> None:
    north = main_callers.north
    for role in ROLES:
        for code in (north.pack, f"https://clinic.example/p/{north.pack}", "/b/ZX-SUP/ZXGLOVE"):
            response = main_callers.client.get(
                "/api/v1/scan", params={"code": code}, headers=main_callers.headers[role]
            )
            assert response.status_code == 404, (role, code, response.text)


def test_another_sites_packs_print_no_labels(main_callers: MainCallers) -> None:
    north = main_callers.north
    response = main_callers.client.get(
        "/api/v1/labels/packs.pdf", params={"codes": north.pack},
        headers=main_callers.headers["ma"],
    )  # fmt: skip
    assert response.status_code in (404, 422)
    bins = main_callers.client.get(
        "/api/v1/labels/bins.pdf", params={"location": "ZX-SUP"},
        headers=main_callers.headers["ma"],
    )  # fmt: skip
    assert bins.status_code in (404, 422)


def test_a_cycle_cannot_load_another_sites_pack_or_run_its_sterilizer(
    main_callers: MainCallers,
) -> None:
    north = main_callers.north
    mine = {"code": "MAIN-AC", "name": "Main A", "kind": "steam_gravity"}
    main_callers.client.post(
        "/api/v1/sterilizers", json=mine, headers=main_callers.headers["admin"]
    )
    before = main_callers.snapshot()
    headers = main_callers.headers["ma"]
    on_theirs = main_callers.client.post(
        "/api/v1/cycles", json={"sterilizer": "ZX-AC", "cycle_type": "gravity_121_30"},
        headers=headers,
    )  # fmt: skip
    assert on_theirs.status_code in (404, 422) and "ZX-AC" in on_theirs.json()["detail"]
    mine = {"code": "MAIN-AC", "name": "Main A", "kind": "steam_gravity"}
    main_callers.client.post(
        "/api/v1/sterilizers", json=mine, headers=main_callers.headers["admin"]
    )
    their_pack = main_callers.client.post(
        "/api/v1/cycles",
        json={"sterilizer": "MAIN-AC", "cycle_type": "gravity_121_30",
              "packs": [north.assembled]},
        headers=headers,
    )  # fmt: skip
    assert their_pack.status_code == 422, their_pack.text
    assert their_pack.json()["detail"] == f"No pack with code {north.assembled}."
    assert main_callers.snapshot() == before


def test_stock_cannot_move_at_another_sites_location(main_callers: MainCallers) -> None:
    before = main_callers.snapshot()
    for kind, extra in (("consume", {}), ("receive", {}), ("count", {})):
        response = main_callers.client.post(
            "/api/v1/stock/movements",
            json={"kind": kind, "sku": "ZXGLOVE", "location": "ZX-SUP", "quantity": 1, **extra},
            headers=main_callers.headers["admin"],
        )
        assert response.status_code == 404, response.text
    into_theirs = main_callers.client.post(
        "/api/v1/stock/movements",
        json={"kind": "transfer", "sku": "ZXGLOVE", "location": "MAIN-SUP", "quantity": 1,
              "to_location": "ZX-SUP"},
        headers=main_callers.headers["admin"],
    )  # fmt: skip
    assert into_theirs.status_code == 404
    assert main_callers.snapshot() == before
