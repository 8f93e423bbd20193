"""A month of a clinic that counts instead of scanning, replayed through the API: cases
received by scanning their barcodes (one delivery booked on its purchase order), a count
of every bin each Monday, restock rounds, lots expiring on the shelf and one discarded.
At the end, the reorder suggestions, the par review and each supplier's order file are
checked against figures worked out by hand from the ledger (`GET /stock/movements`), the
way a purchasing lead would check them: spec section 13 on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from zoneinfo import ZoneInfo

import pytest

from inventory.gs1 import with_check_digit
from kernel.auth.models import Role
from kernel.clock import FixedClock

ZONE = ZoneInfo("America/Chicago")
START = dt.datetime(2026, 10, 5, 8, 0, tzinfo=ZONE)  # a Monday
WEEKS = 5


def gtin(indicator: int, number: int) -> str:
    return with_check_digit(f"{indicator}061414{number:06d}")


# sku: (supplier, vendor sku, pack size, unit cost, lot tracked, levels {name: units},
#       weekly use at EXAM1, par SUPPLY, par EXAM1)
ITEMS = {
    "GLV-M": ("Henry Schein", "112-4432", 100, "0.045", False, {"box": 100, "case": 1000},
              260, 1200, 400),
    "GAUZE": ("Henry Schein", "100-2211", 10, "0.30", False, {"case": 200}, 60, 200, 60),
    "BI-VIAL": ("Medline", "ML-8810", 25, "4.10", True, {"box": 25}, 6, 50, 10),
    "SUT-40": ("Medline", "ML-4040", 12, "2.25", True, {"box": 12}, 9, 36, 12),
}  # fmt: skip
LAYOUTS = {
    "Henry Schein": {"columns": [{"header": "Item Number", "field": "vendor_sku"},
                                 {"header": "Quantity", "field": "quantity"},
                                 {"header": "UOM", "field": "order_unit"}],
                     "quantity_in": "packs"},
    "Medline": {"columns": [{"header": "Account", "field": "account_number"},
                            {"header": "Medline Item #", "field": "vendor_sku"},
                            {"header": "GTIN", "field": "order_gtin"},
                            {"header": "Order Qty", "field": "quantity"}],
                "quantity_in": "units", "delimiter": ";"},
}  # fmt: skip


class Clinic:
    def __init__(self, client, clock, buyer, ma) -> None:
        self.client, self.clock, self.buyer, self.ma = client, clock, buyer, ma
        self.suppliers: dict[str, int] = {}
        self.lot_number = 0

    def ok(self, response, status=201):
        assert response.status_code == status, response.text
        return response.json()

    def set_up(self) -> None:
        post = self.client.post
        for name, account in (("Henry Schein", "HS-448812"), ("Medline", "ML-77120")):
            self.suppliers[name] = self.ok(post("/api/v1/suppliers", json={
                "name": name, "account_number": account, "lead_time_days": 3,
            }, headers=self.buyer))["id"]  # fmt: skip
        for code in ("SUPPLY", "EXAM1"):
            self.ok(post("/api/v1/locations", json={"code": code, "name": code},
                         headers=self.buyer))  # fmt: skip
        for n, (sku, spec) in enumerate(ITEMS.items(), start=1):
            supplier, vendor, pack, cost, lot_tracked, levels, _use, par_s, par_e = spec
            self.ok(post("/api/v1/items", json={
                "sku": sku, "name": sku.title(), "unit": "each", "pack_size": pack,
                "supplier_id": self.suppliers[supplier], "vendor_sku": vendor,
                "unit_cost": cost, "gtin": gtin(0, n), "lot_tracked": lot_tracked,
            }, headers=self.buyer))  # fmt: skip
            for indicator, (name, units) in enumerate(levels.items(), start=1):
                self.ok(post(f"/api/v1/items/{sku}/packagings", json={
                    "gtin": gtin(indicator, n), "units": units, "name": name,
                }, headers=self.buyer))  # fmt: skip
            for code, par in (("SUPPLY", par_s), ("EXAM1", par_e)):
                path = f"/api/v1/items/{sku}/par-levels/{code}"
                self.ok(self.client.put(path, json={"par_level": par}, headers=self.buyer), 200)
        for name, layout in LAYOUTS.items():
            self.ok(self.client.put(f"/api/v1/suppliers/{self.suppliers[name]}/order-format",
                                    json=layout, headers=self.buyer), 200)  # fmt: skip

    def level_gtin(self, sku: str, level: str) -> str:
        n = list(ITEMS).index(sku) + 1
        return gtin(list(ITEMS[sku][5]).index(level) + 1, n)

    def receive_case(self, sku: str, level: str, packages: int, *, expires_in: int = 300,
                     **extra) -> dict:  # fmt: skip
        self.lot_number += 1
        expiry = (self.clock.today() + dt.timedelta(days=expires_in)).strftime("%y%m%d")
        barcode = f"]d201{self.level_gtin(sku, level)}10L{self.lot_number:03d}\x1d17{expiry}"
        return self.ok(self.client.post("/api/v1/stock/receive-barcode", json={
            "barcode": barcode, "location": "SUPPLY", "quantity": packages, **extra,
        }, headers=self.buyer))  # fmt: skip

    def on_hand(self, sku: str, code: str) -> int:
        rows = self.client.get("/api/v1/stock", params={"sku": sku, "location": code},
                               headers=self.ma).json()["items"]  # fmt: skip
        return rows[0]["on_hand"] if rows else 0

    def lots(self, sku: str, code: str) -> dict[str, int]:
        """Lot balances from the ledger (sum of the rows per lot)."""
        balances: dict[str, int] = {}
        for row in self.ledger():
            if row["sku"] == sku and row["location"] == code:
                balances[row["lot"] or ""] = balances.get(row["lot"] or "", 0) + row["quantity"]
        return balances

    def ledger(self) -> list[dict]:
        rows, offset = [], 0
        while True:
            page = self.client.get("/api/v1/stock/movements", params={"limit": 500,
                                   "offset": offset}, headers=self.ma).json()  # fmt: skip
            rows += page["items"]
            offset += 500
            if offset >= page["total"]:
                return rows

    def count(self, sku: str, code: str, quantity: int, lot: str | None = None) -> dict:
        body = {"kind": "count", "sku": sku, "location": code, "quantity": quantity}
        if lot:
            body["lot"] = lot
        return self.ok(self.client.post("/api/v1/stock/movements", json=body, headers=self.ma))

    def restock(self) -> None:
        listed = self.client.get("/api/v1/stock/restock", params={"from_location": "SUPPLY"},
                                 headers=self.ma).json()["items"]  # fmt: skip
        lines = [{"sku": r["sku"], "to_location": r["to_location"], "quantity": r["quantity"]}
                 for r in listed if r["quantity"] > 0]  # fmt: skip
        if lines:
            self.ok(self.client.post("/api/v1/stock/restock", json={"from_location": "SUPPLY",
                                     "lines": lines}, headers=self.ma))  # fmt: skip


@pytest.fixture
def clinic(app, client, users) -> Clinic:
    clock = FixedClock(ZONE, START)
    app.state.clock = clock
    setup = Clinic(client, clock, users.headers(Role.PURCHASING), users.headers(Role.MA))
    setup.set_up()
    return setup


def test_a_month_of_a_count_based_clinic_checked_by_hand_against_the_ledger(clinic: Clinic):
    c = clinic
    # Opening stock: cases scanned in; the BI vials' first lot expires in the third week.
    c.receive_case("GLV-M", "case", 2)
    c.receive_case("GAUZE", "case", 2)
    c.receive_case("BI-VIAL", "box", 2, expires_in=17)
    c.receive_case("SUT-40", "box", 4)
    c.restock()
    po = None
    for week in range(WEEKS):
        c.clock.advance(dt.timedelta(days=7))  # Monday morning
        for sku, spec in ITEMS.items():
            weekly = spec[6] + 3 * week
            have = c.on_hand(sku, "EXAM1")
            if spec[4]:  # lot-tracked: people count every box, lot by lot
                lots = {lot: q for lot, q in c.lots(sku, "EXAM1").items() if q > 0}
                left = max(have - weekly, 0)
                for lot, quantity in sorted(lots.items()):
                    keep = min(quantity, left)
                    c.count(sku, "EXAM1", keep, lot=lot)
                    left -= keep
            else:
                c.count(sku, "EXAM1", max(have - weekly, 0))
        if week == 2:  # the expired BI vials are thrown out of the supply room
            expired = next(lot for lot, q in c.lots("BI-VIAL", "SUPPLY").items() if q > 0)
            c.ok(c.client.post("/api/v1/stock/movements", json={
                "kind": "discard", "sku": "BI-VIAL", "location": "SUPPLY", "lot": expired,
                "quantity": c.lots("BI-VIAL", "SUPPLY")[expired], "reason": "expired",
            }, headers=c.ma))  # fmt: skip
        c.restock()
        if week == 1:  # an order placed and half of it delivered by scanning cases
            po = c.ok(c.client.post("/api/v1/purchase-orders", json={
                "supplier_id": c.suppliers["Henry Schein"],
                "lines": [{"sku": "GLV-M", "quantity": 2000}],
            }, headers=c.buyer))["id"]  # fmt: skip
            c.ok(c.client.post(f"/api/v1/purchase-orders/{po}/submit", headers=c.buyer), 200)
            c.receive_case("GLV-M", "case", 1, purchase_order_id=po)
            c.restock()
        if week == 3:  # a box of sutures that expires before the month is out
            c.receive_case("SUT-40", "box", 1, expires_in=5)
    c.clock.advance(dt.timedelta(hours=2))
    today = c.clock.today()

    # --- by hand, from the ledger -------------------------------------------------------
    ledger = c.ledger()
    start, end = today - dt.timedelta(days=56), today
    balance: dict[tuple[str, str], int] = {}
    expiry: dict[tuple[str, str], str | None] = {}
    used: dict[str, int] = dict.fromkeys(ITEMS, 0)
    for row in ledger:
        key = (row["sku"], row["lot"] or "")
        balance[key] = balance.get(key, 0) + row["quantity"]
        expiry[key] = row["expires_on"]
        day = dt.datetime.fromisoformat(row["at"]).astimezone(ZONE).date()
        took = -row["quantity"] if row["quantity"] < 0 else 0
        usable_then = row["expires_on"] is None or row["expires_on"] >= day.isoformat()
        if start <= day < end and row["kind"] in ("consume", "count") and usable_then:
            used[row["sku"]] += took
        assert row["used"] == (took if row["kind"] in ("consume", "count") and usable_then
                               else 0), row  # fmt: skip
    expected = {}
    for sku, spec in ITEMS.items():
        pack, par_s, par_e = spec[2], spec[7], spec[8]
        good = [key for key in balance if key[0] == sku
                and (expiry[key] is None or expiry[key] >= today.isoformat())]  # fmt: skip
        usable = sum(balance[key] for key in good)
        expired = sum(q for (s, _lot), q in balance.items() if s == sku) - usable
        on_order = 1000 if sku == "GLV-M" else 0
        par, point = par_s + par_e, math.ceil(par_s / 2) + math.ceil(par_e / 2)
        need = par - usable - on_order
        packs = math.ceil(need / pack) if need > 0 else 0
        expected[sku] = {
            "on_hand": usable, "expired_on_hand": expired, "on_order": on_order,
            "position": usable + on_order, "order": usable + on_order <= point and need > 0,
            "order_packs": packs, "suggested_qty": packs * pack, "units_used": used[sku],
            "usage_par": math.ceil(used[sku] * (3 + 7) * 12 / 560), "par": par,
        }  # fmt: skip
    assert expected["SUT-40"]["expired_on_hand"] > 0  # the short-dated box is on the shelf
    assert all(expected[s]["units_used"] > 0 for s in ITEMS)  # counts are use

    # --- the API's figures ----------------------------------------------------------------
    rows = {r["sku"]: r for r in c.client.get("/api/v1/reorder/suggestions",
            headers=c.buyer).json()["items"]}  # fmt: skip
    assert set(rows) == {s for s, e in expected.items() if e["order"]}
    assert {"GAUZE", "BI-VIAL", "SUT-40"} <= set(rows)  # both suppliers have lines
    print(
        {
            s: (e["on_hand"], e["expired_on_hand"], e["units_used"], e["order"])
            for s, e in expected.items()
        }
    )
    print(set(rows))
    for sku, row in rows.items():
        for field in ("on_hand", "expired_on_hand", "on_order", "position", "order_packs",
                      "suggested_qty", "units_used", "usage_par"):  # fmt: skip
            assert row[field] == expected[sku][field], (sku, field)
    review = {r["sku"]: r for r in c.client.get("/api/v1/reorder/par-review",
              headers=c.buyer).json()["items"]}  # fmt: skip
    for sku, e in expected.items():
        differs = 4 * abs(e["usage_par"] - e["par"]) > e["par"]
        assert (sku in review) == differs, sku
        if differs:
            assert review[sku]["units_used"] == e["units_used"]
    for name, supplier_id in c.suppliers.items():
        r = c.client.get("/api/v1/reorder/suggestions.csv",
                         params={"supplier_id": supplier_id, "format": "supplier"},
                         headers=c.buyer)  # fmt: skip
        assert r.status_code == 200, r.text
        layout = LAYOUTS[name]
        file_rows = list(csv.reader(io.StringIO(r.text), delimiter=layout.get("delimiter", ",")))
        assert file_rows[0] == [col["header"] for col in layout["columns"]]
        mine = sorted((s, e) for s, e in expected.items() if e["order"] and ITEMS[s][0] == name)
        by_hand = []
        for sku, e in mine:
            spec = ITEMS[sku]
            quantity = e["order_packs"] if layout["quantity_in"] == "packs" else e["suggested_qty"]
            level = next((n for n, units in spec[5].items() if units == spec[2]), None)
            values = {
                "vendor_sku": spec[1], "quantity": str(quantity),
                "order_unit": level or f"pack of {spec[2]}", "account_number": "ML-77120",
                "order_gtin": gtin(0, list(ITEMS).index(sku) + 1),
            }  # fmt: skip
            by_hand.append([values[col["field"]] for col in layout["columns"]])
        assert file_rows[1:] == by_hand, name
    order = c.client.get(f"/api/v1/purchase-orders/{po}", headers=c.buyer).json()
    assert (order["status"], order["lines"][0]["outstanding"]) == ("partially_received", 1000)
