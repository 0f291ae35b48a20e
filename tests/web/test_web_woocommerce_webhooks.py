"""POST /webhooks/woocommerce/<shop_id>: ping answered, signed deliveries stored once, everything else refused."""

from __future__ import annotations

import hashlib

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.services import Services
from connector.store.models import WebhookSubscription
from webhooks.cache import TTLCache
from webhooks.woocommerce import CACHE_TTL_SECONDS
from web_support import add_shop, b64_hmac, inbox_count, inbox_items

STORE = "https://store.example"
SHOP_SECRET = "manual-shop-secret"


def wc_headers(body: bytes, secret: str = SHOP_SECRET, *, delivery: str = "d-1", webhook_id: str = "7") -> dict[str, str]:
    return {
        "X-WC-Webhook-Signature": b64_hmac(secret, body),
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "updated",
        "X-WC-Webhook-ID": webhook_id,
        "X-WC-Webhook-Delivery-ID": delivery,
        "X-WC-Webhook-Source": STORE + "/",
        "Content-Type": "application/json",
    }


def woo_shop(services: Services) -> int:
    return add_shop(services, "woocommerce", STORE, consumer_key="ck_x", consumer_secret="cs_x",
                    webhook_secret=SHOP_SECRET)


def test_the_creation_ping_gets_exactly_200_and_nothing_is_stored(client: FlaskClient, web_services: Services) -> None:
    shop_id = woo_shop(web_services)
    response = client.post(f"/webhooks/woocommerce/{shop_id}", data=b"webhook_id=142",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert inbox_count(web_services) == 0


def test_a_signed_delivery_is_stored_once(client: FlaskClient, web_services: Services) -> None:
    shop_id = woo_shop(web_services)
    body = b'{"id":727,"status":"processing","note":"caf\\u00e9 \\/ slash"}'
    for _ in range(2):
        response = client.post(f"/webhooks/woocommerce/{shop_id}", data=body, headers=wc_headers(body))
        assert response.status_code == 200
    [item] = inbox_items(web_services)
    assert (item.platform, item.shop_id, item.topic, item.shop_domain) == ("woocommerce", shop_id, "order.updated", STORE)
    assert item.body == body
    assert item.delivery_id == f"{shop_id}:d-1:{hashlib.sha256(body).hexdigest()[:16]}"
    assert "X-WC-Webhook-Signature" not in item.headers


def test_two_payloads_sharing_a_delivery_id_are_both_kept(client: FlaskClient, web_services: Services) -> None:
    # WooCommerce builds the id from the webhook id and the second it fired, so it can repeat.
    shop_id = woo_shop(web_services)
    for body in (b'{"id":1}', b'{"id":2}'):
        assert client.post(f"/webhooks/woocommerce/{shop_id}", data=body, headers=wc_headers(body)).status_code == 200
    assert inbox_count(web_services) == 2


def test_the_secret_of_the_named_webhook_is_used(client: FlaskClient, web_services: Services) -> None:
    shop_id = add_shop(web_services, "woocommerce", STORE, consumer_key="ck_x", consumer_secret="cs_x")
    with web_services.db.session() as session:
        session.add(WebhookSubscription(shop_id=shop_id, platform_id="31", topic="order.created",
                                        secret=web_services.box.seal({"secret": "per-webhook-secret"})))
    body = b'{"id":1}'
    url = f"/webhooks/woocommerce/{shop_id}"
    assert client.post(url, data=body, headers=wc_headers(body, "per-webhook-secret", webhook_id="31")).status_code == 200
    assert client.post(url, data=body, headers=wc_headers(body, "per-webhook-secret", webhook_id="32",
                                                          delivery="d-2")).status_code == 401
    assert inbox_count(web_services) == 1


def test_bad_or_missing_signature_is_401_and_nothing_is_stored(client: FlaskClient, web_services: Services) -> None:
    shop_id = woo_shop(web_services)
    body = b'{"id":727}'
    url = f"/webhooks/woocommerce/{shop_id}"
    assert client.post(url, data=body, headers=wc_headers(body, "wrong-secret")).status_code == 401
    unsigned = wc_headers(body)
    del unsigned["X-WC-Webhook-Signature"]
    assert client.post(url, data=body, headers=unsigned).status_code == 401
    # A ping-shaped body that carries a (bad) signature is a delivery, not a ping.
    assert client.post(url, data=b"webhook_id=1", headers={"X-WC-Webhook-Signature": "abc",
                       "Content-Type": "application/x-www-form-urlencoded"}).status_code == 401
    assert inbox_count(web_services) == 0


def test_unknown_shop_is_404(client: FlaskClient, web_services: Services) -> None:
    shopify_id = add_shop(web_services, "shopify", "demo.myshopify.com")
    body = b'{"id":1}'
    for shop_id in (999, shopify_id, 2**40):
        response = client.post(f"/webhooks/woocommerce/{shop_id}", data=body, headers=wc_headers(body))
        assert response.status_code == 404
        assert response.get_json()["error"] == "Not Found"
    assert inbox_count(web_services) == 0


def test_a_signed_delivery_without_delivery_id_is_400(client: FlaskClient, web_services: Services) -> None:
    shop_id = woo_shop(web_services)
    body = b'{"id":1}'
    headers = wc_headers(body)
    del headers["X-WC-Webhook-Delivery-ID"]
    assert client.post(f"/webhooks/woocommerce/{shop_id}", data=body, headers=headers).status_code == 400
    assert inbox_count(web_services) == 0


def test_a_changed_webhook_secret_is_picked_up_after_a_short_pause(
    app: Flask, client: FlaskClient, web_services: Services
) -> None:
    clock = [1000.0]
    app.extensions["connector.woocommerce_secrets"] = TTLCache(CACHE_TTL_SECONDS, clock=lambda: clock[0])
    shop_id = add_shop(web_services, "woocommerce", STORE, consumer_key="ck_x", consumer_secret="cs_x")
    with web_services.db.session() as session:
        session.add(WebhookSubscription(shop_id=shop_id, platform_id="7", topic="order.updated",
                                        secret=web_services.box.seal({"secret": "old"})))
    body = b'{"id":1}'
    url = f"/webhooks/woocommerce/{shop_id}"
    assert client.post(url, data=body, headers=wc_headers(body, "old")).status_code == 200
    with web_services.db.session() as session:
        row = session.scalars(select(WebhookSubscription)).one()
        row.secret = web_services.box.seal({"secret": "rotated"})
    # Within the reload pause the cached secret still decides; after it, the stored one is read again.
    assert client.post(url, data=body, headers=wc_headers(body, "rotated", delivery="d-2")).status_code == 401
    clock[0] += 10
    assert client.post(url, data=body, headers=wc_headers(body, "rotated", delivery="d-3")).status_code == 200
    assert inbox_count(web_services) == 2


def test_a_webhook_recorded_after_the_cache_was_filled_is_verified_at_once(
    app: Flask, client: FlaskClient, web_services: Services
) -> None:
    app.extensions["connector.woocommerce_secrets"] = TTLCache(CACHE_TTL_SECONDS, clock=lambda: 1000.0)  # time stands still
    shop_id = woo_shop(web_services)
    url = f"/webhooks/woocommerce/{shop_id}"
    assert client.post(url, data=b"webhook_id=55", content_type="application/x-www-form-urlencoded").status_code == 200
    with web_services.db.session() as session:
        session.add(WebhookSubscription(shop_id=shop_id, platform_id="55", topic="order.updated",
                                        secret=web_services.box.seal({"secret": "fresh-secret"})))
    body = b'{"id":3}'
    assert client.post(url, data=body, headers=wc_headers(body, "fresh-secret", webhook_id="55")).status_code == 200
