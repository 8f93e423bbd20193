"""Finding record files on disk (`steristock cycles import PATH...`): files as given, folders
walked (a USB stick's copy), in name order. Hidden files and the Tuttnauer's binary `.cyc`
beside its `.txt` are skipped with a word, not refused: they are what the stick holds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Found:
    path: Path
    skip: str | None = None  # why the file is not imported (not a failure)


def record_files(paths: list[Path]) -> Iterator[Found]:
    """Every file under `paths`; a folder's files in name order, sub-folders included."""
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                yield _found(child, given=False)
        else:
            yield _found(path, given=True)


def _found(path: Path, *, given: bool) -> Found:
    if not given and any(part.startswith(".") for part in path.parts[-1:]):
        return Found(path, skip="hidden file")
    if path.suffix.lower() == ".cyc" and path.with_suffix(".txt").is_file():
        return Found(path, skip=f"the machine's binary copy of {path.with_suffix('.txt').name}")
    return Found(path)
