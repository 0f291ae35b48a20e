"""WooCommerce authorization: an operator starts it, the store's key is verified before it is stored (issue 13,
finding 1), a one-time user_id is used once, and an active shop keeps its keys until new ones work."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.services import Services
from connector.store.models import OneTimeToken, Shop, WebhookSubscription, utcnow
from web_support import ADMIN_PASSWORD, PlatformLog, b64_hmac, database_bytes, inbox_count

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

STORE = "https://store.example"
CONSUMER_KEY = "ck_0123456789abcdef0123456789abcdef01234567"
CONSUMER_SECRET = "cs_RAW_SECRET_0123456789abcdef0123456789ab"


def csrf(client: FlaskClient, path: str = "/login") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


def operator(client: FlaskClient) -> FlaskClient:
    response = client.post("/login", data={"password": ADMIN_PASSWORD, "csrf_token": csrf(client)})
    assert response.status_code == 302
    return client


def connect(client: FlaskClient, store_url: str) -> tuple[int, str]:
    """What the dashboard's connect form answers (logged in as the operator if not yet): status, Location."""
    if not client.get("/connect/woocommerce").status_code == 200:
        operator(client)
    response = client.post("/connect/woocommerce",
                           data={"store_url": store_url, "csrf_token": csrf(client, "/connect/woocommerce")})
    return response.status_code, response.headers.get("Location", response.get_data(as_text=True))


def start(client: FlaskClient, store_url: str = STORE) -> str:
    status, location = connect(client, store_url)
    assert status == 303, location
    return parse_qs(urlsplit(location).query)["user_id"][0]


def key_callback(client: FlaskClient, user_id: object, permissions: str = "read_write", **changes: object) -> int:
    body = {"key_id": 5, "user_id": user_id, "consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET,
            "key_permissions": permissions, **changes}
    return client.post("/auth/woocommerce/callback", data=json.dumps(body), content_type="application/json").status_code


def test_authorize_redirects_to_wc_auth_with_a_one_time_user_id(client: FlaskClient) -> None:
    status, location = connect(client, STORE + "/")
    assert status == 303
    target = urlsplit(location)
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == STORE + "/wc-auth/v1/authorize"
    assert query["scope"] == "read_write"
    assert query["app_name"] == "Backorder Connector"
    assert query["callback_url"] == "http://127.0.0.1:8000/auth/woocommerce/callback"
    assert query["return_url"] == "http://127.0.0.1:8000/auth/woocommerce/return"
    assert query["user_id"].isdigit() and int(query["user_id"]) < 2**53


@pytest.mark.parametrize("store_url", ["", "ftp://store.example", "http://store.example", "https://u:p@store.example",
                                       "https://169.254.169.254", "https://10.0.0.8:8443", "https://[::ffff:192.168.0.1]",
                                       "https://3232235777", "https://012.0.0.1", "http://0177.0.0.1.example"])
def test_connect_refuses_a_bad_or_internal_store_url(client: FlaskClient, web_services: Services, store_url: str) -> None:
    """Finding 2: no install (and so no later call) can point the connector at an internal address."""
    status, page = connect(client, store_url)
    assert status == 400
    assert "u:p" not in page
    with web_services.db.session() as session:
        assert session.scalars(select(OneTimeToken)).all() == []


def test_anonymous_visitors_cannot_start_an_install(client: FlaskClient, web_services: Services) -> None:
    """Finding 1: the old GET hands out nothing; the connect form needs the operator login and a CSRF token."""
    response = client.get("/auth/woocommerce", query_string={"store_url": STORE})
    assert response.status_code == 303 and "user_id" not in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 302  # to the login page
    assert "/login" in client.get("/connect/woocommerce").headers["Location"]
    assert client.post("/connect/woocommerce", data={"store_url": STORE}).status_code == 400  # no CSRF token
    token = csrf(client)  # a CSRF token of an anonymous session does not log anyone in
    assert client.post("/connect/woocommerce", data={"store_url": STORE, "csrf_token": token}).status_code == 302
    with web_services.db.session() as session:
        assert session.scalars(select(OneTimeToken)).all() == []


def test_the_old_entry_leads_the_operator_to_the_form_filled_in(client: FlaskClient) -> None:
    operator(client)
    response = client.get("/auth/woocommerce", query_string={"store_url": STORE}, follow_redirects=True)
    assert response.status_code == 200 and 'value="https://store.example"' in response.get_data(as_text=True)


def test_keys_the_store_refuses_are_never_stored(client: FlaskClient, web_services: Services,
                                                platform_log: PlatformLog) -> None:
    """Finding 1: made-up keys are 400 and an active shop keeps its working keys."""
    assert key_callback(client, start(client)) == 200
    platform_log.refuse_keys = True
    assert key_callback(client, start(client), consumer_key="ck_" + "0" * 40, key_id=6) == 400
    with web_services.db.session() as session:
        shop = session.scalars(select(Shop)).one()
    assert web_services.box.open(shop.credentials)["consumer_key"] == CONSUMER_KEY
    assert platform_log.profile_reads == [STORE, STORE]  # the store the operator named, each time


def test_a_verified_new_key_takes_over_and_the_old_one_is_flagged_for_revocation(
    client: FlaskClient, web_services: Services
) -> None:
    assert key_callback(client, start(client)) == 200
    assert key_callback(client, start(client), consumer_key="ck_" + "f" * 40, key_id=6) == 200
    with web_services.db.session() as session:
        shop = session.scalars(select(Shop)).one()
    assert web_services.box.open(shop.credentials)["key_id"] == 6
    assert shop.settings["revoke_key"]["key_id"] == 5
    page = client.get("/orders").get_data(as_text=True)
    assert "Revoke the replaced WooCommerce key (key id 5)" in page
    assert "WooCommerce has no API to revoke a key" in page


def test_a_merchant_session_cannot_connect_stores(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["dashboard"] = {"role": "merchant", "shop_id": 1, "since": int(utcnow().timestamp()), "v": 0}
    assert client.get("/connect/woocommerce").status_code in (403, 404)


def test_expired_one_time_tokens_are_purged(client: FlaskClient, web_services: Services) -> None:
    start(client)
    with web_services.db.session() as session:
        for token in session.scalars(select(OneTimeToken)):
            token.expires_at = utcnow() - timedelta(minutes=1)
    start(client)
    with web_services.db.session() as session:
        assert len(session.scalars(select(OneTimeToken)).all()) == 1


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
