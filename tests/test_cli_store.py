"""CLI commands over the database: settings errors, shops, feeds import and list, reconcile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from connector import __version__
from connector.cli import cli
from tests.conftest import TEST_SECRET_KEY


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    env = {"DATABASE_URL": database_url, "CONNECTOR_SECRET_KEY": TEST_SECRET_KEY, "DATA_DIR": str(tmp_path / "data")}

    def invoke(*args: str, **extra_env: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env={**env, **extra_env}, catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0  # only `db upgrade` and the long-running commands migrate
    return invoke


def write(path: Path, text_: str) -> str:
    path.write_text(text_)
    return str(path)


def test_version_and_help() -> None:
    runner = CliRunner()
    assert __version__ in runner.invoke(cli, ["--version"]).output
    for command in ([], ["plan"], ["feeds", "import"], ["shops", "add", "shopify"], ["reconcile"], ["db", "upgrade"]):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Usage:" in result.output


def test_bad_setting_is_one_line_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["shops", "list"], env={"DATABASE_URL": "mysql://nope"})
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: setting DATABASE_URL: must be a sqlite:/// or postgresql+psycopg:// URL"
    ]
    result = CliRunner().invoke(cli, ["shops", "list"], env={"HANDLING_DAYS": "many"})
    assert result.exit_code == 2
    assert result.output.startswith("error: setting HANDLING_DAYS:")


def test_shop_credentials_are_encrypted_and_never_listed(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    token = "shpat_0123456789abcdef0123456789abcdef"
    result = run("shops", "add", "shopify", "--domain", "demo-store.myshopify.com", "--token", token, "--no-verify")
    assert result.exit_code == 0, result.output
    listing = run("shops", "list")
    assert "demo-store.myshopify.com" in listing.output and token not in listing.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT credentials FROM shops")).scalar_one()
    engine.dispose()
    assert token not in stored


def test_shop_domain_is_validated(run) -> None:  # type: ignore[no-untyped-def]
    result = run("shops", "add", "shopify", "--domain", "evil.example.com/x", "--token", "t", "--no-verify")
    assert result.exit_code == 2
    assert "error:" in result.output


def test_feed_import_is_idempotent_and_refuses_bad_files_whole(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = write(tmp_path / "acme.csv", "sku,available,restock_date\nMUG,3,\nCUP,-1,\nPLATE,0,2026-13-40\nBOWL,,2026-12-10\n")
    first = run("feeds", "import", feed, "--supplier", "acme")
    assert first.exit_code == 0, first.output
    assert "imported 2 rows, rejected 2" in first.output
    assert "line 3" in first.output and "line 4" in first.output
    again = run("feeds", "import", feed, "--supplier", "acme")
    assert "unchanged" in again.output
    empty = write(tmp_path / "empty.csv", "")
    refused = run("feeds", "import", empty, "--supplier", "acme")
    assert refused.exit_code == 2
    no_sku = write(tmp_path / "nosku.csv", "item,available\nMUG,3\n")
    refused = run("feeds", "import", no_sku, "--supplier", "acme")
    assert refused.exit_code == 2 and "sku" in refused.output
    listing = run("feeds", "list")
    assert "acme" in listing.output and "2" in listing.output


def test_feed_column_map(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = write(tmp_path / "globex.csv", "item_code,eta,qty\nMUG,2026-12-01,5\n")
    result = run("feeds", "import", feed, "--supplier", "globex", "--map", "item_code=sku", "--map", "eta=restock_date",
                 "--map", "qty=restock_qty")
    assert result.exit_code == 0, result.output
    assert "imported 1 rows" in result.output
    bad = run("feeds", "import", feed, "--supplier", "globex", "--map", "item_code=colour")
    assert bad.exit_code == 2


def test_feed_column_map_field_names_are_case_insensitive(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feed = write(tmp_path / "initech.csv", "x,available\nMUG,4\nCAP,0\n")
    result = run("feeds", "import", feed, "--supplier", "initech", "--map", "x=SKU")
    assert result.exit_code == 0, result.output
    assert "imported 2 rows" in result.output


def test_reconcile_with_no_shops_prints_empty_plan(run) -> None:  # type: ignore[no-untyped-def]
    result = run("reconcile", "--json", "--as-of", "2026-11-26")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"as_of": "2026-11-26", "orders": []}
    bad = run("reconcile", "--as-of", "26/11/2026")
    assert bad.exit_code == 2 and "--as-of" in bad.output


def test_shop_settings_are_stored(run, tmp_path: Path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    templates = tmp_path / "templates"
    templates.mkdir()
    result = run("shops", "add", "woocommerce", "--url", "https://shop.example.com", "--key", "ck_1", "--secret", "cs_1",
                 "--handling-days", "2", "--default-lead-days", "10", "--templates-dir", str(templates), "--no-verify")
    assert result.exit_code == 0, result.output
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT settings FROM shops")).scalar_one()
    engine.dispose()
    settings = json.loads(stored) if isinstance(stored, str) else stored
    assert settings == {"handling_days": 2, "default_lead_time_days": 10, "templates_dir": str(templates)}


def test_shops_connect_woocommerce_prints_the_approval_address_once_per_store(run) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: the CLI starts a WooCommerce install as the operator; internal addresses are refused."""
    assert run("db", "upgrade").exit_code == 0
    result = run("shops", "connect", "woocommerce", "--url", "http://127.0.0.1:8082")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("http://127.0.0.1:8082/wc-auth/v1/authorize?app_name=")
    assert "user_id=" in result.stdout and "within 30 minutes" in result.stderr
    refused = run("shops", "connect", "woocommerce", "--url", "https://169.254.169.254")
    assert refused.exit_code == 2 and "link-local" in refused.output
    plain = run("shops", "connect", "woocommerce", "--url", "http://127.0.0.1:8082", OUTBOUND_ALLOW_LOOPBACK="false")
    assert plain.exit_code == 2 and "OUTBOUND_ALLOW_LOOPBACK" in plain.output


def test_feeds_list_never_prints_a_feed_urls_credentials(run, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, finding 3: `user:pw@` and `?token=` were printed in full by `connector feeds list`."""
    from connector.services import Services
    from connector.store.models import Supplier
    from tests.conftest import make_settings

    assert run("db", "upgrade").exit_code == 0
    services = Services(make_settings(database_url, Path.cwd()), migrate=True)
    try:
        with services.db.session() as session:
            session.add(Supplier(scope="all", name="remote", column_map={}, row_count=0, unit_count=0, rejected=[],
                                 rejected_count=0, source="https://bob:hunter2@feeds.example/stock.csv?token=t0ps3cret"))
    finally:
        services.close()
    for args in (("feeds", "list"), ("feeds", "list", "--json")):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert "hunter2" not in result.output and "t0ps3cret" not in result.output and "bob" not in result.output
        assert "feeds.example/stock.csv" in result.output


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Issue 13, finding 9: the SQLite file was created world-readable."""
    from connector.store.db import Database

    database = Database(f"sqlite:///{tmp_path}/private/connector.db", migrate=True)
    database.dispose()
    assert (tmp_path / "private" / "connector.db").stat().st_mode & 0o777 == 0o600
