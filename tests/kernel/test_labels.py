"""Labels always scan and always carry the human-readable facts.

Every format goes through a real decoder (zxing-cpp); PDFs are rasterised with pdfium
at 300 dpi, as a printer would see them.
"""

from __future__ import annotations

import io
import random
import xml.etree.ElementTree as ET
from datetime import date

import numpy as np
import pypdfium2 as pdfium
import pytest
import qrcode
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M
from qrcode.util import lost_point

from kernel.labels import (
    AVERY_5160,
    THERMAL_2X1,
    BinLabel,
    BinRef,
    LabelTooDenseError,
    PackLabel,
    bin_label_png,
    bin_label_svg,
    bin_labels_pdf,
    bin_url,
    pack_label_png,
    pack_label_svg,
    pack_labels_pdf,
    pack_url,
    parse_scan,
)
from kernel.labels.content import (
    ELLIPSIS,
    PADDING_PT,
    TextLine,
    layout_label,
    pack_lines,
    place_lines,
)
from kernel.labels.geometry import INCH
from kernel.labels.images import helvetica_width
from kernel.labels.qr import (
    MIN_MODULE_MM,
    QUIET_ZONE_MODULES,
    FastMaskQRCode,
    mask_penalties,
    module_size_mm,
    qr_matrix,
    qr_version,
)
from kernel.labels.sheets import PdfLabelSheet, pdf_text

PUBLIC_URL = "https://steristock.clinic.example"
DPI = 300
LONG = "Laceration tray with Metzenbaum scissors, Adson forceps and needle driver " * 3

STERILIZED = PackLabel(
    code="PK-000123",
    description="Basic exam kit",
    assembled_by="mjones",
    sterilizer="Autoclave A",
    cycle_number=42,
    sterilized_on=date(2026, 11, 28),
    expires_on=date(2027, 5, 27),
)
ASSEMBLED = PackLabel(code="PK-000124", description="Suture kit", assembled_by="mjones")


def decode(image: Image.Image) -> list[zxingcpp.Result]:
    return [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def decoded_texts(image: Image.Image) -> list[str]:
    return [r.text for r in decode(image)]


def render_pages(pdf: bytes, dpi: int = DPI) -> list[tuple[tuple[float, float], Image.Image]]:
    document = pdfium.PdfDocument(pdf)
    return [
        (page.get_size(), page.render(scale=dpi / 72).to_pil().convert("L")) for page in document
    ]


def pack_labels(count: int, description: str = "Exam kit") -> list[PackLabel]:
    return [
        PackLabel(code=f"PK-{n:06d}", description=description, assembled_by="ma")
        for n in range(1, count + 1)
    ]


# --- single labels -----------------------------------------------------------------


@pytest.mark.parametrize("label", [STERILIZED, ASSEMBLED], ids=["sterilized", "assembled"])
@pytest.mark.parametrize("fmt", ["letter", "thermal"])
def test_pack_label_png_decodes_to_the_pack_url_with_error_correction_m(label, fmt):
    png = pack_label_png(label, PUBLIC_URL, format=fmt)
    image = Image.open(io.BytesIO(png))
    sheet = AVERY_5160 if fmt == "letter" else THERMAL_2X1
    assert image.size == (round(sheet.label_width / 72 * DPI), round(sheet.label_height / 72 * DPI))
    assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)
    (result,) = decode(image)
    assert result.text == f"{PUBLIC_URL}/p/{label.code}"
    assert result.ec_level == "M"


