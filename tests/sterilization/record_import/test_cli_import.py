"""`steristock cycles import PATH...` (SPEC section 8): a USB stick's folder imported as a
clinic would, one line per file, non-zero exit when a file was refused."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from steristock.cli import main as cli
from tests.sterilization.records.samples import DAC, TUTTNAUER


@pytest.fixture
def cli_env(database_url, tmp_path):
    return {"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def usb_stick(tmp_path):
    stick = tmp_path / "USB"
    shutil.copytree(TUTTNAUER, stick / "TXT")
    return stick


def run(cli_env, *paths) -> object:
    return CliRunner().invoke(cli, ["cycles", "import", *map(str, paths)], env=cli_env)


def test_a_usb_folder_imports_every_record_one_line_per_file(records, cli_env, usb_stick):
    records.elara()
    result = run(cli_env, usb_stick)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 12  # 10 .txt, the .cyc skipped, then the summary
    assert any("cycle_000259.cyc: skipped" in line for line in lines)
    assert lines[-1] == "10 imported, 0 refused, 11 file(s) read"
    log = records.log()
    # Every record but the drying-only program became a cycle, with the machine's numbers.
    assert sorted(c["machine_cycle_number"] for c in log) == [
        259, 260, 261, 262, 263, 264, 341, 428, 429,
    ]  # fmt: skip
    drying = next(line for line in lines if "cycle_000414.txt" in line)
    assert "attached to cycle id" in drying


def test_importing_the_same_folder_again_creates_nothing(records, cli_env, usb_stick):
    records.elara()
    assert run(cli_env, usb_stick).exit_code == 0
    before = records.log()
    again = run(cli_env, usb_stick)
    assert again.exit_code == 0, again.output
    assert again.output.count("already imported") == 10
    assert records.log() == before


def test_a_refused_file_is_a_line_with_its_reason_and_a_non_zero_exit(
    records, cli_env, usb_stick, tmp_path
):
    records.elara()
    junk = usb_stick / "notes.txt"
    junk.write_text("call the technician\n")
    result = run(cli_env, usb_stick, DAC / "zyklus-13-ok.txt")
    assert result.exit_code == 1
    assert "notes.txt: refused: not a sterilizer cycle record" in result.output
    # No sterilizer has the DAC's serial: refused, naming it; the others were imported.
    assert "zyklus-13-ok.txt: refused:" in result.output and "601362" in result.output
    assert len(records.log()) == 9
