"""README and docs/ stand alone: nothing points outside the repository, and the README
lists every document there is (and only those)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
OUTSIDE = re.compile(r"(?<!\.)\.\./|(?<![\w-])shared/|/work/|SPEC\.md")


def test_readme_and_docs_point_at_nothing_outside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in [ROOT / "README.md", *DOCS]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_readme_lists_every_document() -> None:
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"docs/[\w-]+\.md", readme))
    present = {f"docs/{path.name}" for path in DOCS}
    assert listed - present == set(), "the README lists documents that do not exist"
    assert present - listed == set(), "documents the README does not list"
