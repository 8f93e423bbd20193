"""What can go wrong when reading a sterilizer's record: one base class the importer catches."""

from __future__ import annotations


class RecordFormatError(Exception):
    """The bytes are not a readable sterilizer record. The message is for the person who
    uploaded the file."""


class UnknownRecordFormat(RecordFormatError):
    """No registered format recognises the content."""


class MalformedRecord(RecordFormatError):
    """A known format, but the record is broken or cut short, so nothing in it is trusted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
