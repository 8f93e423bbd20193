"""Catalogue export (GET /api/v1/items.csv, /api/v1/par-levels.csv) and the command line
(`steristock items import|export`): the files are the import's formats, so exporting and
importing again is a round trip."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from inventory.models import Item, StockLevel
from inventory.responses import unit_cost_text as format_money
from kernel.audit.models import AuditEntry
from kernel.auth.models import Role
from steristock.cli import main as cli
from tests.inventory_factories import InventoryFactory

FIXTURES = Path(__file__).parent / "fixtures"


def count(database, model) -> int:
    with database.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_money_is_exported_as_a_plain_decimal():
    assert [format_money(Decimal(v)) for v in ("7.5", "0.0450", "1234.5678", "3")] == [
        "7.50", "0.045", "1234.5678", "3.00",
    ]  # fmt: skip


@pytest.mark.parametrize("role", [Role.MA, Role.AUDITOR, Role.PURCHASING])
def test_exports_are_readable_by_every_role_that_reads_the_catalogue(client, database, users, role):
    inv = InventoryFactory(database)
    inv.locations("EXAM1")
    inv.item("GLV-M", unit_cost=Decimal("0.045"), lot_tracked=True, gtin="07032144072622")
    inv.par("GLV-M", "EXAM1", 9)
    headers = users.headers(role)
    items = client.get("/api/v1/items.csv", headers=headers)
    assert items.status_code == 200
    assert items.headers["content-disposition"] == 'attachment; filename="items.csv"'
    line = items.text.split("\r\n")[1]
    assert line.startswith("GLV-M,") and ",0.045,07032144072622," in line and ",yes," in line
    par = client.get("/api/v1/par-levels.csv", headers=headers)
    assert par.text == "sku,location,par_level,reorder_point\r\nGLV-M,EXAM1,9,5\r\n"


def test_cli_imports_both_files_in_one_transaction_then_exports_them(cli_env, database, tmp_path):
    runner = CliRunner()
    items, par = FIXTURES / "distributor_items.csv", FIXTURES / "distributor_par_levels.csv"
    dry = runner.invoke(cli, ["items", "import", str(items), "--par-levels", str(par),
                              "--dry-run"], env=cli_env)  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert "items: 500 to create" in dry.output and "par levels: 999 to create" in dry.output
    assert "dry run: nothing was written" in dry.output
    assert count(database, Item) == 0
    done = runner.invoke(cli, ["items", "import", str(items), "--par-levels", str(par)],
                         env=cli_env)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert count(database, Item) == 500
    out, par_out = tmp_path / "items.csv", tmp_path / "par.csv"
    exported = runner.invoke(
        cli, ["items", "export", "--out", str(out), "--par-levels-out", str(par_out)],
        env=cli_env,
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert "wrote 500 row(s)" in exported.output and "wrote 999 row(s)" in exported.output
    again = runner.invoke(cli, ["items", "import", str(out), "--par-levels", str(par_out)],
                          env=cli_env)  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "items: 0 to create, 0 to update, 500 unchanged" in again.output
    assert "par levels: 0 to create, 0 to update, 999 unchanged" in again.output


def test_cli_refuses_a_bad_file_with_row_numbers_and_writes_nothing(cli_env, database, tmp_path):
    items = tmp_path / "items.csv"
    items.write_text((FIXTURES / "distributor_items.csv").read_text(encoding="utf-8-sig"))
    par = tmp_path / "par.csv"
    par.write_text("sku,location,par_level,reorder_point\nGLO-0001,EXAM1,-3,\nNOPE,EXAM1,1,\n")
    before = count(database, AuditEntry)
    result = CliRunner().invoke(
        cli, ["items", "import", str(items), "--par-levels", str(par)], env=cli_env
    )
    assert result.exit_code == 1
    assert "row 2 [par_level]" in result.output and "row 3 [sku]" in result.output
    assert "Nothing was imported" in result.output
    assert count(database, Item) == 0 and count(database, StockLevel) == 0
    assert count(database, AuditEntry) == before


def test_cli_import_needs_a_file(cli_env):
    result = CliRunner().invoke(cli, ["items", "import"], env=cli_env)
    assert result.exit_code == 2 and "Give an items file" in result.output
