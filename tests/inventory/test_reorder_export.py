"""`steristock reorder export` and the weekly cron script write the same CSV as the API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kernel.auth.models import Role
from steristock.cli import main
from tests.inventory.reorder_factories import receive
from tests.inventory_factories import InventoryFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stocked(database):
    inv = InventoryFactory(database)
    inv.locations("SUPPLY")
    first, second = inv.supplier("Acme"), inv.supplier("Zeta")
    for n, supplier in enumerate([first, second, second]):
        sku = inv.item(f"EXP-{n}", supplier_id=supplier, pack_size=5)
        inv.par(sku, "SUPPLY", 20)
        receive(database, sku, "SUPPLY", n + 1)
    return second


def test_cli_export_writes_the_same_csv_as_the_api(client, users, cli_env, stocked, tmp_path):
    out = tmp_path / "weekly.csv"
    result = CliRunner().invoke(main, ["reorder", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 suggestion(s)" in result.output
    api = client.get("/api/v1/reorder/suggestions.csv", headers=users.headers(Role.PURCHASING))
    assert out.read_bytes() == api.content

    one = tmp_path / "zeta.csv"
    result = CliRunner().invoke(
        main, ["reorder", "export", "--out", str(one), "--supplier", str(stocked)]
    )
    assert result.exit_code == 0, result.output
    assert len(one.read_text().splitlines()) == 3  # header + the two Zeta items
    result = CliRunner().invoke(main, ["reorder", "export", "--out", str(one), "--supplier", "99"])
    assert result.exit_code != 0 and "No supplier" in result.output


def test_weekly_script_writes_a_dated_file(backend, cli_env, stocked, tmp_path):
    if backend != "sqlite":
        pytest.skip("the script is the same on both databases; once is enough")
    env = {
        **os.environ,
        **cli_env,
        "REORDER_DIR": str(tmp_path / "out"),
        "STERISTOCK_BIN": str(Path(sys.executable).parent / "steristock"),
    }
    result = subprocess.run(
        [str(ROOT / "scripts" / "weekly_reorder.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    written = Path(result.stdout.strip().splitlines()[-1])
    assert written.parent == tmp_path / "out"
    assert written.name.startswith("reorder-") and written.suffix == ".csv"
    assert written.read_text().startswith("supplier,vendor_sku,sku,name,unit,pack_size,")


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_defused(client, users, database):
    inv = InventoryFactory(database)
    inv.locations("SUPPLY")
    sku = inv.item("FORMULA-1", name='=HYPERLINK("http://evil.example","x")')
    inv.par(sku, "SUPPLY", 10)
    response = client.get("/api/v1/reorder/suggestions.csv", headers=users.headers(Role.PURCHASING))
    assert response.status_code == 200
    assert "'=HYPERLINK(" in response.text
    assert ",=HYPERLINK(" not in response.text and '"=HYPERLINK(' not in response.text
