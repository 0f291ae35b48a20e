"""Shopify install: /auth/shopify redirects with a one-time state; the callback checks HMAC, time and state."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connector.platforms.shopify.oauth import query_hmac
from connector.services import Services
from connector.store.models import OneTimeToken, Shop
from connector.web.app import create_app
from web_support import SHOPIFY_API_KEY, SHOPIFY_SECRET, FakePlatform, PlatformLog, database_bytes, make_web_settings

SHOP = "demo.myshopify.com"
SANDBOX = "http://127.0.0.1:9"
ACCESS_TOKEN = "shpat_RAW_ACCESS_TOKEN_0123456789"
REFRESH_TOKEN = "shprt_RAW_REFRESH_TOKEN_0123456789"


@pytest.fixture
def sandbox_services(tmp_path: Path, platform_log: PlatformLog) -> Iterator[Services]:
    services = Services(make_web_settings(tmp_path, allow_loopback_api_url=True),
                        platform_factory=lambda _services, shop: FakePlatform(shop, platform_log), migrate=True)
    yield services
    services.close()


@pytest.fixture
def sandbox_client(sandbox_services: Services) -> FlaskClient:
    app = create_app(sandbox_services)
    app.config["TESTING"] = True
    return app.test_client()


def start(client: FlaskClient, shop: str = SHOP, **extra: str) -> str:
    response = client.get("/auth/shopify", query_string={"shop": shop, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)
    return parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]


def callback_query(state: str, *, shop: str = SHOP, timestamp: int | None = None, secret: str = SHOPIFY_SECRET,
                   code: str = "auth-code-1") -> str:
    params = {"code": code, "shop": shop, "state": state, "timestamp": str(timestamp or int(time.time())),
              "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"}
    params["hmac"] = query_hmac(params, secret)
    return urlencode(params)


def token_endpoint(status: int = 200) -> None:
    body = {"access_token": ACCESS_TOKEN, "scope": "write_orders,read_inventory", "expires_in": 3600,
            "refresh_token": REFRESH_TOKEN, "refresh_token_expires_in": 7776000}
    responses.add(responses.POST, f"{SANDBOX}/admin/oauth/access_token",
                  json=body if status == 200 else {"error": "invalid_request"}, status=status)


@pytest.mark.parametrize("shop", ["", "evil.com", "demo.myshopify.com.evil.com", "-demo.myshopify.com",
                                  "demo.myshopify.com\n", "https://demo.myshopify.com"])
def test_a_bad_shop_domain_is_400(client: FlaskClient, shop: str) -> None:
    response = client.get("/auth/shopify", query_string={"shop": shop})
    assert response.status_code == 400
    assert "myshopify.com" in response.get_data(as_text=True)


def test_install_redirects_to_authorize_with_state_scopes_and_callback(
    client: FlaskClient, web_services: Services
) -> None:
    response = client.get("/auth/shopify", query_string={"shop": SHOP})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    query = parse_qs(target.query)
    assert (target.scheme, target.netloc, target.path) == ("https", SHOP, "/admin/oauth/authorize")
    assert query["client_id"] == [SHOPIFY_API_KEY]
    asked = query["scope"][0].split(",")
    assert asked == [*web_services.settings.shopify_scopes.split(","), "read_all_orders"]
    assert {"write_third_party_fulfillment_orders", "write_merchant_managed_fulfillment_orders"} <= set(asked)
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/auth/shopify/callback"]
    with web_services.db.session() as session:
        token = session.get(OneTimeToken, query["state"][0])
    assert token is not None and (token.purpose, token.subject, token.used_at) == ("shopify_state", SHOP, None)
    assert "shopify_install=" in response.headers["Set-Cookie"]


def test_an_install_request_with_a_bad_hmac_is_401(client: FlaskClient) -> None:
    response = client.get("/auth/shopify", query_string={"shop": SHOP, "timestamp": "1", "hmac": "00" * 32})
    assert response.status_code == 401


def test_api_url_is_refused_unless_the_setting_allows_it(client: FlaskClient) -> None:
    response = client.get("/auth/shopify", query_string={"shop": SHOP, "api_url": SANDBOX})
    assert response.status_code == 400
    assert "ALLOW_LOOPBACK_API_URL" in response.get_data(as_text=True)


@pytest.mark.parametrize("api_url", ["https://example.com", "http://10.0.0.1:80", "ftp://127.0.0.1", "http://user:pw@127.0.0.1"])
def test_api_url_must_be_loopback_http(sandbox_client: FlaskClient, api_url: str) -> None:
    assert sandbox_client.get("/auth/shopify", query_string={"shop": SHOP, "api_url": api_url}).status_code == 400


def test_callback_with_a_bad_or_missing_hmac_is_401(client: FlaskClient, web_services: Services) -> None:
    state = start(client)
    assert client.get(f"/auth/shopify/callback?{callback_query(state, secret='wrong')}").status_code == 401
    query = callback_query(state).rsplit("&hmac=", 1)[0]
    assert client.get(f"/auth/shopify/callback?{query}").status_code == 401
    with web_services.db.session() as session:
        assert session.get(OneTimeToken, state).used_at is None  # type: ignore[union-attr]


def test_callback_with_a_stale_timestamp_is_400(client: FlaskClient) -> None:
    state = start(client)
    response = client.get(f"/auth/shopify/callback?{callback_query(state, timestamp=int(time.time()) - 3600)}")
    assert response.status_code == 400
    assert "too old" in response.get_data(as_text=True)


def test_callback_for_another_shop_or_browser_is_400(client: FlaskClient, app: Flask) -> None:
    state = start(client)
    assert client.get(f"/auth/shopify/callback?{callback_query(state, shop='other.myshopify.com')}").status_code == 400
    stranger = app.test_client()  # no install cookie
    assert stranger.get(f"/auth/shopify/callback?{callback_query(state)}").status_code == 400


@responses.activate
def test_good_callback_stores_the_shop_with_encrypted_tokens_and_subscribes_webhooks(
    sandbox_client: FlaskClient, sandbox_services: Services, platform_log: PlatformLog, tmp_path: Path
) -> None:
    token_endpoint()
    state = start(sandbox_client, api_url=SANDBOX)
    response = sandbox_client.get(f"/auth/shopify/callback?{callback_query(state)}")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    exchange = json.loads(responses.calls[0].request.body)
    assert (exchange["code"], exchange["client_id"], exchange["expiring"]) == ("auth-code-1", SHOPIFY_API_KEY, "1")
    with sandbox_services.db.session() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
    assert (shop.platform, shop.api_url, shop.active) == ("shopify", SANDBOX, True)
    assert shop.token_expires_at is not None
    assert sandbox_services.box.open(shop.credentials) == {"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN}
    stored = database_bytes(tmp_path)
    assert ACCESS_TOKEN.encode() not in stored and REFRESH_TOKEN.encode() not in stored
    [(shop_id, address, topics)] = platform_log.webhook_calls
    assert (shop_id, address) == (shop.id, "http://127.0.0.1:8000/webhooks/shopify")
    assert "orders/updated" in topics and "app/uninstalled" in topics
    with sandbox_services.db.session() as session:
        settings = session.get(Shop, shop.id).settings  # type: ignore[union-attr]
    assert "webhooks_pending" not in settings
    # the token came back with fewer scopes than asked for: compared at once, not assumed
    assert settings["access"]["granted"] == ["write_orders", "read_inventory"]
    assert settings["access"]["missing"] == ["write_products", "write_merchant_managed_fulfillment_orders",
                                             "write_third_party_fulfillment_orders", "read_all_orders"]
    assert settings["access"]["readable_since"] is not None  # the 60-day window applies


@responses.activate
def test_a_replayed_callback_is_400_and_the_install_cookie_is_cleared(sandbox_client: FlaskClient) -> None:
    token_endpoint()
    state = start(sandbox_client, api_url=SANDBOX)
    query = callback_query(state)
    assert sandbox_client.get(f"/auth/shopify/callback?{query}").status_code == 302
    assert sandbox_client.get_cookie("shopify_install", path="/auth/shopify") is None
    assert sandbox_client.get(f"/auth/shopify/callback?{query}").status_code == 400
    assert len(responses.calls) == 1


def test_an_expired_state_is_400(client: FlaskClient, web_services: Services) -> None:
    state = start(client)
    with web_services.db.session() as session:
        token = session.get(OneTimeToken, state)
        assert token is not None
        token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get(f"/auth/shopify/callback?{callback_query(state)}").status_code == 400


@responses.activate
def test_replay_with_the_cookie_still_set_is_400(sandbox_client: FlaskClient) -> None:
    token_endpoint()
    state = start(sandbox_client, api_url=SANDBOX)
    cookie = sandbox_client.get_cookie("shopify_install", path="/auth/shopify")
    assert cookie is not None
    query = callback_query(state)
    assert sandbox_client.get(f"/auth/shopify/callback?{query}").status_code == 302
    sandbox_client.set_cookie("shopify_install", cookie.value, path="/auth/shopify")
    response = sandbox_client.get(f"/auth/shopify/callback?{query}")
    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)
    assert len(responses.calls) == 1


@responses.activate
def test_a_webhook_failure_does_not_fail_the_install(
    sandbox_client: FlaskClient, sandbox_services: Services, platform_log: PlatformLog
) -> None:
    token_endpoint()
    platform_log.fail_webhooks = True
    state = start(sandbox_client, api_url=SANDBOX)
    assert sandbox_client.get(f"/auth/shopify/callback?{callback_query(state)}").status_code == 302
    with sandbox_services.db.session() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
    assert shop.settings["webhooks_pending"] is True  # left for the periodic sync


@responses.activate
def test_a_refused_code_is_400_and_stores_nothing(sandbox_client: FlaskClient, sandbox_services: Services) -> None:
    token_endpoint(status=400)
    state = start(sandbox_client, api_url=SANDBOX)
    assert sandbox_client.get(f"/auth/shopify/callback?{callback_query(state)}").status_code == 400
    with sandbox_services.db.session() as session:
        assert session.scalars(select(Shop)).all() == []
