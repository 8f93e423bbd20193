"""Label endpoints and the `steristock labels` command: what comes out always scans to the
right URL and carries the pack's facts, for every role that may print.

QR codes are decoded with zxing-cpp; PDFs are rasterised with pdfium at 300 dpi.
"""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from kernel.auth.models import Role
from steristock.cli import main as cli
from tests.inventory_factories import InventoryFactory
from tests.sterilization_factories import Sterilization

PUBLIC_URL = "https://clinic.example"  # the test settings' STERISTOCK_PUBLIC_URL
CLINIC_TZ = ZoneInfo("America/Chicago")
SVG_NS = "{http://www.w3.org/2000/svg}"
LETTER = (612.0, 792.0)
THERMAL = (144.0, 72.0)


def qr_texts(image: Image.Image) -> list[str]:
    return [
        r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def pdf_pages(pdf: bytes, dpi: int = 300) -> list[tuple[tuple[float, float], list[str]]]:
    """(page size in points, decoded QR texts) per page."""
    document = pdfium.PdfDocument(pdf)
    return [
        (page.get_size(), qr_texts(page.render(scale=dpi / 72).to_pil().convert("L")))
        for page in document
    ]


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg.encode())  # noqa: S314 (our own output)
    return [element.text or "" for element in root.iter(f"{SVG_NS}text")]


@pytest.fixture
def steri(client, users) -> Sterilization:
    return Sterilization(client, users)


@pytest.fixture
def assembler(users) -> dict[str, str]:
    """An MA with a full name, who wraps the packs."""
    users.create(Role.MA, username="mjones", full_name="Maria Jones")
    return {"Authorization": f"Bearer {users.token('mjones')}"}


