"""One CSV writer: formula-like text is defused for spreadsheets, numbers stay numbers,
rows stream in chunks."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from kernel.csv_export import csv_chunks, csv_text, defuse, frame_csv, undefuse


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_gets_a_leading_apostrophe(cell: str) -> None:
    assert defuse(cell) == "'" + cell
    assert undefuse(defuse(cell)) == cell


@pytest.mark.parametrize("cell", ["Gauze 4x4", "", "'quoted", "a=b", 3, -5, 2.5, None])
def test_other_cells_are_left_alone(cell: object) -> None:
    assert defuse(cell) == cell


def test_undefuse_keeps_an_apostrophe_that_was_typed() -> None:
    assert undefuse("'quoted") == "'quoted"


def test_csv_text_writes_rfc4180_lines_with_defused_cells() -> None:
    text = csv_text([("=cmd", -3, "ok, fine")], header=("name", "qty", "note"))
    assert text == 'name,qty,note\r\n\'=cmd,-3,"ok, fine"\r\n'


def test_text_columns_limit_the_defusing_to_the_cells_named() -> None:
    assert csv_text([("-1", "-1")], text_columns=[1]) == "-1,'-1\r\n"


def test_rows_stream_in_chunks_after_the_header() -> None:
    rows = ((i, f"-{i}") for i in range(5))
    chunks = list(csv_chunks(("n", "text"), rows, chunk_rows=2))
    assert len(chunks) == 4  # header + 2 + 2 + 1
    parsed = list(csv.reader(io.StringIO("".join(chunks))))
    assert parsed[0] == ["n", "text"]
    assert parsed[1:] == [[str(i), f"'-{i}"] for i in range(5)]


def test_no_rows_is_just_the_header() -> None:
    assert list(csv_chunks(("a",), iter(()))) == ["a\r\n"]


def test_frames_are_defused_and_numbers_stay_numbers() -> None:
    frame = pd.DataFrame({"name": ["=1+1", "Gloves"], "qty": [-2, 5]})
    assert frame_csv(frame) == "name,qty\r\n'=1+1,-2\r\nGloves,5\r\n"
    assert frame["name"][0] == "=1+1"  # the caller's frame is not changed


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_text_writes_another_delimiter_quoting_cells_that_hold_it(delimiter: str) -> None:
    text = csv_text([("=x", f"a{delimiter}b", 3)], header=("n", "m", "q"), delimiter=delimiter)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert rows == [["n", "m", "q"], ["'=x", f"a{delimiter}b", "3"]]
