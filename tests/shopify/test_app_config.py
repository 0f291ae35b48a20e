"""shopify.app.toml: written from the settings by `connector shopify app-config`, shipped up to date, and
naming every topic the intake serves (the compliance ones included)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from click.testing import CliRunner

from connector.cli import cli
from connector.platforms.shopify.kind import ShopifyKind
from connector.platforms.shopify.scopes import PURPOSES

SHIPPED = Path(__file__).resolve().parents[2] / "shopify.app.toml"
EXAMPLE = {"SHOPIFY_API_KEY": "YOUR_CLIENT_ID", "APP_URL": "https://backorders.example.com"}


def write(tmp_path: Path, **env: str) -> tuple[int, str, Path]:
    target = tmp_path / "shopify.app.toml"
    values = {"DATABASE_URL": f"sqlite:///{tmp_path}/unused.db", "DATA_DIR": str(tmp_path), **EXAMPLE, **env}
    result = CliRunner().invoke(cli, ["shopify", "app-config", "--output", str(target)], env=values)
    return result.exit_code, result.output, target


def test_the_shipped_file_is_what_the_command_writes_for_the_example_settings(tmp_path: Path) -> None:
    code, output, target = write(tmp_path)
    assert code == 0, output
    assert target.read_text() == SHIPPED.read_text(), "run `connector shopify app-config` with the example settings"


def test_it_names_every_topic_the_intake_serves() -> None:
    config = tomllib.loads(SHIPPED.read_text())
    declared: set[str] = set()
    for subscription in config["webhooks"]["subscriptions"]:
        assert subscription["uri"] == "https://backorders.example.com/webhooks/shopify"
        declared |= set(subscription.get("topics", [])) | set(subscription.get("compliance_topics", []))
    served = set(ShopifyKind.topic_events)
    assert declared == served
    assert {"customers/data_request", "customers/redact", "shop/redact"} <= declared


def test_it_declares_the_scopes_the_install_asks_for_and_the_redirect_url() -> None:
    config = tomllib.loads(SHIPPED.read_text())
    scopes = config["access_scopes"]["scopes"].split(",")
    assert "read_all_orders" in scopes and "write_third_party_fulfillment_orders" in scopes
    assert set(scopes) <= set(PURPOSES)  # every scope has its reason written beside it
    assert config["auth"]["redirect_urls"] == ["https://backorders.example.com/auth/shopify/callback"]
    assert config["application_url"] == "https://backorders.example.com/" and config["embedded"] is False
    assert config["client_id"] == "YOUR_CLIENT_ID" and config["webhooks"]["api_version"] == "2026-10"


def test_settings_change_what_is_written(tmp_path: Path) -> None:
    code, output, target = write(tmp_path, SHOPIFY_READ_ALL_ORDERS="false", SHOPIFY_API_VERSION="2027-01",
                                 APP_URL="https://connector.shop.example/")
    assert code == 0, output
    config = tomllib.loads(target.read_text())
    assert "read_all_orders" not in config["access_scopes"]["scopes"]
    assert config["webhooks"]["api_version"] == "2027-01"
    assert config["auth"]["redirect_urls"] == ["https://connector.shop.example/auth/shopify/callback"]


def test_a_plain_http_app_url_or_a_missing_client_id_is_refused(tmp_path: Path) -> None:
    code, output, target = write(tmp_path, APP_URL="http://127.0.0.1:8000")
    assert code == 2 and "https" in output and not target.exists()
    code, output, _ = write(tmp_path, SHOPIFY_API_KEY="")
    assert code == 2 and "SHOPIFY_API_KEY" in output