def assemble(client, headers, quantity=1, description="Basic exam kit") -> list[str]:
    body = {
        "description": description,
        "contents": [{"name": "Mirror", "quantity": 1}],
        "quantity": quantity,
        "implant": False,
    }
    response = client.post("/api/v1/packs", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return [p["code"] for p in response.json()["items"]]


# --- single labels ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["letter", "thermal"])
def test_pack_label_png_decodes_to_the_public_url_of_the_pack(client, steri, fmt):
    (code,) = steri.packs(1)
    r = client.get(f"/api/v1/packs/{code}/label.png", params={"format": fmt}, headers=steri.ma)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"] == f'inline; filename="{code}.png"'
    image = Image.open(io.BytesIO(r.content))
    width_in = image.width / image.info["dpi"][0]
    assert width_in == pytest.approx(2.625 if fmt == "letter" else 2.0, abs=0.01)
    assert qr_texts(image) == [f"{PUBLIC_URL}/p/{code}"]
    # a distant tablet camera sees about a third of the pixels
    small = image.resize((image.width // 3, image.height // 3), Image.Resampling.BILINEAR)
    assert qr_texts(small) == [f"{PUBLIC_URL}/p/{code}"]


def test_pack_label_before_sterilization_says_so_and_names_the_assembler(client, steri, assembler):
    (code,) = assemble(client, assembler)
    r = client.get(f"/api/v1/packs/{code.lower()}/label.svg", headers=steri.ma)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    assert r.headers["content-disposition"] == f'inline; filename="{code}.svg"'
    texts = svg_texts(r.text)
    assert texts[0] == code
    assert "Basic exam kit" in texts
    assert "Not yet sterilized" in texts
    assert "Sterilized ________" in texts
    assert "Expiry: event-related" in texts
    assert "Assembled by Maria Jones" in texts


def test_pack_label_after_sterilization_shows_sterilizer_cycle_and_the_clinic_date(
    client, steri, assembler
):
    sterilizer = steri.sterilizer(name="Autoclave A")
    (code,) = assemble(client, assembler)
    loaded = steri.start(sterilizer["code"], [code])
    texts = svg_texts(client.get(f"/api/v1/packs/{code}/label.svg", headers=steri.ma).text)
    assert f"Autoclave A \u00b7 cycle {loaded['number']}" in texts
    assert "Sterilized ________" in texts  # loaded, still running

    steri.complete(loaded)
    pack = steri.pack(code)
    sterilized_at = dt.datetime.fromisoformat(pack["sterilized_at"])
    local_day = sterilized_at.astimezone(CLINIC_TZ).date()
    texts = svg_texts(client.get(f"/api/v1/packs/{code}/label.svg", headers=steri.ma).text)
    assert f"Autoclave A \u00b7 cycle {loaded['number']}" in texts
    assert f"Sterilized {local_day.isoformat()}" in texts
    assert "Expiry: event-related" in texts
    assert "Assembled by Maria Jones" in texts


def test_time_related_shelf_life_leaves_a_blank_at_assembly_and_prints_the_date_after(
    client, steri, settings
):
    settings.pack_shelf_life_days = 180  # the app reads its settings per request
    sterilizer = steri.sterilizer()
    (code,) = steri.packs(1)
    texts = svg_texts(client.get(f"/api/v1/packs/{code}/label.svg", headers=steri.ma).text)
    assert "Expires ________" in texts
    assert "Expiry: event-related" not in texts

    steri.run(sterilizer["code"], [code])
    expires_on = steri.pack(code)["expires_on"]
    assert expires_on is not None
    texts = svg_texts(client.get(f"/api/v1/packs/{code}/label.svg", headers=steri.ma).text)
    assert f"Expires {expires_on}" in texts


def test_a_user_without_a_full_name_is_printed_by_username(client, steri, users):
    users.create(Role.MA, username="tkim")
    headers = {"Authorization": f"Bearer {users.token('tkim')}"}
    (code,) = assemble(client, headers)
    texts = svg_texts(client.get(f"/api/v1/packs/{code}/label.svg", headers=headers).text)
    assert "Assembled by tkim" in texts


def test_label_of_an_unknown_pack_is_404_and_a_bad_format_is_refused(client, steri):
    r = client.get("/api/v1/packs/PK-999999/label.png", headers=steri.ma)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert "PK-999999" in r.json()["detail"]
    (code,) = steri.packs(1)
    r = client.get(f"/api/v1/packs/{code}/label.png?format=a4", headers=steri.ma)
    assert r.status_code in (400, 422)
    assert r.headers["content-type"] == "application/problem+json"


# --- pack sheets ------------------------------------------------------------------------


def test_a_cycle_sheet_decodes_every_pack_of_the_cycle_at_300_dpi(client, steri):
    sterilizer = steri.sterilizer()
    codes = steri.packs(32)
    other = steri.packs(1)  # not in the cycle
    cycle = steri.run(sterilizer["code"], codes)
    r = client.get("/api/v1/labels/packs.pdf", params={"cycle": cycle["id"]}, headers=steri.ma)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == (
        f'inline; filename="pack-labels-cycle-{cycle["id"]}.pdf"'
    )
    pages = pdf_pages(r.content)
    assert [size for size, _ in pages] == [LETTER, LETTER]
    assert len(pages[0][1]) == 30 and len(pages[1][1]) == 2
    decoded = [text for _, texts in pages for text in texts]
    assert sorted(decoded) == sorted(f"{PUBLIC_URL}/p/{c}" for c in codes)
    assert f"{PUBLIC_URL}/p/{other[0]}" not in decoded


def test_codes_on_thermal_print_one_two_by_one_inch_page_each_in_the_order_given(client, steri):
    codes = steri.packs(3)
    asked = [codes[2], codes[0].lower(), f" {codes[1]} "]
    r = client.get(
        "/api/v1/labels/packs.pdf",
        params={"codes": ",".join(asked), "format": "thermal"},
        headers=steri.ma,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == 'inline; filename="pack-labels-3-packs.pdf"'
    pages = pdf_pages(r.content)
    assert [size for size, _ in pages] == [THERMAL] * 3
    assert [texts for _, texts in pages] == [
        [f"{PUBLIC_URL}/p/{codes[2]}"],
        [f"{PUBLIC_URL}/p/{codes[0]}"],
        [f"{PUBLIC_URL}/p/{codes[1]}"],
    ]


def test_skip_starts_on_a_partly_used_letter_sheet(client, steri):
    codes = steri.packs(2)
    r = client.get(
        "/api/v1/labels/packs.pdf",
        params={"codes": ",".join(codes), "skip": 29},
        headers=steri.ma,
    )
    assert r.status_code == 200, r.text
    pages = pdf_pages(r.content, dpi=200)
    assert [len(texts) for _, texts in pages] == [1, 1]


def test_unknown_codes_are_404_naming_every_one_and_nothing_is_printed(client, steri):
    (code,) = steri.packs(1)
    r = client.get(
        "/api/v1/labels/packs.pdf",
        params={"codes": f"{code},PK-888888,pk-777777"},
        headers=steri.ma,
    )
    assert r.status_code == 404
    body = r.json()
    assert "PK-888888" in body["detail"] and "PK-777777" in body["detail"]
    assert code not in body["detail"]
    assert body["missing"] == ["PK-888888", "PK-777777"]


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({}, 422, "codes"),
        ({"codes": " , ,"}, 422, "codes"),
        ({"codes": ",".join(f"PK-{n:06d}" for n in range(1, 1002))}, 422, "1000"),
        ({"codes": "PK-000001", "cycle": 1}, 422, "either"),
        ({"cycle": 424242}, 404, "424242"),
        ({"cycle": 0}, 400, ""),
        ({"cycle": "abc"}, 400, ""),
        ({"codes": "PK-000001", "format": "thermal", "skip": 3}, 422, "Letter"),
        ({"codes": "PK-000001", "skip": 30}, 400, ""),
    ],
)
def test_bad_sheet_requests_are_4xx_problems_saying_why(client, steri, params, status, words):
    steri.packs(1)
    r = client.get("/api/v1/labels/packs.pdf", params=params, headers=steri.ma)
    assert r.status_code in ({status, 422} if status == 400 else {status}), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.json()["detail"]


def test_a_cycle_without_packs_has_nothing_to_print(client, steri):
    sterilizer = steri.sterilizer(kind="steam_prevac")
    cycle = steri.start(sterilizer["code"], [], cycle_type="bowie_dick")
    r = client.get("/api/v1/labels/packs.pdf", params={"cycle": cycle["id"]}, headers=steri.ma)
    assert r.status_code == 404
    assert "no packs" in r.json()["detail"]


# --- bin sheets -------------------------------------------------------------------------


@pytest.fixture
def inv(database) -> InventoryFactory:
    return InventoryFactory(database)


def test_bin_sheet_decodes_every_bin_of_the_location_sorted_by_sku(client, users, inv):
    inv.locations("EXAM1", "SUPPLY")
    for sku in ("GLV-M", "GAUZE-4", "SWAB", "NOPAR", "RETIRED"):
        inv.item(sku)
    inv.par("GLV-M", "EXAM1", 20)
    inv.par("GAUZE-4", "EXAM1", 10)
    inv.par("SWAB", "SUPPLY", 100)  # another room
    inv.par("RETIRED", "EXAM1", 5)
    with inv.database.session() as session:  # retire an item: no label any more
        from inventory import catalogue
        from inventory.schemas.catalogue import ItemUpdate

        catalogue.update_item(session, actor="test", sku="RETIRED", data=ItemUpdate(active=False))
    r = client.get(
        "/api/v1/labels/bins.pdf", params={"location": "exam1"}, headers=users.headers(Role.MA)
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="bin-labels-EXAM1.pdf"'
    ((size, texts),) = pdf_pages(r.content)
    assert size == LETTER
    assert sorted(texts) == [f"{PUBLIC_URL}/b/EXAM1/GAUZE-4", f"{PUBLIC_URL}/b/EXAM1/GLV-M"]

    r = client.get(
        "/api/v1/labels/bins.pdf",
        params={"location": "EXAM1", "format": "thermal"},
        headers=users.headers(Role.MA),
    )
    pages = pdf_pages(r.content)
    assert [texts for _, texts in pages] == [  # one per page, by SKU
        [f"{PUBLIC_URL}/b/EXAM1/GAUZE-4"],
        [f"{PUBLIC_URL}/b/EXAM1/GLV-M"],
    ]


def test_bin_sheet_of_an_unknown_or_empty_location_is_404_saying_so(client, users, inv):
    inv.location("EMPTY")
    headers = users.headers(Role.PURCHASING)
    r = client.get("/api/v1/labels/bins.pdf", params={"location": "NOPE"}, headers=headers)
    assert r.status_code == 404 and "NOPE" in r.json()["detail"]
    r = client.get("/api/v1/labels/bins.pdf", params={"location": "EMPTY"}, headers=headers)
    assert r.status_code == 404 and "par level" in r.json()["detail"]
    r = client.get("/api/v1/labels/bins.pdf", headers=headers)
    assert r.status_code in (400, 422)


# --- roles ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_signed_in_role_may_print(client, steri, users, inv, role):
    inv.location("EXAM1")
    inv.par(inv.item("GLV-M"), "EXAM1", 20)
    (code,) = steri.packs(1)
    headers = users.headers(role)
    for url in (
        f"/api/v1/packs/{code}/label.png",
        f"/api/v1/packs/{code}/label.svg",
        f"/api/v1/labels/packs.pdf?codes={code}",
        "/api/v1/labels/bins.pdf?location=EXAM1",
    ):
        assert client.get(url, headers=headers).status_code == 200, url


def test_anonymous_may_not_print(client, steri):
    (code,) = steri.packs(1)
    for url in (
        f"/api/v1/packs/{code}/label.png",
        f"/api/v1/packs/{code}/label.svg",
        f"/api/v1/labels/packs.pdf?codes={code}",
        "/api/v1/labels/bins.pdf?location=EXAM1",
    ):
        r = client.get(url)
        assert r.status_code == 401, url
        assert r.headers["content-type"] == "application/problem+json"


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def cli_env(database_url, tmp_path):
    return {
        "DATABASE_URL": database_url,
        "STERISTOCK_DATA_DIR": str(tmp_path / "data"),
        "STERISTOCK_PUBLIC_URL": PUBLIC_URL,
        "STERISTOCK_TIMEZONE": "America/Chicago",
    }


def test_cli_prints_a_cycle_sheet_that_decodes(client, steri, cli_env, tmp_path):
    sterilizer = steri.sterilizer()
    codes = steri.packs(3)
    cycle = steri.run(sterilizer["code"], codes)
    out = tmp_path / "labels.pdf"
    result = CliRunner().invoke(
        cli, ["labels", "packs", "--cycle", str(cycle["id"]), "--out", str(out)], env=cli_env
    )
    assert result.exit_code == 0, result.output
    assert f"wrote 3 label(s) to {out}" in result.output
    ((size, texts),) = pdf_pages(out.read_bytes())
    assert size == LETTER
    assert sorted(texts) == sorted(f"{PUBLIC_URL}/p/{c}" for c in codes)

    thermal = tmp_path / "thermal.pdf"
    result = CliRunner().invoke(
        cli,
        ["labels", "packs", "--codes", codes[1], "--out", str(thermal), "--format", "thermal"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert pdf_pages(thermal.read_bytes()) == [(THERMAL, [f"{PUBLIC_URL}/p/{codes[1]}"])]


def test_cli_prints_a_room_of_bin_labels(inv, cli_env, tmp_path):
    inv.location("EXAM2")
    inv.par(inv.item("GLV-L"), "EXAM2", 10)
    out = tmp_path / "bins.pdf"
    result = CliRunner().invoke(
        cli, ["labels", "bins", "--location", "EXAM2", "--out", str(out)], env=cli_env
    )
    assert result.exit_code == 0, result.output
    assert pdf_pages(out.read_bytes()) == [(LETTER, [f"{PUBLIC_URL}/b/EXAM2/GLV-L"])]


def test_cli_refuses_unknown_things_and_writes_no_file(database, cli_env, tmp_path):
    out = tmp_path / "none.pdf"
    cases = [
        (["labels", "packs", "--cycle", "999", "--out", str(out)], "No cycle with id 999"),
        (["labels", "packs", "--codes", "PK-123456", "--out", str(out)], "PK-123456"),
        (["labels", "bins", "--location", "NOWHERE", "--out", str(out)], "NOWHERE"),
        (["labels", "packs", "--out", str(out)], "exactly one of --cycle or --codes"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(cli, args, env=cli_env)
        assert result.exit_code != 0, args
        assert message in result.output, result.output
    assert not out.exists()
