"""POST /webhooks/shopify: only correctly signed deliveries are stored, each once, and bad input is never a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from connector.services import Services
from web_support import (
    SHOPIFY_PREVIOUS_SECRET,
    VECTOR_BODY,
    VECTOR_HMAC,
    add_shop,
    inbox_count,
    inbox_items,
    shopify_headers,
)

URL = "/webhooks/shopify"


def test_published_vector_is_accepted_and_stored_with_the_raw_body(client: FlaskClient, web_services: Services) -> None:
    add_shop(web_services, "shopify", "demo.myshopify.com")
    headers = shopify_headers(VECTOR_BODY)
    assert headers["X-Shopify-Hmac-Sha256"] == VECTOR_HMAC

    response = client.post(URL, data=VECTOR_BODY, headers=headers, content_type="application/json")

    assert response.status_code == 200
    [item] = inbox_items(web_services)
    # Stored under its domain only: the worker attributes it to the shop (no foreign-key check at intake).
    assert (item.platform, item.topic, item.delivery_id, item.shop_domain, item.shop_id) == (
        "shopify", "orders/create", "wh-1", "demo.myshopify.com", None)
    assert item.body == VECTOR_BODY
    assert item.headers["X-Shopify-Shop-Domain"] == "demo.myshopify.com"
    assert "X-Shopify-Hmac-Sha256" not in item.headers


def test_a_repeated_delivery_is_answered_200_and_stored_once(client: FlaskClient, web_services: Services) -> None:
    for _ in range(3):
        response = client.post(URL, data=VECTOR_BODY, headers=shopify_headers(VECTOR_BODY))
        assert response.status_code == 200
    assert inbox_count(web_services) == 1
    assert response.get_json() == {"status": "duplicate"}


def test_unknown_shop_is_stored_without_a_shop_id(client: FlaskClient, web_services: Services) -> None:
    body = b'{"shop_id": 1}'
    headers = shopify_headers(body, topic="shop/redact", shop="gone.myshopify.com")
    assert client.post(URL, data=body, headers=headers).status_code == 200
    [item] = inbox_items(web_services)
    assert (item.shop_id, item.shop_domain, item.topic) == (None, "gone.myshopify.com", "shop/redact")


@pytest.mark.parametrize(
    "change",
    [
        {"X-Shopify-Hmac-Sha256": "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7h="},
        {"X-Shopify-Hmac-Sha256": ""},
        {"X-Shopify-Hmac-Sha256": "not base64 at all \u00e9"},
        {"X-Shopify-Hmac-Sha256": None},
    ],
    ids=["one-character-off", "empty", "garbage", "missing"],
)
def test_bad_or_missing_signature_is_401_and_nothing_is_stored(
    client: FlaskClient, web_services: Services, change: dict[str, str | None]
) -> None:
    headers: dict[str, str] = dict(shopify_headers(VECTOR_BODY))
    for name, value in change.items():
        headers.pop(name)
        if value is not None:
            headers[name] = value
    response = client.post(URL, data=VECTOR_BODY, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "Unauthorized"
    assert inbox_count(web_services) == 0


def test_a_body_changed_after_signing_is_refused(client: FlaskClient, web_services: Services) -> None:
    headers = shopify_headers(VECTOR_BODY)
    assert client.post(URL, data=b'{"foo":"bar"}', headers=headers).status_code == 401
    assert inbox_count(web_services) == 0


def test_the_previous_secret_is_accepted_during_a_rotation(client: FlaskClient, web_services: Services) -> None:
    headers = shopify_headers(VECTOR_BODY, secret=SHOPIFY_PREVIOUS_SECRET)
    assert client.post(URL, data=VECTOR_BODY, headers=headers).status_code == 200
    assert inbox_count(web_services) == 1


def test_unprefixed_header_names_are_accepted(client: FlaskClient, web_services: Services) -> None:
    headers = shopify_headers(VECTOR_BODY, prefix="")
    assert "Shopify-Hmac-Sha256" in headers
    assert client.post(URL, data=VECTOR_BODY, headers=headers).status_code == 200
    [item] = inbox_items(web_services)
    assert item.delivery_id == "wh-1"
    assert item.headers["X-Shopify-Topic"] == "orders/create"


def test_lowercase_header_names_are_accepted(client: FlaskClient, web_services: Services) -> None:
    headers = {name.lower(): value for name, value in shopify_headers(VECTOR_BODY).items()}
    assert client.post(URL, data=VECTOR_BODY, headers=headers).status_code == 200
    assert inbox_count(web_services) == 1


def test_a_signed_body_over_the_limit_is_413_and_recorded_without_its_body(client: FlaskClient,
                                                                           web_services: Services) -> None:
    add_shop(web_services, "shopify", "demo.myshopify.com")
    limit = web_services.settings.webhook_max_body_bytes
    assert limit > web_services.settings.max_body_bytes  # deliveries may be larger than uploads
    body = b'{"id": 1, "line_items": [' + b'{"id": 2},' * (limit // 10) + b'{"id": 3}]}'
    response = client.post(URL, data=body, headers=shopify_headers(body, webhook_id="big-1"))
    assert response.status_code == 413
    assert "recorded" in response.get_json()["message"]
    [item] = inbox_items(web_services)
    assert (item.topic, item.shop_domain, item.delivery_id, item.body, item.body_omitted) == (
        "orders/create", "demo.myshopify.com", "big-1", b"", len(body))
    # Shopify retries a 413: the repeat is recognised by its webhook id
    assert client.post(URL, data=body, headers=shopify_headers(body, webhook_id="big-1")).status_code == 413
    assert inbox_count(web_services) == 1


def test_an_unsigned_body_over_the_limit_is_401_and_not_recorded(client: FlaskClient, web_services: Services) -> None:
    body = b"x" * (web_services.settings.webhook_max_body_bytes + 1)
    headers = {**shopify_headers(body), "X-Shopify-Hmac-Sha256": shopify_headers(b"other")["X-Shopify-Hmac-Sha256"]}
    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert inbox_count(web_services) == 0


def test_a_body_far_over_the_limit_is_refused_unread(client: FlaskClient, web_services: Services) -> None:
    body = b"x" * (4 * web_services.settings.webhook_max_body_bytes + 1)
    response = client.post(URL, data=body, headers=shopify_headers(body))
    assert response.status_code == 413
    assert inbox_count(web_services) == 0


@pytest.mark.parametrize("missing", ["X-Shopify-Topic", "X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id"])
def test_a_signed_delivery_missing_a_required_header_is_400(
    client: FlaskClient, web_services: Services, missing: str
) -> None:
    headers = shopify_headers(VECTOR_BODY)
    del headers[missing]
    response = client.post(URL, data=VECTOR_BODY, headers=headers)
    assert response.status_code == 400
    assert missing.removeprefix("X-") in response.get_json()["message"]
    assert inbox_count(web_services) == 0


@pytest.mark.parametrize("domain", ["evil.example.com", "demo.myshopify.com.evil.io", "-x.myshopify.com", "a b.myshopify.com"])
def test_an_invalid_shop_domain_is_400(client: FlaskClient, web_services: Services, domain: str) -> None:
    response = client.post(URL, data=VECTOR_BODY, headers=shopify_headers(VECTOR_BODY, shop=domain))
    assert response.status_code == 400
    assert inbox_count(web_services) == 0


def test_other_methods_get_405_json(client: FlaskClient) -> None:
    response = client.get(URL)
    assert response.status_code == 405
    assert response.get_json()["error"] == "Method Not Allowed"
