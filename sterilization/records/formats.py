"""The registry of record formats. A new vendor is one module with a `FORMAT` and one line
in `FORMATS`."""

from __future__ import annotations

from sterilization.records import sirona_dac, tuttnauer_elara
from sterilization.records.decoding import decode_record_bytes, looks_binary
from sterilization.records.errors import UnknownRecordFormat
from sterilization.records.record import MachineRecord, RecordFormat

FORMATS: tuple[RecordFormat, ...] = (
    tuttnauer_elara.FORMAT,
    sirona_dac.FORMAT,
)


def format_names() -> str:
    """The formats read, for messages: `Tuttnauer Elara (USB .txt), Sirona DAC ...`."""
    return ", ".join(record_format.name for record_format in FORMATS)


def parse_record(data: bytes, filename: str | None = None) -> MachineRecord:
    """Read one sterilizer cycle record. Raises `UnknownRecordFormat` when no format
    recognises the content, `MalformedRecord` when one does but the record is broken or cut
    short; nothing else."""
    if not looks_binary(data):
        text = decode_record_bytes(data)
        for record_format in FORMATS:
            if record_format.sniff(text, filename):
                return record_format.parse(text)
    hints = [f.hint(data, filename) for f in FORMATS if f.hint is not None]
    hint = next((h for h in hints if h), None)
    what = "a binary file, not" if looks_binary(data) else "not"
    raise UnknownRecordFormat(
        f"{what} a sterilizer cycle record SteriStock can read (formats read: {format_names()})"
        + (f"; {hint}" if hint else "")
    )
