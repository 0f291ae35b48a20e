"""Security: secrets encrypted at rest and never logged, shop addresses checked before any request,
and a GDPR erasure that leaves the customer's email nowhere in the database."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import ConnectorError
from connector.pipeline.inbox import process_due_deliveries
from connector.platforms import connect
from connector.platforms.base import ShopAccess
from connector.services import Services
from connector.web.app import create_app
from reliability_support import (
    EAGER_RETRY,
    SHOPIFY_API_SECRET,
    SHOPIFY_DOMAIN,
    SHOPIFY_TOKEN,
    WOO_SECRET,
    b64_hmac,
    database_files,
    every_text_value,
    install_shop,
    quick_platform,
    run_cycle,
    start_store,
)
from tests.conftest import TEST_SECRET_KEY, make_settings

CRAFTED_SHOPS = [
    "evil.com#.myshopify.com", "x.myshopify.com.evil.com", "evil.com/.myshopify.com", "evil.com?.myshopify.com",
    "user@evil.com", "x.myshopify.com@evil.com", "evil.com\\.myshopify.com", "x.myshopify.com:443@evil.com",
    "evil.com%23.myshopify.com", "x.myshopify.com/../evil.com", "x.myshopify.com\n", " x.myshopify.com",
    "x.myshopify。com", "127.0.0.1", "localhost", "x..myshopify.com", ".myshopify.com", "x.myshopify.com.",
    "-x.myshopify.com", "x.MYSHOPIFY.com.evil.com", "https://x.myshopify.com", "x.myshopify.com#",
]


def _reach(domain: str) -> None:
    platform = connect(ShopAccess(platform="shopify", domain=domain, access_token="shpat_x"))
    try:
        next(iter(platform.iter_orders(None)), None)
    finally:
        platform.close()


@pytest.mark.parametrize("domain", CRAFTED_SHOPS)
def test_a_crafted_shop_name_never_causes_a_request(domain: str) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        with pytest.raises(ConnectorError):
            _reach(domain)
        assert len(mock.calls) == 0


SHOP_PIECES = st.sampled_from(["x", "shop-1", "evil.com", ".", "#", "@", "/", "?", ":", "\\", "%2e", "myshopify.com",
                               ".myshopify.com", "。", " ", "\n", "-", "127.0.0.1", "ＥＶＩＬ", "xn--e1a"])


@settings(max_examples=300, deadline=None)
@given(domain=st.lists(SHOP_PIECES, min_size=1, max_size=6).map("".join))
def test_any_accepted_shop_name_is_exactly_the_host_requested(domain: str) -> None:
    from connector.platforms.shopify.client import ShopifyClient

    try:
        client = ShopifyClient(ShopAccess(platform="shopify", domain=domain, access_token="shpat_x"))
    except ConnectorError:
        return
    host = urlsplit(client.endpoint).hostname
    client.close()
    assert host == domain
    labels = domain.split(".")
    assert labels[-2:] == ["myshopify", "com"] and len(labels) == 3 and labels[0]


@pytest.mark.parametrize("domain", CRAFTED_SHOPS[:8])
def test_the_install_route_refuses_a_crafted_shop_without_calling_out(tmp_path: Path, domain: str) -> None:
    services = Services(make_settings(f"sqlite:///{tmp_path}/c.db", tmp_path), migrate=True)
    client = create_app(services).test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        answer = client.get("/auth/shopify", query_string={"shop": domain})
        assert answer.status_code == 400
        assert len(mock.calls) == 0
    services.close()


def _secrets() -> list[str]:
    return [SHOPIFY_TOKEN, WOO_SECRET, SHOPIFY_API_SECRET, TEST_SECRET_KEY]


def test_secrets_are_sealed_at_rest_and_never_logged(tmp_path: Path, database_url: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    services = Services(make_settings(database_url, tmp_path, mail_from="shop@example.com"),
                        platform_factory=quick_platform, migrate=True)
    stores = [start_store("shopify"), start_store("woocommerce")]
    try:
        for store in stores:
            run_cycle(services, install_shop(services, store))
        stored = list(every_text_value(services))
        assert any(table == "shops" and column == "credentials" for table, column, _ in stored)
        for secret in _secrets():
            assert not [(table, column) for table, column, text in stored if secret in text]
            assert secret.encode() not in database_files(database_url)
        # The sandbox stores' own access log (werkzeug) is theirs; everything else is the connector's.
        ours = [record for record in caplog.records if record.name != "werkzeug"]
        assert len(ours) > 20  # the cycle did log, at DEBUG, through sync, reconcile and push
        logged = "\n".join(f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in ours)
        for secret in _secrets():
            assert secret not in logged
    finally:
        for store in stores:
            store.server.stop()
        services.close()


EMAIL = "buyer1@example.com"


def _erase_through_webhooks(services: Services) -> None:
    """A synced shop, an order webhook carrying the customer, then Shopify's customers/redact for them."""
    store = start_store("shopify")
    try:
        run_cycle(services, install_shop(services, store))
    finally:
        store.server.stop()
    assert any(EMAIL in text.lower() for _, _, text in every_text_value(services))
    client = create_app(services).test_client()
    order_update = json.dumps({"id": 6001, "email": EMAIL.upper(), "customer": {"id": 401, "email": EMAIL},
                               "created_at": "2026-11-02T10:00:00Z", "line_items": []}).encode()
    redact = json.dumps({"shop_id": 1, "shop_domain": SHOPIFY_DOMAIN, "customer": {"id": 401, "email": EMAIL},
                         "orders_to_redact": [6001]}).encode()
    for number, (topic, body) in enumerate([("orders/updated", order_update), ("customers/redact", redact)]):
        answer = client.post("/webhooks/shopify", data=body, headers={
            "X-Shopify-Hmac-Sha256": b64_hmac(SHOPIFY_API_SECRET, body), "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": SHOPIFY_DOMAIN, "X-Shopify-Webhook-Id": f"gdpr-{number}",
            "Content-Type": "application/json"})
        assert answer.status_code == 200
        process_due_deliveries(services, retry=EAGER_RETRY)


def test_gdpr_erase_leaves_the_customer_email_in_no_table_and_no_file(tmp_path: Path, database_url: str) -> None:
    services = Services(make_settings(database_url, tmp_path, mail_from="shop@example.com"),
                        platform_factory=quick_platform, migrate=True)
    try:
        _erase_through_webhooks(services)
        leftovers = [(table, column) for table, column, text in every_text_value(services) if EMAIL in text.lower()]
        assert leftovers == []
        outbox = services.settings.outbox_dir
        assert not [p for p in outbox.rglob("*") if p.is_file() and EMAIL in p.read_text(errors="replace").lower()]
        assert any("buyer2@example.com" in text for _, _, text in every_text_value(services))  # others are kept
    finally:
        services.close()


def test_gdpr_erase_leaves_the_email_nowhere_in_the_sqlite_files(tmp_path: Path, sqlite_url: str) -> None:
    services = Services(make_settings(sqlite_url, tmp_path, mail_from="shop@example.com"),
                        platform_factory=quick_platform, migrate=True)
    try:
        _erase_through_webhooks(services)
        assert EMAIL.encode() not in database_files(sqlite_url).lower()
    finally:
        services.close()
