"""Bytes to lines, the same way for every format.

Machines and the PCs that copy their files disagree on encodings and line ends: try UTF-8
strictly (a UTF-8 byte-order mark is dropped), else Latin-1, which decodes any byte; a
UTF-16 file is read when it starts with its byte-order mark. Lines may end in LF, CRLF or CR.
"""

from __future__ import annotations

import codecs
import re

from sterilization.records.errors import MalformedRecord

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SEPARATOR = re.compile(r"[-=_*]+")


def decode_record_bytes(data: bytes) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def looks_binary(data: bytes) -> bool:
    """Text records never hold NUL bytes (UTF-16 aside); binary exports such as a
    Tuttnauer `.cyc` are full of them."""
    return b"\x00" in data[:4096] and not data.startswith(_UTF16_BOMS)


def is_filler(line: str) -> bool:
    """Blank lines and rules of dashes carry nothing."""
    stripped = line.strip()
    return not stripped or _SEPARATOR.fullmatch(stripped) is not None


def record_lines(text: str) -> list[str]:
    """The record's lines, right-stripped. A record whose last line lacks its line end and
    carries content was cut off mid-line (a field such as `Error code 97` could be read as
    `Error code 9`), so it is refused rather than half-read."""
    lines = [line.rstrip() for line in _LINE_BREAK.split(text)]
    if text and not text.endswith(("\n", "\r")) and not is_filler(lines[-1]):
        raise MalformedRecord(
            f"the file ends in the middle of a line ({lines[-1].strip()[:40]!r}): "
            "it looks cut off; copy the record again from the machine"
        )
    return lines


_MISREAD_DEGREE = re.compile(r"(?:Â°|\?|º)(?=[CF]\b)")


def degree_sign(text: str) -> str:
    """Put back the `°` that a printer sent as `?`, or that became `Â°` when UTF-8 was read
    as Latin-1: `134?C` → `134°C`."""
    return _MISREAD_DEGREE.sub("°", text)


def squeeze(text: str) -> str:
    """Collapse runs of spaces, as printers pad columns: `Error code   97` → `Error code 97`."""
    return " ".join(text.split())
