"""Sterilizer cycle records: the machine's own printout or USB file, read into one
vendor-neutral `MachineRecord`. Pure parsing: matching to cycles and storage live elsewhere."""

from sterilization.records.errors import MalformedRecord, RecordFormatError, UnknownRecordFormat
from sterilization.records.formats import FORMATS, format_names, parse_record
from sterilization.records.record import (
    Hold,
    MachineRecord,
    PressureReading,
    RecordFormat,
    Sample,
    SetPoint,
)

__all__ = [
    "FORMATS",
    "Hold",
    "MachineRecord",
    "MalformedRecord",
    "PressureReading",
    "RecordFormat",
    "RecordFormatError",
    "Sample",
    "SetPoint",
    "UnknownRecordFormat",
    "format_names",
    "parse_record",
]
