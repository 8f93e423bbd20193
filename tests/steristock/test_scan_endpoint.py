"""`GET /api/v1/scan`: whatever a camera or scanner read lands on the right pack, bin or
item, and anything else is a 4xx naming what was scanned, never a 500."""

from __future__ import annotations

import pytest

from kernel.auth.models import Role
from tests.factories import page_login
from tests.inventory_factories import InventoryFactory
from tests.sterilization_factories import Sterilization

GTIN = "09506000134352"
EAN13 = "9506000134352"
GS = "\x1d"


@pytest.fixture
def steri(client, users) -> Sterilization:
    return Sterilization(client, users)


@pytest.fixture
def inv(database) -> InventoryFactory:
    inv = InventoryFactory(database)
    inv.locations("EXAM1", "EXAM2", "SUPPLY")
    inv.item("GLV-M", name="Nitrile gloves M", unit="box", gtin=GTIN, lot_tracked=True)
    inv.item("GAUZE", name="Gauze 4x4", unit="pack")
    inv.par("GLV-M", "EXAM2", 12, 4)
    inv.par("GLV-M", "EXAM1", 20, 8)
    return inv


def scan(client, headers, code):
    return client.get("/api/v1/scan", params={"code": code}, headers=headers)


def receive(client, headers, sku, location, quantity, lot="L1"):
    body = {
        "kind": "receive",
        "sku": sku,
        "location": location,
        "quantity": quantity,
        "lot": lot,
        "expires_on": "2030-01-31",
    }
    r = client.post("/api/v1/stock/movements", json=body, headers=headers)
    assert r.status_code == 201, r.text


# --- packs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "https://old-hostname.example:8443/steristock/p/{code}",  # labels outlive host moves
        "http://192.168.1.20/p/{code}/?utm=x#top",
        "  {lower}\n",  # typed, lower case, stray whitespace
        "]Q1https://clinic.example/p/{code}",  # a scanner's QR symbology prefix
    ],
)
def test_a_pack_label_resolves_to_the_same_body_as_the_pack_endpoint(client, steri, form):
    (code,) = steri.packs(1)
    r = scan(client, steri.ma, form.format(code=code, lower=code.lower()))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body.pop("type") == "pack"
    assert body == steri.pack(code)


def test_an_unknown_pack_code_is_404_naming_the_scanned_text(client, steri):
    r = scan(client, steri.ma, "https://clinic.example/p/PK-424242")
    assert r.status_code == 404
    problem = r.json()
    assert "PK-424242" in problem["detail"]
    assert problem["text"] == "https://clinic.example/p/PK-424242"
    assert problem["scanned_as"] == "pack"


# --- bins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "/b/EXAM1/GLV-M",
        "b/exam1/glv-m",
        "https://elsewhere.example/b/EXAM1/GLV-M",
        " /b/EXAM1/GLV-M/ ",
    ],
)
def test_a_bin_label_resolves_to_what_is_in_the_bin(client, users, inv, form):
    receive(client, users.headers(Role.MA), "GLV-M", "EXAM1", 7)
    r = scan(client, users.headers(Role.MA), form)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "type": "bin",
        "location": "EXAM1",
        "location_name": "Exam1",
        "sku": "GLV-M",
        "name": "Nitrile gloves M",
        "unit": "box",
        "on_hand": 7,
        "par_level": 20,
        "reorder_point": 8,
    }


def test_a_bin_of_an_item_never_kept_there_reads_as_empty(client, users, inv):
    r = scan(client, users.headers(Role.AUDITOR), "/b/SUPPLY/GAUZE")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["on_hand"], body["par_level"], body["reorder_point"]) == (0, None, None)


@pytest.mark.parametrize(
    ("text", "named"),
    [("/b/NOWHERE/GLV-M", "NOWHERE"), ("/b/EXAM1/NO-SUCH-SKU", "NO-SUCH-SKU")],
)
def test_a_bin_label_for_an_unknown_location_or_item_is_404(client, users, inv, text, named):
    r = scan(client, users.headers(Role.MA), text)
    assert r.status_code == 404
    assert named in r.json()["detail"] and text in r.json()["detail"]
    assert r.json()["scanned_as"] == "bin"


