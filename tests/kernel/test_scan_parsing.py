"""The scan parser turns anything a camera or wedge scanner sends into a reference,
or into Unknown naming the text; it never raises."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.labels import (
    BinRef,
    Gs1Ref,
    PackRef,
    Unknown,
    bin_url,
    normalize_gtin,
    pack_url,
    parse_scan,
)
from kernel.labels import scan as scan_module
from kernel.labels.scan import ECHO_LENGTH, MAX_SCAN_LENGTH

GS = "\x1d"
GTIN = "09506000134352"

RECOGNISED = [
    # our label URLs, any host, scheme, port or path prefix
    ("https://steristock.clinic.example/p/PK-000123", PackRef("PK-000123")),
    ("https://x/p/PK-000123", PackRef("PK-000123")),
    ("http://old-hostname:8000/p/PK-000123/", PackRef("PK-000123")),
    ("https://x/p/PK-000123?utm=1#top", PackRef("PK-000123")),
    ("HTTPS://X/P/pk-000123", PackRef("PK-000123")),
    ("https://clinic.example/steristock/p/PK-000123", PackRef("PK-000123")),
    ("https://x/p/PK%2D000123", PackRef("PK-000123")),
    ("https://x/p/OLD-42", PackRef("OLD-42")),
    ("http://x/b/EXAM1/GLV-M", BinRef("EXAM1", "GLV-M")),
    ("http://x/b/EXAM1/GLV-M/", BinRef("EXAM1", "GLV-M")),
    ("http://x/b/EXAM1/GLV-M?from=tablet", BinRef("EXAM1", "GLV-M")),
    ("https://x/b/EXAM%201/GLV%2FM%2BL", BinRef("EXAM 1", "GLV/M+L")),
    ("  https://x/b/EXAM1/GLV-M\r\n", BinRef("EXAM1", "GLV-M")),
    # bare pack codes
    ("PK-000123", PackRef("PK-000123")),
    ("  pk-000123 ", PackRef("PK-000123")),
    ("\tPk-000123\r\n", PackRef("PK-000123")),
    ("]Q1PK-000123", PackRef("PK-000123")),  # AIM prefix of a plain QR code
    # bin paths
    ("/b/EXAM1/GLV-M", BinRef("EXAM1", "GLV-M")),
    ("b/EXAM1/GLV-M", BinRef("EXAM1", "GLV-M")),
    ("B/EXAM1/GLV-M/", BinRef("EXAM1", "GLV-M")),
    ("/p/PK-000123", PackRef("PK-000123")),
    ("steristock.local:8000/p/PK-000123", PackRef("PK-000123")),  # URL without scheme
    ("]Q1https://x/b/SUPPLY/GAUZE-4X4", BinRef("SUPPLY", "GAUZE-4X4")),
    # GS1: parentheses, FNC1 as ASCII 29, symbology identifiers, bare GTINs, Digital Link
    (f"(01){GTIN}(17)271231(10)ABC", Gs1Ref(GTIN, "ABC", date(2027, 12, 31))),
    (f"  (01){GTIN}(10)LOT-7  ", Gs1Ref(GTIN, "LOT-7")),
    (f"]d201{GTIN}17271231{GS}10ABC123", Gs1Ref(GTIN, "ABC123", date(2027, 12, 31))),
    (f"]C101{GTIN}10ABC{GS}17271200", Gs1Ref(GTIN, "ABC", date(2027, 12, 31))),
    (f"]Q301{GTIN}10LOT1", Gs1Ref(GTIN, "LOT1")),
    (f"01{GTIN}17260630", Gs1Ref(GTIN, None, date(2026, 6, 30))),
    (f"{GS}01{GTIN}10X1{GS}17260630", Gs1Ref(GTIN, "X1", date(2026, 6, 30))),
    ("9506000134352", Gs1Ref(GTIN)),  # EAN-13 off a box
    ("]E09506000134352", Gs1Ref(GTIN)),
    ("036000291452", Gs1Ref("00036000291452")),  # UPC-A
    (f"https://id.gs1.org/01/{GTIN}/10/ABC?17=271231", Gs1Ref(GTIN, "ABC", date(2027, 12, 31))),
]


@pytest.mark.parametrize(("text", "expected"), RECOGNISED, ids=[repr(t) for t, _ in RECOGNISED])
def test_scan_text_is_recognised(text, expected):
    assert parse_scan(text) == expected


GARBAGE = [
    "",
    "   ",
    "\r\n",
    "hello",
    "PK-",
    "PK-12ab",
    "PK-000123-extra",
    "'; DROP TABLE packs; --",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "https://x/",
    "https://x/p/",
    "https://x/b/EXAM1",
    "https://x/b//GLV-M",
    "ftp://x/p/PK-000123",
    "javascript:alert(1)//p/PK-1",
    "https://x/p/%00PK-1",
    "https://x/p/%FF%FE",
    "https://[broken/p/PK-1",
    "9506000134353",  # bad check digit
    f"(01){GTIN}(17)271399",  # month 13
    "(01)123",
    "(((((",
    "]d2garbage",
    "]C1",
    "]",  # crashes biip itself
    "]d",
    "\x00\x01\x02\x1d\x1d",
    "\ufffd\ufffd binary \x80",
    "https://x/p/" + "A" * 500,
    "/" * 1000,
    "mailto:x/p/PK-000123",
]


@pytest.mark.parametrize("text", GARBAGE, ids=[repr(t)[:40] for t in GARBAGE])
def test_garbage_is_unknown_and_names_the_text(text):
    result = parse_scan(text)
    assert isinstance(result, Unknown)
    assert result.text == (text if len(text) <= ECHO_LENGTH else text[:ECHO_LENGTH] + "\u2026")
    assert result.reason


def test_ten_kilobytes_of_garbage_is_refused_unparsed_and_echoed_shortened(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("an over-long scan reached a parser")

    monkeypatch.setattr(scan_module, "_from_gs1", never)
    monkeypatch.setattr(scan_module, "_from_path", never)
    noise = "".join(chr(33 + (i * 7919) % 90) for i in range(10_240))
    for text in (noise, "]d2" + noise, "https://x/p/" + noise):
        assert "longer than" in parse_scan(text).reason
    result = parse_scan(noise)
    assert isinstance(result, Unknown)
    assert len(noise) > MAX_SCAN_LENGTH
    assert result.text == noise[:ECHO_LENGTH] + "\u2026"
    assert "longer than" in result.reason


def test_binary_bytes_decoded_as_latin1_are_unknown():
    blob = bytes(range(256)).decode("latin-1") * 4
    assert isinstance(parse_scan(blob), Unknown)


def test_long_unknown_text_under_the_cap_is_echoed_shortened():
    text = "z" * 1000
    result = parse_scan(text)
    assert isinstance(result, Unknown)
    assert result.text == "z" * ECHO_LENGTH + "\u2026"


def test_non_string_input_is_unknown_not_an_exception():
    assert isinstance(parse_scan(None), Unknown)  # type: ignore[arg-type]
    assert isinstance(parse_scan(b"PK-000123"), Unknown)  # type: ignore[arg-type]


def test_results_say_what_kind_of_thing_was_scanned():
    assert parse_scan("PK-1").kind == "pack"
    assert parse_scan("b/EXAM1/GLV-M").kind == "bin"
    assert parse_scan("9506000134352").kind == "item"
    assert parse_scan("nope").kind == "unknown"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("9506000134352", GTIN),
        (GTIN, GTIN),
        ("036000291452", "00036000291452"),
        (" 12345670 ", "00000012345670"),
    ],
)
def test_normalize_gtin_pads_to_fourteen_digits(value, expected):
    assert normalize_gtin(value) == expected


@pytest.mark.parametrize(
    "value", ["", "abc", "123", "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"]
)
def test_normalize_gtin_refuses_non_gtins(value):
    with pytest.raises(ValueError):
        normalize_gtin(value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_without_raising(text):
    assert isinstance(parse_scan(text), PackRef | BinRef | Gs1Ref | Unknown)


_segment_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s not in {".", ".."} and "\ufffd" not in s)


@settings(max_examples=200, deadline=None)
@given(location=_segment_text, sku=_segment_text)
def test_any_bin_label_payload_parses_back_to_its_location_and_sku(location, sku):
    assert parse_scan(bin_url("https://steristock.example", location, sku)) == BinRef(location, sku)


@settings(max_examples=100, deadline=None)
@given(number=st.integers(min_value=0, max_value=10**12 - 1))
def test_any_pack_label_payload_parses_back_to_its_code(number):
    code = f"PK-{number:06d}"
    assert parse_scan(pack_url("http://10.0.0.5:8000", code)) == PackRef(code)
    assert parse_scan(f"  {code.lower()}\n") == PackRef(code)
