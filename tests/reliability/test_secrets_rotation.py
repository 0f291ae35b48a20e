"""Secrets as secrets (issue 13): feed credentials apart from the URL and sealed, the key's format, key rotation."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from connector.cli import cli
from connector.crypto import SecretBox, generate_secret_key, secret_key_problem
from connector.errors import ConfigError
from connector.services import Services
from connector.store.models import Shop, Supplier, WebhookSubscription
from tests.conftest import TEST_SECRET_KEY, make_settings

FEED = b"sku,available,restock_date\nMUG,3,\nBOWL,0,2027-01-10\n"
OLD_KEY, NEW_KEY = TEST_SECRET_KEY, generate_secret_key()


class _Feed(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization", "")))
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(FEED)))
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def feed_port() -> Iterator[int]:
    _Feed.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": database_url, "CONNECTOR_SECRET_KEY": OLD_KEY, "DATA_DIR": str(tmp_path / "data"),
           "OUTBOUND_ALLOW_LOOPBACK": "true"}

    def invoke(*args: str, **extra_env: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={**env, **extra_env}, catch_exceptions=False)

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def _suppliers(database_url: str, tmp_path: Path) -> list[tuple[str, str | None]]:
    services = Services(make_settings(database_url, tmp_path))
    try:
        with services.db.session() as session:
            return [(s.source, s.credentials) for s in session.scalars(select(Supplier).order_by(Supplier.id))]
    finally:
        services.close()


def test_a_feed_urls_credentials_are_stored_apart_sealed_sent_and_never_shown(  # type: ignore[no-untyped-def]
    run, feed_port: int, database_url: str, tmp_path: Path
) -> None:
    url = f"http://bob:hunter2@127.0.0.1:{feed_port}/stock.csv?format=csv&token=t0ps3cret"
    first = run("feeds", "import", url, "--supplier", "acme")
    assert first.exit_code == 0, first.output
    basic = "Basic " + base64.b64encode(b"bob:hunter2").decode()
    assert _Feed.seen == [("/stock.csv?format=csv&token=t0ps3cret", basic)]

    [(source, sealed)] = _suppliers(database_url, tmp_path)
    assert source == f"http://127.0.0.1:{feed_port}/stock.csv?format=csv"
    assert sealed and not any(secret in sealed for secret in ("bob", "hunter2", "t0ps3cret"))
    assert SecretBox(OLD_KEY).open(sealed) == {"basic": ["bob", "hunter2"], "query": [["token", "t0ps3cret"]]}

    # A refresh of the clean URL uses the stored credentials; nothing shows them.
    again = run("feeds", "import", f"http://127.0.0.1:{feed_port}/stock.csv?format=csv", "--supplier", "acme",
                "--force")
    assert again.exit_code == 0, again.output
    assert _Feed.seen[-1] == ("/stock.csv?format=csv&token=t0ps3cret", basic)
    for result in (first, again, run("feeds", "list"), run("feeds", "list", "--json")):
        assert not any(secret in result.output for secret in ("hunter2", "t0ps3cret", "bob:")), result.output
    assert "basic" in run("feeds", "list", "--json").output.lower()


def test_credentials_from_the_environment_and_forgetting_them(  # type: ignore[no-untyped-def]
    run, feed_port: int, database_url: str, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{feed_port}/stock.csv"
    given = run("feeds", "import", url, "--supplier", "acme", "--header-env", "Authorization=ACME_AUTH",
                ACME_AUTH="Bearer s3cr3t-header")
    assert given.exit_code == 0, given.output
    assert _Feed.seen == [("/stock.csv", "Bearer s3cr3t-header")]
    assert "s3cr3t-header" not in given.output
    [(_, sealed)] = _suppliers(database_url, tmp_path)
    assert sealed and "s3cr3t-header" not in sealed

    missing = run("feeds", "import", url, "--supplier", "acme", "--header-env", "Authorization=NOT_SET")
    assert missing.exit_code == 2 and "NOT_SET is not set" in missing.output

    forgot = run("feeds", "import", url, "--supplier", "acme", "--force", "--forget-credentials")
    assert forgot.exit_code == 0, forgot.output
    assert _Feed.seen[-1] == ("/stock.csv", "")
    assert _suppliers(database_url, tmp_path) == [(url, None)]


@pytest.mark.parametrize("key", [
    "short", "x" * 44, "A" * 43 + "=", base64.urlsafe_b64encode(bytes(range(16)) * 2).decode()[:43] + "!",
    base64.urlsafe_b64encode(b"\x00\x01" * 16).decode(),
])
def test_a_secret_key_not_of_the_printed_format_is_refused_without_quoting_it(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert secret_key_problem(key)
    result = CliRunner().invoke(cli, ["feeds", "list"], env={"CONNECTOR_SECRET_KEY": key,
                                                             "DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 2, result.output
    assert "CONNECTOR_SECRET_KEY" in result.output and key not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_printed_keys_are_accepted() -> None:
    assert all(secret_key_problem(generate_secret_key()) is None for _ in range(50))


def _seal_everything(database_url: str, tmp_path: Path, key: str) -> None:
    services = Services(make_settings(database_url, tmp_path, connector_secret_key=key))
    box = services.box
    try:
        with services.db.session() as session:
            shop = Shop(platform="shopify", domain="rotate.myshopify.com", name="Rotate", settings={}, active=True,
                        credentials=box.seal({"access_token": "shpat_rotate"}))
            session.add(shop)
            session.flush()
            session.add(WebhookSubscription(shop_id=shop.id, platform_id="gid://1", topic="orders/create",
                                            secret=box.seal({"secret": "whsec"})))
            session.add(Supplier(scope="all", name="remote", column_map={}, row_count=0, unit_count=0, rejected=[],
                                 rejected_count=0, source="https://feeds.example/stock.csv",
                                 credentials=box.seal({"username": "bob", "password": "hunter2"})))
    finally:
        services.close()


def _sealed_values(database_url: str, tmp_path: Path) -> list[str | None]:
    services = Services(make_settings(database_url, tmp_path))
    try:
        with services.db.session() as session:
            return [*session.scalars(select(Shop.credentials).order_by(Shop.id)),
                    *session.scalars(select(WebhookSubscription.secret).order_by(WebhookSubscription.id)),
                    *session.scalars(select(Supplier.credentials).order_by(Supplier.id))]
    finally:
        services.close()


def test_rotate_key_reseals_everything_once_and_the_old_key_is_then_not_needed(  # type: ignore[no-untyped-def]
    run, database_url: str, tmp_path: Path
) -> None:
    _seal_everything(database_url, tmp_path, OLD_KEY)
    unrotated = run("db", "rotate-key", CONNECTOR_SECRET_KEY=NEW_KEY)
    assert unrotated.exit_code == 2 and "CONNECTOR_SECRET_KEY_PREVIOUS" in unrotated.output

    rotated = run("db", "rotate-key", CONNECTOR_SECRET_KEY=NEW_KEY, CONNECTOR_SECRET_KEY_PREVIOUS=OLD_KEY)
    assert rotated.exit_code == 0, rotated.output
    assert "re-encrypted 3 sealed value(s)" in rotated.output
    assert OLD_KEY not in rotated.output and NEW_KEY not in rotated.output
    new_box = SecretBox(NEW_KEY)
    shop, hook, feed = _sealed_values(database_url, tmp_path)
    assert new_box.open(shop) == {"access_token": "shpat_rotate"}
    assert new_box.open(hook) == {"secret": "whsec"}
    assert new_box.open(feed) == {"username": "bob", "password": "hunter2"}
    with pytest.raises(ConfigError):
        SecretBox(OLD_KEY).open(shop)

    again = run("db", "rotate-key", CONNECTOR_SECRET_KEY=NEW_KEY, CONNECTOR_SECRET_KEY_PREVIOUS=OLD_KEY)
    assert again.exit_code == 0 and "nothing to re-encrypt: all 3" in again.output
    assert _sealed_values(database_url, tmp_path) == [shop, hook, feed]


def test_rotate_key_writes_nothing_when_a_value_opens_with_neither_key(  # type: ignore[no-untyped-def]
    run, database_url: str, tmp_path: Path
) -> None:
    _seal_everything(database_url, tmp_path, OLD_KEY)
    stranger = SecretBox(generate_secret_key())
    services = Services(make_settings(database_url, tmp_path))
    try:
        with services.db.session() as session:
            session.add(Supplier(scope="all", name="other", column_map={}, row_count=0, unit_count=0, rejected=[],
                                 rejected_count=0, source="https://feeds.example/other.csv",
                                 credentials=stranger.seal({"password": "elsewhere"})))
    finally:
        services.close()
    before = _sealed_values(database_url, tmp_path)

    refused = run("db", "rotate-key", CONNECTOR_SECRET_KEY=NEW_KEY, CONNECTOR_SECRET_KEY_PREVIOUS=OLD_KEY)
    assert refused.exit_code == 2, refused.output
    assert "1 sealed value(s) open with neither" in refused.output and "suppliers.credentials" in refused.output
    assert "nothing was re-encrypted" in refused.output and "elsewhere" not in refused.output
    assert _sealed_values(database_url, tmp_path) == before


def test_db_upgrade_moves_credentials_out_of_urls_stored_before(  # type: ignore[no-untyped-def]
    run, database_url: str, tmp_path: Path
) -> None:
    services = Services(make_settings(database_url, tmp_path))
    try:
        with services.db.session() as session:
            session.add(Supplier(scope="all", name="legacy", column_map={}, row_count=0, unit_count=0, rejected=[],
                                 rejected_count=0, source="https://bob:hunter2@feeds.example/stock.csv?token=t0p"))
    finally:
        services.close()
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "moved the credentials of 1 feed URL(s)" in upgraded.output and "hunter2" not in upgraded.output
    [(source, sealed)] = _suppliers(database_url, tmp_path)
    assert source == "https://feeds.example/stock.csv"
    assert SecretBox(OLD_KEY).open(sealed) == {"basic": ["bob", "hunter2"], "query": [["token", "t0p"]]}