# --- GS1 supply barcodes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "barcode",
    [
        f"]d201{GTIN}17300131{GS}10LOT-77",  # GS1 DataMatrix, FNC1 as ASCII 29
        f"]C101{GTIN}10LOT-77{GS}17300131",  # GS1-128
        f"(01){GTIN}(17)300131(10)LOT-77",  # the human-readable line, typed
    ],
)
def test_a_gs1_barcode_resolves_to_the_item_with_lot_expiry_and_bins(client, users, inv, barcode):
    receive(client, users.headers(Role.MA), "GLV-M", "EXAM2", 3)
    r = scan(client, users.headers(Role.PURCHASING), barcode)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "item"
    assert (body["sku"], body["name"], body["gtin"]) == ("GLV-M", "Nitrile gloves M", GTIN)
    assert (body["lot"], body["expires_on"]) == ("LOT-77", "2030-01-31")
    # bins with stock first, then those with only a par level
    assert [(b["location"], b["on_hand"]) for b in body["bins"]] == [("EXAM2", 3), ("EXAM1", 0)]


def test_a_bare_ean13_off_a_box_resolves_to_the_item_without_lot(client, users, inv):
    r = scan(client, users.headers(Role.MA), EAN13)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["type"], body["sku"], body["lot"], body["expires_on"]) == (
        "item",
        "GLV-M",
        None,
        None,
    )


def test_an_unknown_gtin_is_404_naming_the_gtin_and_the_text(client, users, inv):
    text = "(01)00000000000017(10)X"
    r = scan(client, users.headers(Role.MA), text)
    assert r.status_code == 404
    assert "00000000000017" in r.json()["detail"] and text in r.json()["detail"]


# --- garbage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "hello world",
        "'; DROP TABLE packs; --",
        "PK-12' OR '1'='1",
        "\x00\x01\xff\xfe binary",
        "]",
        "]d2",
        f"(01){GTIN[:-1]}9",  # wrong check digit
        "javascript:alert(1)",
        "/p/",
        "x" * 10_000,
    ],
)
def test_garbage_is_404_naming_the_text_never_500(client, users, steri, text):
    steri.packs(1)
    r = scan(client, users.headers(Role.MA), text)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert len(problem["detail"]) < 300
    shown = problem["text"]
    assert len(shown) <= 80 and "\x00" not in shown
    assert shown.rstrip("\u2026") in problem["detail"]


@pytest.mark.parametrize("params", [{"code": ""}, {"code": "   "}, {}])
def test_nothing_scanned_is_a_4xx(client, users, params):
    r = client.get("/api/v1/scan", params=params, headers=users.headers(Role.MA))
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"


# --- roles ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_signed_in_role_may_scan(client, users, steri, inv, role):
    (code,) = steri.packs(1)
    headers = users.headers(role)
    for text, kind in ((code, "pack"), ("/b/EXAM1/GLV-M", "bin"), (EAN13, "item")):
        r = scan(client, headers, text)
        assert r.status_code == 200, (role, text, r.text)
        assert r.json()["type"] == kind


def test_anonymous_may_not_scan(client, steri):
    (code,) = steri.packs(1)
    r = client.get("/api/v1/scan", params={"code": code})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


# --- the /scan page: a GS1 code opens the bin that stocks the item -----------------------


def test_scan_page_sends_a_gs1_code_to_the_first_bin_stocking_the_item(client, users, inv):
    receive(client, users.headers(Role.MA), "GLV-M", "EXAM2", 3)
    page_login(client, users.create(Role.MA))
    r = client.get(
        "/scan", params={"code": f"]d201{GTIN}10LOT{GS}17300131"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/b/EXAM2/GLV-M"


def test_scan_page_says_when_a_known_item_is_kept_nowhere(client, users, inv):
    page_login(client, users.create(Role.MA))
    inv.item("SUTURE", name="Suture 4-0", gtin="04006381333931")
    r = client.get("/scan", params={"code": "4006381333931"})
    assert r.status_code == 404
    assert "Suture 4-0 (SUTURE) is not kept at any location yet." in r.text