@pytest.mark.parametrize("factor", [2, 3])
@pytest.mark.parametrize("resample", [Image.Resampling.BILINEAR, Image.Resampling.BOX])
def test_pack_label_png_still_decodes_downscaled_like_a_distant_camera(factor, resample):
    """At 1/3 scale a module is about 2 pixels, where camera decoders give up."""
    image = Image.open(io.BytesIO(pack_label_png(STERILIZED, PUBLIC_URL)))
    small = image.resize((image.width // factor, image.height // factor), resample)
    assert decoded_texts(small) == [pack_url(PUBLIC_URL, "PK-000123")]


def test_png_modules_print_at_least_half_a_millimetre():
    image = Image.open(io.BytesIO(pack_label_png(STERILIZED, PUBLIC_URL)))
    (result,) = decode(image)
    position = result.position
    symbol_px = position.top_right.x - position.top_left.x  # outer edge to outer edge
    modules = len(qr_matrix(pack_url(PUBLIC_URL, "PK-000123")))
    module_px = symbol_px / modules
    assert module_px / DPI * 25.4 >= MIN_MODULE_MM


def test_png_has_a_white_quiet_zone_of_four_modules_inside_the_label():
    image = Image.open(io.BytesIO(pack_label_png(STERILIZED, PUBLIC_URL))).convert("L")
    (result,) = decode(image)
    left, top = result.position.top_left.x, result.position.top_left.y
    right, bottom = result.position.bottom_right.x, result.position.bottom_right.y
    module_px = (right - left + 1) / len(qr_matrix(pack_url(PUBLIC_URL, "PK-000123")))
    zone = round(QUIET_ZONE_MODULES * module_px)
    outer = (left - zone, top - zone, right + zone + 1, bottom + zone + 1)
    assert outer[0] >= 0 and outer[1] >= 0
    assert outer[2] <= image.width and outer[3] <= image.height
    band = image.crop(outer)
    band.paste(255, (zone, zone, zone + right - left + 1, zone + bottom - top + 1))
    assert band.getextrema()[0] == 255, "something dark inside the quiet zone"


def test_bin_label_png_round_trips_awkward_codes_through_the_scan_parser():
    label = BinLabel(location_code="EXAM 1", sku="GLV/M+L?", name="Nitrile gloves M", unit="box")
    (text,) = decoded_texts(Image.open(io.BytesIO(bin_label_png(label, PUBLIC_URL))))
    assert text == f"{PUBLIC_URL}/b/EXAM%201/GLV%2FM%2BL%3F"
    assert parse_scan(text) == BinRef("EXAM 1", "GLV/M+L?")


def test_pack_label_text_says_what_an_ma_needs_to_read():
    texts = [line.text for line in pack_lines(STERILIZED)]
    assert texts == [
        "PK-000123",
        "Basic exam kit",
        "Autoclave A \u00b7 cycle 42",
        "Sterilized 2026-11-28",
        "Expires 2027-05-27",
        "Assembled by mjones",
    ]


def test_pack_label_before_sterilization_says_so_and_expiry_defaults_to_event_related():
    texts = [line.text for line in pack_lines(ASSEMBLED)]
    assert "Not yet sterilized" in texts
    assert "Expiry: event-related" in texts
    assert "Sterilized ________" in texts  # to write in by hand if printed at assembly
    assert texts[0] == "PK-000124"


def test_pack_label_svg_is_well_formed_and_carries_the_text():
    nasty = PackLabel(
        code="PK-000125",
        description='Kit <b>"&amp;</b>\x00\x1f with control chars',
        assembled_by="o'brien",
        sterilizer="Autoclave A",
        cycle_number=7,
    )
    svg = pack_label_svg(nasty, PUBLIC_URL)
    root = ET.fromstring(svg.encode())  # noqa: S314 (our own output)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("width") == "2.625in" and root.get("height") == "1in"
    texts = [element.text for element in root.iter(f"{ns}text")]
    assert texts[0] == "PK-000125"
    assert texts[1].startswith('Kit <b>"&amp;</b> with')
    assert "Autoclave A \u00b7 cycle 7" in texts
    assert root.find(f"{ns}title").text == f"{PUBLIC_URL}/p/PK-000125"
    assert root.find(f"{ns}path").get("d").startswith("M")


def test_bin_label_svg_names_item_sku_location_and_par():
    svg = bin_label_svg(
        BinLabel("EXAM1", "GLV-M", "Nitrile gloves M", unit="box", par_level=20), PUBLIC_URL
    )
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    texts = [e.text for e in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["Nitrile gloves M", "SKU GLV-M", "Location EXAM1", "Par 20 box"]


def test_payloads_quote_path_parts_and_ignore_a_trailing_slash():
    assert pack_url(PUBLIC_URL + "/", "PK-000123") == f"{PUBLIC_URL}/p/PK-000123"
    assert bin_url(PUBLIC_URL, "EXAM1", "GLV-M") == f"{PUBLIC_URL}/b/EXAM1/GLV-M"
    assert bin_url(PUBLIC_URL, "A/B", "x y") == f"{PUBLIC_URL}/b/A%2FB/x%20y"
    with pytest.raises(ValueError):
        pack_url(PUBLIC_URL, "")


# --- QR density ------------------------------------------------------------------------


@pytest.mark.parametrize("sheet", [AVERY_5160, THERMAL_2X1], ids=["letter", "thermal"])
@pytest.mark.parametrize("url_length", [len(PUBLIC_URL), 60])
def test_module_size_is_at_least_half_a_millimetre_for_the_qr_version_used(sheet, url_length):
    public_url = "https://" + "h" * (url_length - len("https://"))
    matrix = qr_matrix(pack_url(public_url, "PK-000123"))
    layout = layout_label(sheet.label_width, sheet.label_height, matrix)
    version = qr_version(matrix)
    side_modules = 17 + 4 * version + 2 * QUIET_ZONE_MODULES
    assert len(matrix) == 17 + 4 * version
    assert layout.qr_side / side_modules * 25.4 / 72 >= MIN_MODULE_MM
    assert module_size_mm(layout.qr_side, matrix) >= MIN_MODULE_MM
    # the QR square, quiet zone included, stays inside the label
    assert layout.qr_x >= 0 and layout.qr_y + layout.qr_side <= sheet.label_height


def test_a_public_url_too_long_for_half_millimetre_modules_is_refused():
    with pytest.raises(LabelTooDenseError, match=r"0\.5 mm"):
        pack_label_png(STERILIZED, "https://" + "h" * 120)
    with pytest.raises(LabelTooDenseError):
        pack_labels_pdf([STERILIZED], "https://" + "h" * 120)


# --- PDF sheets ------------------------------------------------------------------------


def cell_index_of(result: zxingcpp.Result, page_index: int, sheet, dpi: int = DPI) -> int:
    """Which label slot a decoded code sits in, from its centre on the rendered page."""
    points = [result.position.top_left, result.position.bottom_right]
    cx = sum(p.x for p in points) / 2 * 72 / dpi
    cy = sum(p.y for p in points) / 2 * 72 / dpi
    for slot in range(sheet.per_page):
        cell = sheet.cell(slot)
        if cell.x <= cx <= cell.x + cell.width and cell.y <= cy <= cell.y + cell.height:
            return page_index * sheet.per_page + slot
    raise AssertionError(f"QR centred at ({cx:.1f}, {cy:.1f}) pt is in no label cell")


def test_avery_5160_geometry_matches_the_published_template():
    sheet = AVERY_5160
    assert (sheet.page_width, sheet.page_height) == (612, 792)
    assert (sheet.label_width, sheet.label_height) == (2.625 * INCH, 1 * INCH)
    assert (sheet.columns, sheet.rows, sheet.per_page) == (3, 10, 30)
    first, last = sheet.cell(0), sheet.cell(29)
    assert (first.page, first.x, first.y) == (0, 0.1875 * INCH, 0.5 * INCH)
    assert sheet.cell(1).x - first.x == 2.75 * INCH  # 0.125 in gutter
    assert sheet.cell(1).x - (first.x + first.width) == 0.125 * INCH
    assert sheet.cell(3).y - first.y == 1 * INCH
    # the layout is centred: right and bottom margins equal the left and top ones
    assert sheet.page_width - (last.x + last.width) == pytest.approx(0.1875 * INCH)
    assert sheet.page_height - (last.y + last.height) == pytest.approx(0.5 * INCH)
    assert sheet.cell(30).page == 1 and sheet.cell(30).x == first.x and sheet.cell(30).y == first.y
    every = [(c.x, c.y) for c in map(sheet.cell, range(30))]
    assert every == [
        (0.1875 * INCH + col * 2.75 * INCH, 0.5 * INCH + row * INCH)
        for row in range(10)
        for col in range(3)
    ]


def test_thirty_labels_fill_one_letter_page_and_every_qr_decodes_in_its_slot():
    labels = pack_labels(30)
    pages = render_pages(pack_labels_pdf(labels, PUBLIC_URL, format="letter"))
    assert len(pages) == 1
    size, image = pages[0]
    assert size == (612, 792)
    found = {cell_index_of(r, 0, AVERY_5160): r.text for r in decode(image)}
    assert found == {i: pack_url(PUBLIC_URL, label.code) for i, label in enumerate(labels)}


def test_thirty_one_labels_take_a_second_page():
    labels = pack_labels(31)
    pages = render_pages(pack_labels_pdf(labels, PUBLIC_URL))
    assert [size for size, _ in pages] == [(612, 792), (612, 792)]
    (result,) = decode(pages[1][1])
    assert cell_index_of(result, 1, AVERY_5160) == 30
    assert result.text == pack_url(PUBLIC_URL, "PK-000031")


def test_skip_starts_on_a_partly_used_sheet():
    pages = render_pages(pack_labels_pdf(pack_labels(2), PUBLIC_URL, skip=29))
    assert len(pages) == 2
    ((first,), (second,)) = decode(pages[0][1]), decode(pages[1][1])
    assert cell_index_of(first, 0, AVERY_5160) == 29
    assert cell_index_of(second, 1, AVERY_5160) == 30
    with pytest.raises(ValueError):
        pack_labels_pdf(pack_labels(1), PUBLIC_URL, skip=30)


def test_thermal_prints_one_two_by_one_inch_label_per_page():
    labels = [STERILIZED, ASSEMBLED, *pack_labels(1, description=LONG)]
    pages = render_pages(pack_labels_pdf(labels, PUBLIC_URL, format="thermal"))
    assert [size for size, _ in pages] == [(144, 72)] * 3
    for (_, image), label in zip(pages, labels, strict=True):
        assert decoded_texts(image) == [pack_url(PUBLIC_URL, label.code)]


def test_bin_sheet_decodes_to_bin_urls():
    labels = [
        BinLabel("EXAM1", f"SKU-{n}", f"Item {n} {LONG}", unit="each", par_level=n)
        for n in range(5)
    ]
    ((size, image),) = render_pages(bin_labels_pdf(labels, PUBLIC_URL))
    assert size == (612, 792)
    found = {cell_index_of(r, 0, AVERY_5160): r.text for r in decode(image)}
    assert found == {n: f"{PUBLIC_URL}/b/EXAM1/SKU-{n}" for n in range(5)}


def test_long_text_never_prints_outside_its_label():
    """Rasterise a full sheet of over-long labels: every dark pixel is inside a cell's
    padded area, so nothing reaches the gutters, margins or neighbouring labels."""
    labels = [
        PackLabel(f"PK-{n:06d}", LONG, "m" * 80, "W" * 80, 123456, date(2026, 1, 1))
        for n in range(30)
    ]
    ((_, image),) = render_pages(pack_labels_pdf(labels, PUBLIC_URL), dpi=150)
    scale = 150 / 72
    ink = Image.new("L", image.size, 0)  # where ink may be: 255
    for slot in range(30):
        cell = AVERY_5160.cell(slot)
        box = (
            int((cell.x + PADDING_PT - 1) * scale),
            int((cell.y + PADDING_PT - 1) * scale),
            int((cell.x + cell.width - PADDING_PT + 1) * scale) + 1,
            int((cell.y + cell.height - PADDING_PT + 1) * scale) + 1,
        )
        ink.paste(255, box)
    outside = Image.composite(Image.new("L", image.size, 255), image, ink)
    assert outside.getextrema()[0] >= 250, "ink found outside the label cells"
    assert len(decode(image)) == 30


def test_long_description_is_ellipsized_to_fit_its_cell_measured_like_fpdf():
    for sheet in (AVERY_5160, THERMAL_2X1):
        document = PdfLabelSheet(sheet, "test")
        label = PackLabel("PK-000001", LONG, "mjones", "Autoclave A", 9, date(2026, 1, 1))
        matrix = qr_matrix(pack_url(PUBLIC_URL, label.code))
        layout = layout_label(sheet.label_width, sheet.label_height, matrix)
        placed = place_lines(pack_lines(label), layout, document.measure)
        first, second = placed[1], placed[2]  # the description wraps onto two lines
        assert second.text.endswith(ELLIPSIS)
        assert LONG.startswith(f"{first.text} {second.text[:-1]}")
        assert len(second.text) > 5
        assert placed[3].text == "Autoclave A \u00b7 cycle 9"
        for line in placed:
            width = document.measure(line.text, line.size, line.bold)
            assert line.x + width <= sheet.label_width - PADDING_PT + 1e-6
            assert line.baseline + 0.25 * line.size <= sheet.label_height - PADDING_PT
        assert placed[0].text == "PK-000001"  # the code itself is never cut


def test_a_description_that_fits_on_two_lines_wraps_at_a_space_without_ellipsis():
    label = PackLabel("PK-000001", "Laceration tray with Metzenbaum scissors", "mjones")
    document = PdfLabelSheet(THERMAL_2X1, "test")
    matrix = qr_matrix(pack_url(PUBLIC_URL, label.code))
    layout = layout_label(THERMAL_2X1.label_width, THERMAL_2X1.label_height, matrix)
    texts = [line.text for line in place_lines(pack_lines(label), layout, document.measure)]
    assert texts[1:3] == ["Laceration tray with", "Metzenbaum scissors"]
    assert texts[-1] == "Assembled by mjones"  # wrapping never pushes a fact off the label


def test_text_that_cannot_fit_at_all_becomes_empty_rather_than_overflowing():
    matrix = qr_matrix(pack_url(PUBLIC_URL, "PK-1"))
    layout = layout_label(80, 72, matrix)  # barely wider than the QR square
    (line,) = place_lines([TextLine("Anything", 10)], layout, helvetica_width)
    assert line.text == ""


def test_pdf_text_transliterates_what_helvetica_cannot_show():
    assert (
        pdf_text("Caf\u00e9 \u0150r\u00fcl\u00e9s \u2026 \u65e5")
        == "Caf\u00e9 Or\u00fcl\u00e9s \u2026 ?"
    )
    pdf = pack_labels_pdf(
        [PackLabel("PK-000001", "\u65e5\u672c\u8a9e kit \u0150", "\u00e9milie")], PUBLIC_URL
    )
    ((_, image),) = render_pages(pdf)
    assert decoded_texts(image) == [pack_url(PUBLIC_URL, "PK-000001")]


def test_pdf_text_layer_holds_the_code_and_the_ellipsized_description():
    pdf = pack_labels_pdf(pack_labels(1, description=LONG), PUBLIC_URL)
    page = pdfium.PdfDocument(pdf)[0]
    text = page.get_textpage().get_text_range()
    assert "PK-000001" in text
    assert ELLIPSIS in text
    assert "Expiry: event-related" in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pack_labels_pdf([], PUBLIC_URL), "no labels"),
        (lambda: pack_labels_pdf(pack_labels(1), PUBLIC_URL, format="a4"), "unknown label format"),
        (lambda: pack_label_png(STERILIZED, PUBLIC_URL, dpi=10_000), "dpi"),
    ],
)
def test_bad_arguments_raise_value_error_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- the QR encoder ------------------------------------------------------------------


