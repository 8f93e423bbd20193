"""A catalogue file's header is read in linear time: 40,000 columns (80 KB of `a,`) cost
pandas quadratic CPU renaming duplicates; now the header is refused before pandas."""

from __future__ import annotations

from inventory.catalogue_import.reading import ITEM_COLUMNS, ITEM_REQUIRED, read_table


def header_file(extra: list[str]) -> bytes:
    cols = [*ITEM_COLUMNS, *extra]
    return (",".join(cols) + "\n" + ",".join("x" for _ in cols) + "\n").encode()


def test_a_header_of_forty_thousand_columns_is_refused_naming_the_limit():
    table = read_table(header_file(["a"] * 40_000), "items", ITEM_COLUMNS, ITEM_REQUIRED)
    assert table.frame is None
    [problem] = table.problems
    assert problem.row == 1 and "40012 columns" in problem.message


def test_a_column_named_twice_is_refused():
    table = read_table(header_file(["Name"]), "items", ITEM_COLUMNS, ITEM_REQUIRED)
    assert [p.message for p in table.problems] == ["Column named more than once: name."]
