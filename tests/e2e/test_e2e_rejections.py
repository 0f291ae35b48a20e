"""The sandboxes refuse what the real platforms refuse, and the connector's own clients and endpoints
turn each refusal into the right error: bad credentials, an invalid GraphQL document, a bad webhook
signature, a page size over 100."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from connector.commands.shops import register_shop
from connector.errors import AuthError, UserError
from connector.platforms.base import ShopAccess
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.woocommerce.client import WooClient
from sandbox.common import ServerThread
from connector.services import Services
from connector.store.models import InboxItem
from e2e_support import SHOPIFY_DOMAIN, SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET, Store, start_woocommerce


def shopify_client(store: Store, token: str) -> ShopifyClient:
    return ShopifyClient(ShopAccess(platform="shopify", domain=SHOPIFY_DOMAIN, api_url=store.url, access_token=token),
                         sleep=lambda _seconds: None)


def woo_client(store: Store, key: str = WOO_KEY, secret: str = WOO_SECRET) -> WooClient:
    return WooClient(ShopAccess(platform="woocommerce", domain=store.url, consumer_key=key, consumer_secret=secret),
                     sleep=lambda _seconds: None)


def inbox_size(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(InboxItem)) or 0)


def test_a_bad_shopify_token_is_an_auth_error_that_says_so(shopify_store: Store) -> None:
    client = shopify_client(shopify_store, "shpat_not_the_right_one")
    with pytest.raises(AuthError, match="access token was refused") as refused:
        client.execute("query { shop { name } }")
    assert refused.value.status == 401 and "shpat_not_the_right_one" not in str(refused.value)
    assert shopify_client(shopify_store, SHOPIFY_TOKEN).execute("query { shop { name } }")["shop"]["name"]


def test_documents_the_schema_rejects_are_user_errors_with_the_stores_message(shopify_store: Store) -> None:
    client = shopify_client(shopify_store, SHOPIFY_TOKEN)
    with pytest.raises(UserError, match="noSuchField") as refused:
        client.execute("query { shop { name noSuchField } }")
    assert not isinstance(refused.value, AuthError)
    with pytest.raises(UserError, match="Int cannot represent"):
        client.execute('query { orders(first: "five") { nodes { id } } }')  # a String where Int is required


def test_a_bad_woocommerce_key_is_an_auth_error_that_says_so(woo_store: Store) -> None:
    with pytest.raises(AuthError, match="consumer key") as refused:
        woo_client(woo_store, secret="cs_" + "0" * 40).get("orders")
    assert refused.value.status == 401 and WOO_SECRET not in str(refused.value)


def test_a_page_over_100_is_the_woocommerce_clients_user_error(woo_store: Store) -> None:
    client = woo_client(woo_store)
    with pytest.raises(UserError, match="per_page") as refused:
        client.get("orders", {"per_page": 101})
    assert refused.value.status == 400 and refused.value.code == "rest_invalid_param"
    assert len(client.get("orders", {"per_page": 100})) == 3


def wait_for_deliveries(url: str, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 10
    while True:
        seen = requests.get(url, timeout=10).json()
        if len(seen) >= count or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def test_a_shopify_webhook_signed_with_another_secret_is_refused_401(
    web: tuple[ServerThread, Services], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from sandbox.shopify import run, sandbox_of

    server, services = web
    register_shop(services, "shopify", SHOPIFY_DOMAIN, api_url=None, name="", settings={},
                  credentials={"access_token": SHOPIFY_TOKEN}, verify=False)
    store = run(0, None, api_secret="some-other-apps-secret", webhook_url=f"{server.url}/webhooks/shopify")
    request.addfinalizer(store.stop)
    requests.post(f"{store.url}/_sandbox/orders", json={"line_items": [{"sku": "ANY", "quantity": 1}]}, timeout=10)
    assert sandbox_of(store.app).webhooks.flush(10)

    deliveries = requests.get(f"{store.url}/_sandbox/webhooks", timeout=10).json()
    assert deliveries and {(d["status"], d["http_status"]) for d in deliveries} == {("failed", 401)}
    assert inbox_size(services) == 0


def test_a_woocommerce_webhook_signed_with_another_secret_is_refused_401(
    web: tuple[ServerThread, Services], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from sandbox.woocommerce import sandbox_of

    server, services = web
    shop, _ = register_shop(services, "woocommerce", "http://127.0.0.1", api_url=None, name="", settings={},
                            credentials={"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET,
                                         "webhook_secret": "the-shops-own-secret"}, verify=False)
    hook = {"id": 1, "name": "forged", "topic": "order.created", "status": "active",
            "delivery_url": f"{server.url}/webhooks/woocommerce/{shop.id}", "secret": "not-the-shops-secret"}
    store = start_woocommerce(tmp_path, request, webhooks=[hook])
    requests.post(f"{store.url}/_sandbox/orders", json={"line_items": [{"sku": "WE2E-CUP", "quantity": 1}]},
                  timeout=10)
    assert sandbox_of(store.server.app).dispatcher.flush(10)

    deliveries = wait_for_deliveries(f"{store.url}/_sandbox/deliveries", 1)
    assert [(d["kind"], d["status_code"]) for d in deliveries] == [("delivery", 401)]
    assert inbox_size(services) == 0
