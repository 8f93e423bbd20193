"""The layer contract (pyproject.toml, `lint-imports`) holds, and it is real: a kernel module
importing a domain, or one domain importing the other, breaks it, naming the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kernel", "inventory", "sterilization", "steristock")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` run on a source tree (its own pyproject.toml, its packages first on
    the path, so a copy is linted rather than the installed checkout)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The packages' Python files and pyproject.toml, copied (no templates or static files)."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "templates", "static"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_import(module: Path, line: str) -> None:
    module.write_text(module.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_tree_keeps_the_layer_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_kernel_module_importing_a_domain_breaks_the_contract(tree_copy: Path) -> None:
    add_import(tree_copy / "kernel" / "fields.py", "import inventory.models  # noqa")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "kernel.fields -> inventory.models" in result.stdout


def test_a_domain_importing_another_domain_breaks_the_contract(tree_copy: Path) -> None:
    add_import(tree_copy / "inventory" / "bins.py", "from sterilization import packs  # noqa")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "inventory.bins -> sterilization.packs" in result.stdout


def test_the_kernel_importing_the_composition_breaks_the_contract(tree_copy: Path) -> None:
    add_import(tree_copy / "kernel" / "plugins.py", "import steristock.app  # noqa")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "kernel.plugins -> steristock.app" in result.stdout
