"""Reorder in a clinic group (SPEC 9): each site orders for its own locations; `?site=`
narrows; a CSV of several sites starts with a `site` column."""

from __future__ import annotations

import csv
import io

from kernel.auth.models import Role


def setup_two_sites(client, users) -> dict[str, str]:
    admin = users.headers(Role.ADMIN)
    site = {"code": "NORTH", "name": "North", "timezone": "Europe/Berlin"}
    assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
    for code, where in (("M-SUP", "MAIN"), ("N-SUP", "NORTH")):
        body = {"code": code, "name": code, "site": where}
        assert client.post("/api/v1/locations", json=body, headers=admin).status_code == 201
    supplier = client.post("/api/v1/suppliers", json={"name": "Acme"}, headers=admin).json()
    item = {"sku": "GAUZE", "name": "Gauze", "unit": "pack", "supplier_id": supplier["id"],
            "unit_cost": "1.00", "pack_size": 10}  # fmt: skip
    assert client.post("/api/v1/items", json=item, headers=admin).status_code == 201
    for location, par, stock in (("M-SUP", 50, 40), ("N-SUP", 30, 5)):
        client.put(f"/api/v1/items/GAUZE/par-levels/{location}", json={"par_level": par},
                   headers=admin)  # fmt: skip
        move = {"kind": "receive", "sku": "GAUZE", "location": location, "quantity": stock}
        assert client.post("/api/v1/stock/movements", json=move, headers=admin).is_success
    return admin


def suggestions(client, headers, **params) -> list[dict]:
    r = client.get("/api/v1/reorder/suggestions", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_each_site_orders_for_its_own_locations(client, users):
    admin = setup_two_sites(client, users)
    rows = suggestions(client, admin)
    # MAIN: 40 on hand, reorder point 25: nothing. NORTH: 5 of par 30: order 30 (3 packs).
    assert [(r["site"], r["sku"], r["on_hand"], r["par"], r["suggested_qty"]) for r in rows] == [
        ("NORTH", "GAUZE", 5, 30, 30)
    ]
    assert suggestions(client, admin, site="MAIN") == []
    users.create(Role.PURCHASING, "mainbuyer")  # works at MAIN only
    token = users.token("mainbuyer")
    assert suggestions(client, {"Authorization": f"Bearer {token}"}) == []


def test_drafts_from_suggestions_order_for_the_users_site(client, users):
    admin = setup_two_sites(client, users)
    made = client.post("/api/v1/purchase-orders/from-suggestions", json={"site": "NORTH"},
                       headers=admin)  # fmt: skip
    assert made.status_code == 201, made.text
    [order] = made.json()["items"]
    assert order["site"] == "NORTH" and order["lines"][0]["quantity"] == 30
    assert client.post("/api/v1/purchase-orders/from-suggestions", json={"site": "MAIN"},
                       headers=admin).json()["items"] == []  # fmt: skip


def reorder_csv(client, headers, **params) -> list[list[str]]:
    r = client.get("/api/v1/reorder/suggestions.csv", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.text)))


def test_the_reorder_csv_gains_a_leading_site_column_only_across_sites(client, users):
    admin = setup_two_sites(client, users)
    [header, row] = reorder_csv(client, admin)
    assert header[0] == "supplier" and "site" not in header  # one site in the result
    move = {"kind": "consume", "sku": "GAUZE", "location": "M-SUP", "quantity": 30}
    assert client.post("/api/v1/stock/movements", json=move, headers=admin).is_success
    [header, *rows] = reorder_csv(client, admin)
    assert header[:2] == ["site", "supplier"]
    assert [(r[0], r[header.index("suggested_qty")]) for r in rows] == [("MAIN", "40"),
                                                                      ("NORTH", "30")]  # fmt: skip
    [header, row] = reorder_csv(client, admin, site="north")
    assert header[0] == "supplier" and row[header.index("on_hand")] == "5"
