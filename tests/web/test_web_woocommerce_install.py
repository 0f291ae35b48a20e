"""WooCommerce authorization: redirect with a one-time user_id; the key callback stores sealed keys once."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.services import Services
from connector.store.models import Shop, WebhookSubscription
from web_support import PlatformLog, b64_hmac, database_bytes, inbox_count

STORE = "https://store.example"
CONSUMER_KEY = "ck_0123456789abcdef0123456789abcdef01234567"
CONSUMER_SECRET = "cs_RAW_SECRET_0123456789abcdef0123456789ab"


def start(client: FlaskClient, store_url: str = STORE) -> str:
    response = client.get("/auth/woocommerce", query_string={"store_url": store_url})
    assert response.status_code == 302, response.get_data(as_text=True)
    return parse_qs(urlsplit(response.headers["Location"]).query)["user_id"][0]


def key_callback(client: FlaskClient, user_id: object, permissions: str = "read_write", **changes: object) -> int:
    body = {"key_id": 5, "user_id": user_id, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
            "key_permissions": permissions, **changes}
    return client.post("/auth/woocommerce/callback", data=json.dumps(body), content_type="application/json").status_code


def test_authorize_redirects_to_wc_auth_with_a_one_time_user_id(client: FlaskClient) -> None:
    response = client.get("/auth/woocommerce", query_string={"store_url": STORE + "/"})
    target = urlsplit(response.headers["Location"])
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == STORE + "/wc-auth/v1/authorize"
    assert query["scope"] == "read_write"
    assert query["app_name"] == "Backorder Connector"
    assert query["callback_url"] == "http://127.0.0.1:8000/auth/woocommerce/callback"
    assert query["return_url"] == "http://127.0.0.1:8000/auth/woocommerce/return"
    assert query["user_id"].isdigit() and int(query["user_id"]) < 2**53


@pytest.mark.parametrize("store_url", ["", "ftp://store.example", "http://store.example", "https://u:p@store.example"])
def test_authorize_refuses_a_bad_store_url(client: FlaskClient, store_url: str) -> None:
    assert client.get("/auth/woocommerce", query_string={"store_url": store_url}).status_code == 400


@pytest.mark.parametrize("as_number", [False, True], ids=["string", "number"])
def test_callback_stores_the_keys_sealed_and_creates_webhooks(
    client: FlaskClient, web_services: Services, platform_log: PlatformLog, tmp_path: Path, as_number: bool
) -> None:
    user_id = start(client)
    assert key_callback(client, int(user_id) if as_number else user_id) == 200

    with web_services.db.session() as session:
        shop = session.scalars(select(Shop).where(Shop.platform == "woocommerce")).one()
        subscriptions = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    credentials = web_services.box.open(shop.credentials)
    assert shop.domain == STORE
    assert (credentials["consumer_key"], credentials["consumer_secret"], credentials["key_id"]) == (
        CONSUMER_KEY, CONSUMER_SECRET, 5)
    assert CONSUMER_SECRET.encode() not in database_bytes(tmp_path)
    [(shop_id, address, topics)] = platform_log.webhook_calls
    assert address == f"http://127.0.0.1:8000/webhooks/woocommerce/{shop.id}"
    assert topics == ("order.created", "order.updated", "order.deleted", "product.updated")
    assert [(row.platform_id, row.topic) for row in subscriptions] == list(zip(["100", "101", "102", "103"], topics, strict=True))
    assert [web_services.box.open(row.secret) for row in subscriptions] == [
        {"secret": f"secret-{number}"} for number in range(100, 104)]
    assert b"secret-100" not in database_bytes(tmp_path)
    assert "webhooks_pending" not in shop.settings


def test_deliveries_signed_with_a_created_webhook_secret_are_accepted(client: FlaskClient, web_services: Services) -> None:
    assert key_callback(client, start(client)) == 200
    with web_services.db.session() as session:
        shop = session.scalars(select(Shop)).one()
    body = b'{"id":9}'
    url = f"/webhooks/woocommerce/{shop.id}"
    headers = {"X-WC-Webhook-Signature": b64_hmac("secret-101", body), "X-WC-Webhook-ID": "101",
               "X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Delivery-ID": "abc"}
    assert client.post(url, data=body, headers=headers).status_code == 200
    # Another webhook's secret does not sign for this one.
    headers.update({"X-WC-Webhook-ID": "102", "X-WC-Webhook-Delivery-ID": "def"})
    assert client.post(url, data=body, headers=headers).status_code == 401
    assert inbox_count(web_services) == 1


def test_authorizing_again_keeps_the_stored_webhook_secrets(client: FlaskClient, web_services: Services) -> None:
    assert key_callback(client, start(client)) == 200
    assert key_callback(client, start(client), consumer_key="ck_" + "f" * 40) == 200
    with web_services.db.session() as session:
        shops = session.scalars(select(Shop)).all()
        subscriptions = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)).all()
    assert len(shops) == 1
    assert web_services.box.open(shops[0].credentials)["consumer_key"] == "ck_" + "f" * 40
    assert [web_services.box.open(row.secret)["secret"] for row in subscriptions] == [
        f"secret-{number}" for number in range(100, 104)]


def test_a_failed_webhook_creation_leaves_the_shop_marked_for_the_sync(
    client: FlaskClient, web_services: Services, platform_log: PlatformLog
) -> None:
    platform_log.fail_webhooks = True
    assert key_callback(client, start(client)) == 200
    with web_services.db.session() as session:
        shop = session.scalars(select(Shop)).one()
    assert shop.settings["webhooks_pending"] is True


def test_a_reused_user_id_is_400(client: FlaskClient) -> None:
    user_id = start(client)
    assert key_callback(client, user_id) == 200
    assert key_callback(client, user_id) == 400


@pytest.mark.parametrize("user_id", ["", "123", "abc", "9" * 40, -1, 1.5, True, None, "٣٤٥"])
def test_a_bad_user_id_is_400(client: FlaskClient, web_services: Services, user_id: object) -> None:
    start(client)
    assert key_callback(client, user_id) == 400
    with web_services.db.session() as session:
        assert session.scalars(select(Shop)).all() == []


def test_a_forged_user_id_with_a_valid_looking_number_is_400(client: FlaskClient) -> None:
    user_id = int(start(client))
    assert key_callback(client, user_id ^ 1) == 400  # the tag no longer matches
    assert key_callback(client, user_id) == 200


@pytest.mark.parametrize("permissions", ["read", "write"])
def test_keys_without_read_write_are_400(client: FlaskClient, permissions: str) -> None:
    user_id = start(client)
    assert key_callback(client, user_id, permissions) == 400
    assert key_callback(client, user_id) == 200  # the user_id was not used up by the refused call


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"user_id": 1}'])
def test_a_malformed_callback_is_400_json(client: FlaskClient, body: bytes) -> None:
    response = client.post("/auth/woocommerce/callback", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "Bad Request"
    assert "cs_" not in response.get_data(as_text=True)


def test_the_return_page_says_whether_it_worked(client: FlaskClient) -> None:
    assert "is connected" in client.get("/auth/woocommerce/return?success=1&user_id=1").get_data(as_text=True)
    assert "not connected" in client.get("/auth/woocommerce/return?success=0").get_data(as_text=True)
