"""The `steristock` command: users, migrations, settings."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kernel.auth.models import User
from kernel.settings import Settings
from steristock.cli import main as cli


@pytest.fixture
def cli_env(database_url, tmp_path):
    return {"DATABASE_URL": database_url, "STERISTOCK_DATA_DIR": str(tmp_path / "data")}


def test_users_create_with_password_option(cli_env, database):
    result = CliRunner().invoke(
        cli,
        ["users", "create", "Nurse1", "--role", "ma", "--password", "long enough pw"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "created user nurse1 (ma)" in result.output
    with database.session(write=False) as session:
        user = session.scalars(select(User).where(User.username == "nurse1")).one()
    assert user.role == "ma" and user.password_hash.startswith("$argon2id$")


def test_users_create_reads_the_password_from_stdin(cli_env, database):
    result = CliRunner().invoke(
        cli,
        ["users", "create", "buyer", "--role", "purchasing"],
        input="piped password\n",
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    assert "piped password" not in result.output


def test_users_create_refuses_duplicates_and_short_passwords(cli_env):
    runner = CliRunner()
    args = ["users", "create", "dup", "--role", "ma", "--password", "long enough pw"]
    assert runner.invoke(cli, args, env=cli_env).exit_code == 0
    again = runner.invoke(cli, args, env=cli_env)
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(
        cli, ["users", "create", "x2", "--role", "ma", "--password", "short"], env=cli_env
    )
    assert short.exit_code != 0 and "at least 8" in short.output
    bad_role = runner.invoke(cli, ["users", "create", "x3", "--role", "boss"], env=cli_env)
    assert bad_role.exit_code != 0


def test_db_upgrade_is_idempotent(cli_env):
    for _ in range(2):
        result = CliRunner().invoke(cli, ["db", "upgrade"], env=cli_env)
        assert result.exit_code == 0, result.output


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("STERISTOCK_SECRET_KEY", raising=False)
    settings = Settings(STERISTOCK_DATA_DIR=tmp_path / "data")
    key = settings.ensure_secret_key()
    assert len(key) >= 40
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    again = Settings(STERISTOCK_DATA_DIR=tmp_path / "data").ensure_secret_key()
    assert again == key
    other = Settings(STERISTOCK_DATA_DIR=tmp_path / "other").ensure_secret_key()
    assert other != key


def test_settings_default_to_sqlite_under_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(STERISTOCK_DATA_DIR=tmp_path)
    assert settings.effective_database_url == f"sqlite:///{tmp_path}/steristock.db"
    pg = Settings(DATABASE_URL="postgres://u@h/db")
    assert pg.effective_database_url == "postgresql+psycopg://u@h/db"


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(STERISTOCK_TIMEZONE="Mars/Olympus")
