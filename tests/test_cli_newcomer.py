"""Issue 14, findings 8 and 9: bad settings files, where the database is, what `db upgrade` did, a worker
that says what it does, `--json` on the list commands, and the sandbox started as the README shows."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli import cli
from connector.pipeline.worker import run_worker
from connector.services import Services
from connector.settings import load_settings
from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.fakes import FakePlatform
from tests.pipeline.conftest import add_shop, make_services

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder with a .env, as an operator's install would have."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.delenv("CONNECTOR_HOME", raising=False)
    (tmp_path / ".env").write_text(f"CONNECTOR_SECRET_KEY={TEST_SECRET_KEY}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_a_non_utf8_env_file_is_one_line_and_exit_2(home: Path) -> None:
    (home / ".env").write_bytes(b"CONNECTOR_SECRET_KEY=abc\nMAIL_FROM=Caf\xe9 <x@y.example>\n")
    result = CliRunner().invoke(cli, ["shops", "list"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: settings file {home / '.env'}, line 2: is not UTF-8 text (save it as UTF-8)"]


def test_a_malformed_env_file_is_one_line_and_exit_2(home: Path) -> None:
    (home / ".env").write_text("CONNECTOR_SECRET_KEY=abc\nthis line is not a setting\n")
    result = CliRunner().invoke(cli, ["shops", "list"])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: settings file {home / '.env'}, line 2: is not KEY=VALUE")


def test_the_default_database_is_anchored_to_the_folder_of_env(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = CliRunner().invoke(cli, ["db", "upgrade"])
    database = home / "data" / "connector.db"
    assert first.exit_code == 0 and database.exists()
    assert f"note: started a new, empty database: SQLite {database}" in first.stderr
    deeper = home / "some" / "where"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    again = CliRunner().invoke(cli, ["shops", "list"])
    assert again.exit_code == 0 and "new, empty database" not in again.output  # the same database, found again
    assert not (deeper / "data").exists()
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{database}" and settings.data_dir == home / "data"


def test_the_project_folder_anchors_too_when_there_is_no_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.delenv("CONNECTOR_HOME", raising=False)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "backorder-connector"\n')
    (tmp_path / "examples").mkdir()
    monkeypatch.chdir(tmp_path / "examples")
    assert load_settings().data_dir == tmp_path / "data"
    assert load_settings(database_url="sqlite:///elsewhere/x.db").database_url == f"sqlite:///{tmp_path}/elsewhere/x.db"


def test_serve_and_worker_name_the_database_at_start(home: Path) -> None:
    result = CliRunner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == f"database: SQLite {home / 'data' / 'connector.db'}"


def test_db_upgrade_says_what_it_applied(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": database_url, "CONNECTOR_SECRET_KEY": TEST_SECRET_KEY}
    first = CliRunner().invoke(cli, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    versions = sorted((Path(__file__).parents[1] / "connector/store/migrations/versions").glob("0*.py"))
    head = versions[-1].stem
    assert f"applied {len(versions)} migration(s)" in first.stdout and "0001: initial schema" in first.stdout
    assert "0003_operators: operators in control" in first.stdout
    assert f"database is now at {head}" in first.stdout
    second = CliRunner().invoke(cli, ["db", "upgrade"], env=env)
    assert f"already up to date (at {head}); nothing applied" in second.stdout


def test_the_worker_logs_each_batch_and_a_heartbeat(database_url: str, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    platform = FakePlatform()
    services = make_services(database_url, tmp_path / "data", platform, worker_heartbeat_seconds=0.05,
                             worker_poll_seconds=0.02)
    add_shop(services)
    caplog.set_level(logging.INFO, logger="connector.pipeline.worker")
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(services,), kwargs={"once": False, "stop_event": stop})
    worker.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        seen = [record.getMessage() for record in caplog.records]
        if any(" alive: " in m for m in seen) and any(" ran " in m for m in seen):
            break
        time.sleep(0.05)
    stop.set()
    worker.join(10)
    services.close()
    messages = [record.getMessage() for record in caplog.records]
    assert any(" ran " in m and " jobs, applied " in m and " actions in " in m for m in messages)  # a batch
    assert any(" alive: " in m and "deliveries and " in m and " actions waiting" in m for m in messages)


def test_every_list_command_has_json(database_url: str, tmp_path: Path) -> None:
    services = Services(make_settings(database_url, tmp_path), migrate=True)
    try:
        for args in (["shops", "list"], ["feeds", "list"], ["deliveries", "list"], ["actions", "list"],
                     ["held", "list"]):
            result = CliRunner().invoke(cli, [*args, "--json"], obj=services, catch_exceptions=False)
            assert result.exit_code == 0, (args, result.output)
            assert json.loads(result.stdout) == [], args
        add_shop(services)
        shops = json.loads(CliRunner().invoke(cli, ["shops", "list", "--json"], obj=services).stdout)
        assert [(s["domain"], s["state"]) for s in shops] == [("test.myshopify.com", "never synced")]
    finally:
        services.close()


def test_the_shopify_sandbox_starts_without_an_api_secret(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "SHOPIFY_API_SECRET"}
    process = subprocess.Popen([sys.executable, "-m", "connector", "sandbox", "shopify", "--port", "0"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert "Shopify sandbox listening on http://127.0.0.1:" in line
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert "development secret" in errors


def test_the_package_declares_an_spdx_license() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert 'license = "MIT"' in text and "license = {" not in text
