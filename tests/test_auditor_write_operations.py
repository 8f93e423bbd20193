"""Every write operation of the API appends to the audit trail, and the auditor can do none
of them. The operations are walked from the app's own OpenAPI schema: a new endpoint that is
missing from the table below fails the test until it is added (with a minimal valid
request), so nothing can be added to the API without proving it is audited."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from kernel.db import utcnow

WRITE_METHODS = ("post", "put", "patch", "delete")
GTIN = "07032144072622"
_names = itertools.count(1)
HLD_RUN = {
    "disinfectant": "OPA",
    "solution_lot": "OPA-1",
    "solution_opened_on": "2020-01-01",
    "solution_expires_on": "2099-01-01",
    "mec_result": "pass",
    "soak_minutes": 12,
    "temperature_c": 22,
    "min_soak_minutes": 12,
    "min_temperature_c": 20,
}


@dataclass
class Call:
    path: str
    json: Any = None
    role: Role | None = Role.ADMIN  # None: the caller's own fresh token (auth endpoints)
    expect: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    files: dict[str, Any] | None = None  # a multipart upload instead of a JSON body


class World:
    """Prerequisites made through the API as an admin, one fresh set per operation."""

    def __init__(self, client, users) -> None:
        self.client, self.users = client, users

    @property
    def admin(self) -> dict[str, str]:
        return self.users.headers(Role.ADMIN)

    def post(self, path: str, body: Any, expect: int = 201) -> Any:
        response = self.client.post(path, json=body, headers=self.admin)
        assert response.status_code == expect, (path, response.text)
        return response.json()

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(_names)}"

    def supplier(self) -> int:
        return self.post("/api/v1/suppliers", {"name": self.name("Supplier ")})["id"]

    def location(self) -> str:
        return self.post("/api/v1/locations", {"code": self.name("LOC"), "name": "Room"})["code"]

    def item(self, **extra: Any) -> str:
        body = {"sku": self.name("SKU"), "name": "Gauze", "unit": "box",
                "supplier_id": self.supplier(), "unit_cost": "1.25", **extra}  # fmt: skip
        return self.post("/api/v1/items", body)["sku"]

    def receive(self, sku: str, location: str, quantity: int = 10) -> None:
        body = {"kind": "receive", "sku": sku, "location": location, "quantity": quantity}
        self.post("/api/v1/stock/movements", body)

    def sterilizer(self) -> str:
        body = {"code": self.name("AC"), "name": "Autoclave", "kind": "steam_gravity"}
        return self.post("/api/v1/sterilizers", body)["code"]

    def elara_record(self) -> bytes:
        """A real Tuttnauer record, and a sterilizer with its serial number."""
        from tests.sterilization.records.samples import tuttnauer

        body = {"code": self.name("EL"), "name": "Elara", "kind": "steam_prevac",
                "serial_number": "16032087"}  # fmt: skip
        self.post("/api/v1/sterilizers", body)
        return tuttnauer("cycle_000259.txt")

    def equipment(self) -> str:
        body = {"code": self.name("US"), "name": "Ultrasonic", "kind": "ultrasonic"}
        return self.post("/api/v1/equipment", body)["code"]

    def hld_device(self, *, disinfected: bool = False) -> str:
        body = {"code": self.name("TEE"), "name": "TEE probe", "kind": "probe"}
        code = self.post("/api/v1/hld-devices", body)["code"]
        if disinfected:
            self.post(f"/api/v1/hld-devices/{code}/runs", HLD_RUN)
        return code

    def pack(self, implant: bool = False) -> str:
        return self.post("/api/v1/packs", {"description": "Kit", "implant": implant})["items"][0][
            "code"
        ]

    def instrument(self) -> str:
        body = {"code": self.name("INS"), "name": "Adson forceps"}
        return self.post("/api/v1/instruments", body)["code"]

    def set_template(self) -> str:
        body = {"code": self.name("TPL"), "name": "Suture kit", "packaging": "wrap",
                "items": [{"instrument": self.instrument(), "quantity": 2}]}  # fmt: skip
        return self.post("/api/v1/set-templates", body)["code"]

    def tray(self) -> str:
        return self.post("/api/v1/sets", {"template": self.set_template()})["code"]

    def running_cycle(self, packs: list[str] | None = None, bi_lot: str | None = None) -> int:
        # Started a day ago (on a new sterilizer), so it can be completed with its exposure
        # and its BI read after the default 24 hours of incubation.
        body: dict[str, Any] = {
            "sterilizer": self.sterilizer(),
            "cycle_type": "gravity_121_30",
            "packs": packs or [],
            "started_at": (utcnow() - dt.timedelta(hours=26)).isoformat(),
        }
        if bi_lot:
            body["bi_lot"] = bi_lot
        return self.post("/api/v1/cycles", body)["id"]

    def completed_cycle(
        self, packs: list[str] | None = None, bi_lot: str | None = None, **readings: Any
    ) -> int:
        cycle_id = self.running_cycle(packs, bi_lot)
        ended = (utcnow() - dt.timedelta(hours=25)).isoformat()
        self.post(f"/api/v1/cycles/{cycle_id}/complete",
                  {**READINGS, "ended_at": ended, **readings}, expect=200)  # fmt: skip
        return cycle_id

    def sterile_pack(self) -> str:
        code = self.pack()
        self.completed_cycle([code])
        return code

    def open_recall(self) -> int:
        cycle_id = self.completed_cycle([self.pack()], bi_lot="LOT-R")
        self.post(f"/api/v1/cycles/{cycle_id}/bi-result",
                  {"result": "positive", "control_grew": True}, expect=200)  # fmt: skip
        recalls = self.client.get("/api/v1/recalls?status=open", headers=self.admin).json()
        return recalls["items"][0]["id"]

    def purchase_order(self, *, submitted: bool = False) -> tuple[int, str]:
        supplier_id = self.supplier()
        body = {"sku": self.name("SKU"), "name": "Gloves", "unit": "box",
                "supplier_id": supplier_id, "unit_cost": "2.50"}  # fmt: skip
        sku = self.post("/api/v1/items", body)["sku"]
        lines = [{"sku": sku, "quantity": 10}]
        po = self.post("/api/v1/purchase-orders", {"supplier_id": supplier_id, "lines": lines})
        if submitted:
            self.post(f"/api/v1/purchase-orders/{po['id']}/submit", None, expect=200)
        return po["id"], sku

    def item_below_par(self) -> str:
        sku = self.item()
        response = self.client.put(f"/api/v1/items/{sku}/par-levels/{self.location()}",
                                   json={"par_level": 20}, headers=self.admin)  # fmt: skip
        assert response.status_code == 200, response.text
        return sku

    def site(self) -> str:
        body = {"code": self.name("SITE"), "name": "Branch clinic", "timezone": "America/Denver"}
        return self.post("/api/v1/sites", body)["code"]

    def fresh_user(self) -> str:
        return self.users.create(Role.MA)


READINGS = {"temperature_c": 121.5, "exposure_minutes": 30, "mechanical_ok": True,
            "chemical_ok": True}  # fmt: skip


def _login(w: World) -> Call:
    return Call("/api/v1/auth/token", {"username": w.fresh_user(), "password": w.users.password},
                role=None)  # fmt: skip


def _logout(w: World) -> Call:
    token = w.users.token(w.fresh_user())
    return Call("/api/v1/auth/logout", role=None, expect=204,
                headers={"Authorization": f"Bearer {token}"})  # fmt: skip


def _restock(w: World) -> Call:
    sku, source, target = w.item(), w.location(), w.location()
    w.receive(sku, source)
    return Call("/api/v1/stock/restock", {"from_location": source, "lines": [
        {"sku": sku, "to_location": target, "quantity": 2}]}, expect=201)  # fmt: skip


def _create_po(w: World) -> Call:
    supplier_id = w.supplier()
    body = {"sku": w.name("SKU"), "name": "Gauze", "unit": "box", "supplier_id": supplier_id,
            "unit_cost": "1.25"}  # fmt: skip
    sku = w.post("/api/v1/items", body)["sku"]
    return Call("/api/v1/purchase-orders",
                {"supplier_id": supplier_id, "lines": [{"sku": sku, "quantity": 5}]},
                expect=201)  # fmt: skip


def _po_from_suggestions(w: World) -> Call:
    w.item_below_par()
    return Call("/api/v1/purchase-orders/from-suggestions", {}, expect=201)


def _submit_po(w: World) -> Call:
    po_id, _ = w.purchase_order()
    return Call(f"/api/v1/purchase-orders/{po_id}/submit")


def _receive_po(w: World) -> Call:
    po_id, sku = w.purchase_order(submitted=True)
    return Call(f"/api/v1/purchase-orders/{po_id}/receive",
                {"location": w.location(), "lines": [{"sku": sku, "quantity": 4}]},
                expect=201)  # fmt: skip


def _cancel_po(w: World) -> Call:
    po_id, _ = w.purchase_order(submitted=True)
    return Call(f"/api/v1/purchase-orders/{po_id}/cancel", {"reason": "supplier out of stock"})


def _receive_barcode(w: World) -> Call:
    w.item(gtin=GTIN, lot_tracked=True)
    return Call("/api/v1/stock/receive-barcode",
                {"barcode": f"01{GTIN}10LOT1\x1d17301231", "location": w.location(),
                 "quantity": 3}, expect=201)  # fmt: skip


def _import_items(w: World) -> Call:
    csv = ("sku,name,unit,pack_size,supplier,vendor_sku,unit_cost,gtin,lead_time_days,"
           f"min_order_qty,lot_tracked,category\r\n{w.name('IMP')},Gauze,box,10,Medline,,"
           "$1.25,,,,no,\r\n")  # fmt: skip
    return Call("/api/v1/items/import", files={"file": ("items.csv", csv.encode(), "text/csv")})


def _import_par_levels(w: World) -> Call:
    csv = f"sku,location,par_level,reorder_point\r\n{w.item()},{w.location()},12,\r\n"
    return Call("/api/v1/par-levels/import", files={"file": ("par.csv", csv.encode(), "text/csv")})


PACK_GTINS = (f"1061414{n:05d}" for n in itertools.count(1))


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 200, 200)).save(out, format="PNG")
    return out.getvalue()


def _box_gtin() -> str:
    from inventory.gs1 import with_check_digit

    return with_check_digit(next(PACK_GTINS))


def _packaging(w: World) -> tuple[str, int]:
    sku = w.item()
    level = w.post(f"/api/v1/items/{sku}/packagings", {"gtin": _box_gtin(), "units": 10,
                                                       "name": "box"})  # fmt: skip
    return sku, level["id"]


def _import_packagings(w: World) -> Call:
    csv = f"sku,gtin,units,name\r\n{w.item()},{_box_gtin()},12,box\r\n"
    return Call("/api/v1/packagings/import",
                files={"file": ("packagings.csv", csv.encode(), "text/csv")})  # fmt: skip


ORDER_LAYOUT = {
    "columns": [{"header": "Item", "field": "vendor_sku"}, {"header": "Qty", "field": "quantity"}],
    "quantity_in": "packs",
}


def _supplier_with_layout(w: World) -> int:
    supplier = w.supplier()
    w.post("/api/v1/items", {"sku": w.name("SKU"), "name": "Gauze", "unit": "box",
                             "supplier_id": supplier, "unit_cost": "1"})  # fmt: skip
    response = w.client.put(f"/api/v1/suppliers/{supplier}/order-format", json=ORDER_LAYOUT,
                            headers=w.admin)  # fmt: skip
    assert response.status_code == 200, response.text
    return supplier


def _send_po(w: World) -> Call:
    w.client.app.state.settings.smtp_url = "smtp://127.0.0.1:1"  # queued, not sent here
    supplier = w.post("/api/v1/suppliers", {"name": w.name("Supplier "), "email": "o@s.example"})
    item = {"sku": w.name("SKU"), "name": "Gauze", "unit": "box",
            "supplier_id": supplier["id"], "unit_cost": "1"}  # fmt: skip
    sku = w.post("/api/v1/items", item)["sku"]
    lines = [{"sku": sku, "quantity": 1}]
    po = w.post("/api/v1/purchase-orders", {"supplier_id": supplier["id"], "lines": lines})
    w.post(f"/api/v1/purchase-orders/{po['id']}/submit", None, expect=200)
    return Call(f"/api/v1/purchase-orders/{po['id']}/send", expect=202)


def _read_notification(w: World) -> Call:
    from tests.notification_factories import run_notifications

    w.open_recall()  # admins are told of recalls by default
    run_notifications(w.client.app)
    items = w.client.get("/api/v1/notifications", headers=w.admin).json()["items"]
    return Call(f"/api/v1/notifications/{items[0]['id']}/read")


# (method, path template) -> a minimal valid request, made ready in a fresh world.
OPERATIONS: dict[tuple[str, str], Callable[[World], Call]] = {
    ("POST", "/api/v1/auth/token"): _login,
    ("POST", "/api/v1/auth/logout"): _logout,
    ("POST", "/api/v1/users"): lambda w: Call(
        "/api/v1/users",
        {"username": w.name("newuser"), "role": "ma", "password": "long enough pw"},
        expect=201,
    ),
    ("PATCH", "/api/v1/users/{username}"): lambda w: Call(
        f"/api/v1/users/{w.fresh_user()}", {"full_name": "Renamed Person"}
    ),
    ("POST", "/api/v1/suppliers"): lambda w: Call(
        "/api/v1/suppliers", {"name": w.name("Supplier ")}, expect=201
    ),
    ("PATCH", "/api/v1/suppliers/{supplier_id}"): lambda w: Call(
        f"/api/v1/suppliers/{w.supplier()}", {"lead_time_days": 9}
    ),
    ("POST", "/api/v1/locations"): lambda w: Call(
        "/api/v1/locations", {"code": w.name("L"), "name": "Exam"}, expect=201
    ),
    ("PATCH", "/api/v1/locations/{code}"): lambda w: Call(
        f"/api/v1/locations/{w.location()}", {"name": "Renamed"}
    ),
    ("POST", "/api/v1/items"): lambda w: Call(
        "/api/v1/items",
        {
            "sku": w.name("S"),
            "name": "Gloves",
            "unit": "box",
            "supplier_id": w.supplier(),
            "unit_cost": "0.045",
        },
        expect=201,
    ),
    ("PATCH", "/api/v1/items/{sku}"): lambda w: Call(f"/api/v1/items/{w.item()}", {"name": "New"}),
    ("PUT", "/api/v1/items/{sku}/par-levels/{location_code}"): lambda w: Call(
        f"/api/v1/items/{w.item()}/par-levels/{w.location()}", {"par_level": 10}
    ),
    ("POST", "/api/v1/items/import"): _import_items,
    ("POST", "/api/v1/packagings/import"): _import_packagings,
    ("POST", "/api/v1/items/{sku}/packagings"): lambda w: Call(
        f"/api/v1/items/{w.item()}/packagings",
        {"gtin": _box_gtin(), "units": 100, "name": "box"},
        expect=201,
    ),
    ("PATCH", "/api/v1/items/{sku}/packagings/{packaging_id}"): lambda w: Call(
        "/api/v1/items/{}/packagings/{}".format(*_packaging(w)), {"name": "carton"}
    ),
    ("DELETE", "/api/v1/items/{sku}/packagings/{packaging_id}"): lambda w: Call(
        "/api/v1/items/{}/packagings/{}".format(*_packaging(w)), expect=204
    ),
    ("PUT", "/api/v1/suppliers/{supplier_id}/order-format"): lambda w: Call(
        f"/api/v1/suppliers/{_supplier_with_layout(w)}/order-format",
        {**ORDER_LAYOUT, "delimiter": ";"},
    ),
    ("DELETE", "/api/v1/suppliers/{supplier_id}/order-format"): lambda w: Call(
        f"/api/v1/suppliers/{_supplier_with_layout(w)}/order-format", expect=204
    ),
    ("POST", "/api/v1/par-levels/import"): _import_par_levels,
    ("POST", "/api/v1/stock/movements"): lambda w: Call(
        "/api/v1/stock/movements",
        {"kind": "receive", "sku": w.item(), "location": w.location(), "quantity": 5},
        expect=201,
    ),
    ("POST", "/api/v1/stock/receive-barcode"): _receive_barcode,
    ("POST", "/api/v1/stock/restock"): _restock,
    ("POST", "/api/v1/purchase-orders"): _create_po,
    ("POST", "/api/v1/purchase-orders/from-suggestions"): _po_from_suggestions,
    ("POST", "/api/v1/purchase-orders/{po_id}/submit"): _submit_po,
    ("POST", "/api/v1/purchase-orders/{po_id}/receive"): _receive_po,
    ("POST", "/api/v1/purchase-orders/{po_id}/cancel"): _cancel_po,
    ("POST", "/api/v1/sterilizers"): lambda w: Call(
        "/api/v1/sterilizers",
        {"code": w.name("ST"), "name": "New", "kind": "dry_heat"},
        expect=201,
    ),
    ("PATCH", "/api/v1/sterilizers/{code}"): lambda w: Call(
        f"/api/v1/sterilizers/{w.sterilizer()}",
        {"status": "out_of_service", "reason": "annual service"},
    ),
    ("POST", "/api/v1/equipment"): lambda w: Call(
        "/api/v1/equipment",
        {"code": w.name("WD"), "name": "Washer", "kind": "washer_disinfector"},
        expect=201,
    ),
    ("PATCH", "/api/v1/equipment/{code}"): lambda w: Call(
        f"/api/v1/equipment/{w.equipment()}",
        {"status": "out_of_service", "reason": "annual service"},
    ),
    ("POST", "/api/v1/equipment/{code}/runs"): lambda w: Call(
        f"/api/v1/equipment/{w.equipment()}/runs", {"result": "pass"}, expect=201
    ),
    ("POST", "/api/v1/equipment/{code}/tests"): lambda w: Call(
        f"/api/v1/equipment/{w.equipment()}/tests", {"kind": "foil", "result": "pass"}, expect=201
    ),
    ("POST", "/api/v1/maintenance"): lambda w: Call(
        "/api/v1/maintenance",
        {
            "device": w.equipment(),
            "kind": "inspection",
            "performed_by": "Acme Service",
            "performed_on": "2026-01-05",
        },
        expect=201,
    ),
    ("POST", "/api/v1/users/{username}/competencies"): lambda w: Call(
        f"/api/v1/users/{w.fresh_user()}/competencies",
        {"skill": "hld", "granted_on": "2026-01-05", "expires_on": "2027-01-05"},
        expect=201,
    ),
    ("POST", "/api/v1/hld-devices"): lambda w: Call(
        "/api/v1/hld-devices",
        {"code": w.name("ENDO"), "name": "Scope", "kind": "endoscope"},
        expect=201,
    ),
    ("POST", "/api/v1/hld-devices/{code}/runs"): lambda w: Call(
        f"/api/v1/hld-devices/{w.hld_device()}/runs", HLD_RUN, expect=201
    ),
    ("POST", "/api/v1/hld-devices/{code}/use"): lambda w: Call(
        f"/api/v1/hld-devices/{w.hld_device(disinfected=True)}/use", {"encounter_ref": "ENC-9"}
    ),
    ("POST", "/api/v1/cycle-types"): lambda w: Call(
        "/api/v1/cycle-types",
        {
            "code": w.name("custom_").lower(),
            "name": "Long gravity",
            "min_temperature_c": 121,
            "min_exposure_minutes": 40,
        },
        expect=201,
    ),
    ("POST", "/api/v1/instruments"): lambda w: Call(
        "/api/v1/instruments", {"code": w.name("INS"), "name": "Iris scissors"}, expect=201
    ),
    ("POST", "/api/v1/set-templates"): lambda w: Call(
        "/api/v1/set-templates",
        {
            "code": w.name("TPL"),
            "name": "I&D kit",
            "packaging": "pouch",
            "items": [{"instrument": w.instrument(), "quantity": 1}],
        },
        expect=201,
    ),
    ("PUT", "/api/v1/set-templates/{code}"): lambda w: Call(
        f"/api/v1/set-templates/{w.set_template()}",
        {
            "name": "Suture kit",
            "packaging": "pouch",
            "items": [{"instrument": w.instrument(), "quantity": 1}],
        },
    ),
    ("PUT", "/api/v1/set-templates/{code}/photo"): lambda w: Call(
        f"/api/v1/set-templates/{w.set_template()}/photo",
        files={"file": ("tray.png", _png(), "image/png")},
    ),
    ("POST", "/api/v1/sets"): lambda w: Call(
        "/api/v1/sets", {"template": w.set_template()}, expect=201
    ),
    ("POST", "/api/v1/packs"): lambda w: Call(
        "/api/v1/packs", {"description": "Exam kit"}, expect=201
    ),
    ("POST", "/api/v1/sites"): lambda w: Call(
        "/api/v1/sites",
        {"code": w.name("S"), "name": "North clinic", "timezone": "America/Chicago"},
        expect=201,
    ),
    ("POST", "/api/v1/packs/{code}/transfer"): lambda w: Call(
        f"/api/v1/packs/{w.sterile_pack()}/transfer", {"to_site": w.site()}
    ),
    ("POST", "/api/v1/packs/{code}/use"): lambda w: Call(
        f"/api/v1/packs/{w.sterile_pack()}/use", {"encounter_ref": "ENC-77"}
    ),
    ("POST", "/api/v1/packs/{code}/compromise"): lambda w: Call(
        f"/api/v1/packs/{w.pack()}/compromise", {"reason": "torn wrap"}
    ),
    ("POST", "/api/v1/cycles"): lambda w: Call(
        "/api/v1/cycles",
        {"sterilizer": w.sterilizer(), "cycle_type": "gravity_121_30", "packs": [w.pack()]},
        expect=201,
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/complete"): lambda w: Call(
        f"/api/v1/cycles/{w.running_cycle()}/complete", READINGS
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/bi-result"): lambda w: Call(
        f"/api/v1/cycles/{w.completed_cycle(bi_lot='LOT-1')}/bi-result",
        {"result": "negative", "control_grew": True},
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/early-release"): lambda w: Call(
        f"/api/v1/cycles/{w.completed_cycle([w.pack(implant=True)], 'LOT-2', integrator='pass')}"
        "/early-release",
        {"reason": "emergency implant case"},
    ),
    ("POST", "/api/v1/bi-products"): lambda w: Call(
        "/api/v1/bi-products",
        {"code": w.name("BI"), "name": "Rapid BI", "min_incubation_minutes": 60},
        expect=201,
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/amendments"): lambda w: Call(
        f"/api/v1/cycles/{w.completed_cycle()}/amendments",
        {"field": "pressure_kpa", "value": 210, "reason": "re-read the printout"},
        expect=201,
    ),
    ("POST", "/api/v1/cycles/{cycle_id}/attachments"): lambda w: Call(
        f"/api/v1/cycles/{w.running_cycle()}/attachments",
        files={"file": ("printout.png", b"\x89PNG\r\n\x1a\n" + bytes(32), "image/png")},
        expect=201,
    ),
    ("POST", "/api/v1/cycle-records"): lambda w: Call(
        "/api/v1/cycle-records",
        files={"file": ("cycle_000259.txt", w.elara_record(), "text/plain")},
    ),
    ("POST", "/api/v1/recalls/{recall_id}/resolve"): lambda w: Call(
        f"/api/v1/recalls/{w.open_recall()}/resolve",
        {"resolution": "confirmed", "reason": "repeat BI positive too"},
    ),
    ("POST", "/api/v1/notifications/{notification_id}/read"): _read_notification,
    ("POST", "/api/v1/purchase-orders/{po_id}/send"): _send_po,
    ("PUT", "/api/v1/users/me/notification-preferences"): lambda w: Call(
        "/api/v1/users/me/notification-preferences", {"po_overdue": "digest"}
    ),
    ("POST", "/api/v1/webhooks"): lambda w: Call(
        "/api/v1/webhooks",
        {"url": "https://hooks.example.com/steristock", "secret": "s" * 20, "kinds": []},
        expect=201,
    ),
}
AUTH_OPERATIONS = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/logout")}
# The caller's own notifications and preferences: an auditor keeps theirs too (audited).
OWN_OPERATIONS = {
    ("POST", "/api/v1/notifications/{notification_id}/read"),
    ("PUT", "/api/v1/users/me/notification-preferences"),
}


def schema_write_operations(app) -> set[tuple[str, str]]:
    paths = app.openapi_schema.paths or {}
    return {
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith("/api/v1/")
        for method in WRITE_METHODS
        if getattr(item, method, None) is not None
    }


def audit_count(database) -> int:
    with database.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(AuditEntry)) or 0


def new_entries(database, after: int) -> list[AuditEntry]:
    with database.session(write=False) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.seq > after)))


def send(client, method: str, call: Call, headers: dict[str, str]):
    if call.files is not None:
        return client.request(method, call.path, files=call.files, headers=headers)
    return client.request(method, call.path, json=call.json, headers=headers)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_write_operation_in_the_schema_is_in_the_table(app):
    operations = schema_write_operations(app)
    missing = sorted(operations - OPERATIONS.keys())
    assert not missing, f"add these write operations to OPERATIONS: {missing}"
    stale = sorted(OPERATIONS.keys() - operations)
    assert not stale, f"no longer in the API, remove from OPERATIONS: {stale}"


def test_every_write_operation_appends_an_audit_entry_and_the_auditor_can_do_none(
    app, client, users, database
):
    """One request per operation in the schema: the auditor's attempt is refused (403) and
    writes nothing; the valid request succeeds and appends at least one entry with its
    before/after state; the chain still verifies at the end."""
    world = World(client, users)
    auditor = users.headers(Role.AUDITOR)
    checked = []
    for method, template in sorted(schema_write_operations(app)):
        call = OPERATIONS[(method, template)](world)
        if (method, template) not in AUTH_OPERATIONS | OWN_OPERATIONS:
            before = audit_count(database)
            refused = send(client, method, call, auditor)
            assert refused.status_code == 403, (method, template, refused.text)
            assert audit_count(database) == before, (method, template, "403 wrote an entry")
        headers = call.headers if call.role is None else users.headers(call.role)
        before = audit_count(database)
        response = send(client, method, call, headers)
        assert response.status_code == call.expect, (method, template, response.text)
        entries = new_entries(database, before)
        assert entries, f"{method} {template} succeeded but wrote no audit entry"
        if (method, template) not in AUTH_OPERATIONS:
            assert any(e.before or e.after for e in entries), (method, template)
        checked.append((method, template, sorted({e.action for e in entries})))
    assert len(checked) == len(OPERATIONS)
    verify = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verify["ok"] is True
