"""Tracing a tray (encounters, recalls), scanning its QR, and the labels (SPEC section 11).

QR codes are decoded with zxing-cpp, as the other label tests do."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import zxingcpp
from PIL import Image

from kernel.auth.models import Role
from tests.factories import page_login

PUBLIC_URL = "https://clinic.example"  # the test settings' STERISTOCK_PUBLIC_URL
FULL = [("NH-MAYO-14", 1), ("FC-ADSON", 2), ("SC-IRIS-11", 1), ("SC-SUTURE", 1)]
SVG_NS = "{http://www.w3.org/2000/svg}"


def counted(lines):
    return [{"instrument": i, "quantity": q} for i, q in lines]


def wrap(sets, tray, lines=FULL, **extra):
    body = {"set": tray, "counted": counted(lines), **extra}
    response = sets.client.post("/api/v1/packs", json=body, headers=sets.ma)
    assert response.status_code == 201, response.text
    return response.json()["items"][0]["code"]


def qr_texts(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode]  # fmt: skip


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode())  # noqa: S314 (our own output)
    return [element.text or "" for element in root.iter(f"{SVG_NS}text")]


def test_a_tray_is_traced_to_every_encounter_its_packs_were_used_on(sets, client):
    sets.template()
    tray = sets.tray()["code"]
    ster = sets.sterilizer()["code"]
    for encounter in ("ENC-100", "ENC-101"):
        code = wrap(sets, tray)
        sets.run(ster, [code])
        assert sets.use(code, encounter).status_code == 200
    wrap(sets, tray)  # on the shelf again, not used yet
    found = sets.ok(client.get(f"/api/v1/sets/{tray}/encounters", headers=sets.ma))
    assert found["total"] == 2
    assert [e["encounter_ref"] for e in found["items"]] == ["ENC-101", "ENC-100"]
    assert all(e["cycle_number"] and e["sterilizer"] == ster for e in found["items"])
    # ... and back from the encounter to the tray.
    used = sets.ok(client.get("/api/v1/encounters/ENC-100/packs", headers=sets.ma))["items"]
    assert used[0]["set"] == tray
    assert client.get("/api/v1/sets/ST-999999/encounters", headers=sets.ma).status_code == 404


def test_scanning_a_tray_label_resolves_to_the_set(sets, client):
    sets.template()
    tray = sets.tray()["code"]
    for text in (f"{PUBLIC_URL}/s/{tray}", tray.lower(), f"  http://old-host:8000/s/{tray}/ "):
        found = client.get("/api/v1/scan", params={"code": text}, headers=sets.ma)
        assert found.status_code == 200, (text, found.text)
        body = found.json()
        assert body["type"] == "set" and body["code"] == tray
        assert body["template"]["code"] == "SUTURE"
    missing = client.get("/api/v1/scan", params={"code": "ST-424242"}, headers=sets.ma)
    assert missing.status_code == 404 and "ST-424242" in missing.json()["detail"]


def test_a_tray_label_decodes_to_its_page_and_names_its_set(sets, client):
    sets.template()
    tray = sets.tray()["code"]
    png = client.get(f"/api/v1/sets/{tray}/label.png", headers=sets.ma)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert qr_texts(png.content) == [f"{PUBLIC_URL}/s/{tray}"]
    svg = client.get(f"/api/v1/sets/{tray}/label.svg", headers=sets.ma)
    texts = svg_texts(svg.text)
    assert tray in texts and "Suture kit" in texts


def test_a_counted_pack_label_shows_set_name_version_packaging_expiry_and_short_items(sets, client):
    sets.template(shelf_life_days=30)
    tray = sets.tray()["code"]
    code = wrap(
        sets, tray, [("NH-MAYO-14", 1), ("FC-ADSON", 1), ("SC-IRIS-11", 1), ("SC-SUTURE", 1)],
        accept_short={"reason": "one Adson at repair"},
    )  # fmt: skip
    sets.run(sets.sterilizer()["code"], [code])
    expires = sets.pack(code)["expires_on"]
    assert expires is not None
    png = client.get(f"/api/v1/packs/{code}/label.png", headers=sets.ma)
    assert qr_texts(png.content) == [f"{PUBLIC_URL}/p/{code}"]
    texts = svg_texts(client.get(f"/api/v1/packs/{code}/label.svg", headers=sets.ma).text)
    assert f"Suture kit v1 \u00b7 wrap \u00b7 tray {tray}" in texts
    assert f"Expires {expires}" in texts
    assert "SHORT: 1 \u00d7 Adson forceps 1x2 teeth" in texts
    sheet = client.get("/api/v1/labels/packs.pdf", params={"codes": code}, headers=sets.ma)
    assert sheet.status_code == 200


def test_a_recall_lists_the_trays_involved_and_the_encounters_they_met(sets, client, users):
    sets.template()
    tray = sets.tray()["code"]
    ster = sets.sterilizer()["code"]
    used = wrap(sets, tray)
    sets.run(ster, [used], bi_lot="BI-1")
    assert sets.use(used, "ENC-9").status_code == 200
    shelf = wrap(sets, tray)
    cycle = sets.run(ster, [shelf], bi_lot="BI-2")
    sets.bi(cycle["id"], "positive")
    recall = sets.ok(client.get("/api/v1/recalls", headers=sets.ma))["items"][0]
    detail = sets.ok(client.get(f"/api/v1/recalls/{recall['id']}", headers=sets.ma))
    assert [s["code"] for s in detail["sets"]] == [tray]
    by_pack = {p["code"]: p for p in detail["sets"][0]["packs"]}
    assert by_pack[used]["encounter_ref"] == "ENC-9"
    assert by_pack[shelf]["status"] == "recalled"
    page_login(client, users.create(Role.AUDITOR))
    page = client.get(f"/recalls/{recall['id']}")
    assert page.status_code == 200
    assert f'href="/s/{tray}"' in page.text and "ENC-9" in page.text