def test_fast_mask_search_makes_exactly_the_symbols_stock_qrcode_makes():
    rng = random.Random(6)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-%/.:"
    versions = set()
    for _ in range(60):
        payload = "https://x/p/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        for level in (ERROR_CORRECT_M, ERROR_CORRECT_H):
            stock = qrcode.QRCode(error_correction=level, border=0)
            stock.add_data(payload)
            stock.make(fit=True)
            ours = FastMaskQRCode(error_correction=level, border=0)
            ours.add_data(payload)
            ours.make(fit=True)
            assert ours.modules == stock.modules, payload
            versions.add(stock.version)
    assert len(versions) >= 6 and max(versions) >= 7  # includes version-information symbols


def test_mask_penalties_score_like_qrcode_lost_point():
    import random

    rng = random.Random(7)
    for _ in range(60):
        size = rng.choice([11, 21, 25, 29, 37, 45])
        density = rng.choice([0.2, 0.5, 0.8])
        stack = [
            [[rng.random() < density for _ in range(size)] for _ in range(size)]
            for _ in range(rng.randint(1, 8))
        ]
        assert mask_penalties(np.array(stack, dtype=bool)) == [lost_point(m) for m in stack]


@settings(max_examples=25, deadline=None)
@given(
    code=st.text(min_size=1, max_size=20),
    text=st.text(max_size=120),
    number=st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_any_text_renders_in_every_format(code, text, number):
    """Imported or typed text (emoji, RTL, control characters) never breaks a label."""
    label = PackLabel(code, text, text, text or None, number)
    try:
        pack_label_png(label, PUBLIC_URL)
        ET.fromstring(pack_label_svg(label, PUBLIC_URL))  # noqa: S314 (our own output)
        pack_labels_pdf([label], PUBLIC_URL, format="thermal")
        bin_labels_pdf([BinLabel(code, code, text, text, number)], PUBLIC_URL)
    except LabelTooDenseError:
        pass  # a code so long its QR cannot print at 0.5 mm: refused, not mangled
