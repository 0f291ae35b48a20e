"""OAuth and webhook signatures: Shopify's published vectors, tampering, code exchange and refresh."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import AuthError, ConfigError, InputError, PlatformError, TransportError
from connector.platforms.shopify.oauth import (
    TokenSet,
    authorize_url,
    exchange_code,
    query_hmac,
    refresh_token,
    valid_shop_domain,
    verify_query_hmac,
    verify_webhook,
    webhook_hmac,
)

# -- webhook HMAC (shopify-app-js lib/webhooks/__tests__/validate.test.ts) ----------------------

WEBHOOK_BODY = b'{"foo": "bar"}'
WEBHOOK_SIGNATURE = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="


def test_webhook_vector_verifies() -> None:
    assert webhook_hmac(WEBHOOK_BODY, "test_secret_key") == WEBHOOK_SIGNATURE
    assert verify_webhook(WEBHOOK_BODY, WEBHOOK_SIGNATURE, ["test_secret_key"])


def test_webhook_signed_with_the_previous_secret_verifies_during_rotation() -> None:
    assert verify_webhook(WEBHOOK_BODY, WEBHOOK_SIGNATURE, ["new_secret", "test_secret_key"])


@pytest.mark.parametrize(("body", "header", "secrets"), [
    (b'{"foo": "baz"}', WEBHOOK_SIGNATURE, ["test_secret_key"]),
    (WEBHOOK_BODY + b"\n", WEBHOOK_SIGNATURE, ["test_secret_key"]),
    (WEBHOOK_BODY, WEBHOOK_SIGNATURE, ["other"]),
    (WEBHOOK_BODY, None, ["test_secret_key"]),
    (WEBHOOK_BODY, "", ["test_secret_key"]),
    (WEBHOOK_BODY, WEBHOOK_SIGNATURE, []),
    (WEBHOOK_BODY, WEBHOOK_SIGNATURE, [""]),
    (WEBHOOK_BODY, "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g", ["test_secret_key"]),
    (WEBHOOK_BODY, "é" + WEBHOOK_SIGNATURE, ["test_secret_key"]),
])
def test_bad_webhook_signatures_are_refused(body: bytes, header: str | None, secrets: list[str]) -> None:
    assert not verify_webhook(body, header, secrets)


# -- query HMAC (shopify_python_api test/session_test.py) ---------------------------------------

INSTALL = {"code": "a94a110d86d2452eb3e2af4cfb8a3828", "shop": "some-shop.myshopify.com", "timestamp": "1337178173",
           "hmac": "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2"}


def test_query_vector_verifies() -> None:
    assert verify_query_hmac(INSTALL, "hush")


def test_query_values_as_lists_from_a_multidict_verify() -> None:
    assert verify_query_hmac({key: [value] for key, value in INSTALL.items()}, "hush")


def test_array_parameters_are_signed_as_a_json_list() -> None:
    params = {"ids[]": ["2", "1"], "shop": "some-shop.myshopify.com",
              "hmac": "b93b9f82996f6f8bf9f1b7bbddec284c8fabacdc4e12dc80550b4705f3003b1e"}
    assert verify_query_hmac(params, "hush")
    assert not verify_query_hmac({**params, "ids[]": ["1", "2"]}, "hush")


def test_delimiters_in_keys_and_values_are_escaped() -> None:
    assert query_hmac({"a": "1&b=2", "c=3&d": "4"}, "secret") == \
        "8de3c7e965d22fa21e059868e4004f5b6fbdcef293d1622ff9408edd6325bc6b"
    # the same characters split differently must not carry the same signature
    assert query_hmac({"a": "1", "b": "2&c=3", "d": "4"}, "secret") != query_hmac({"a": "1&b=2", "c=3&d": "4"}, "secret")


@pytest.mark.parametrize("change", [
    {"shop": "evil-shop.myshopify.com"},
    {"timestamp": "1337178174"},
    {"extra": "1"},
    {"hmac": "0" * 64},
    {"hmac": ""},
    {"hmac": ["a", "b"]},
    {"code": ["a94a110d86d2452eb3e2af4cfb8a3828", "other"]},
])
def test_tampered_queries_are_refused(change: dict) -> None:
    assert not verify_query_hmac({**INSTALL, **change}, "hush")


query_params = st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda key: key != "hmac"),
                               st.text(max_size=12), min_size=1, max_size=5)


@given(query_params, st.data())
def test_any_signed_query_verifies_and_any_changed_value_does_not(params: dict[str, str], data: st.DataObject) -> None:
    signed = {**params, "hmac": query_hmac(params, "s3cret")}
    assert verify_query_hmac(signed, "s3cret")
    key = data.draw(st.sampled_from(sorted(params)))
    changed = data.draw(st.text(max_size=12).filter(lambda value: value != params[key]))
    assert not verify_query_hmac({**signed, key: changed}, "s3cret")


def test_a_query_without_hmac_or_with_the_wrong_secret_is_refused() -> None:
    assert not verify_query_hmac({k: v for k, v in INSTALL.items() if k != "hmac"}, "hush")
    assert not verify_query_hmac(INSTALL, "other")
    assert not verify_query_hmac(INSTALL, "")


def test_an_uppercase_hex_signature_still_verifies() -> None:
    assert verify_query_hmac({**INSTALL, "hmac": INSTALL["hmac"].upper()}, "hush")


# -- shop domains and the authorize URL ---------------------------------------------------------


@pytest.mark.parametrize("shop", ["some-shop.myshopify.com", "a.myshopify.com", "shop1.myshopify.com"])
def test_valid_shop_domains(shop: str) -> None:
    assert valid_shop_domain(shop)


@pytest.mark.parametrize("shop", ["evil.com", "some-shop.myshopify.com.evil.com", "some-shop.myshopify.com\n",
                                  "https://some-shop.myshopify.com", "some shop.myshopify.com", "-a.myshopify.com",
                                  "Some-Shop.myshopify.com", "a.b.myshopify.com", "myshopify.com"])
def test_invalid_shop_domains(shop: str) -> None:
    assert not valid_shop_domain(shop)


def test_authorize_url_carries_the_app_scopes_redirect_and_state() -> None:
    url = authorize_url("some-shop.myshopify.com", "api-key", ["write_orders", "read_inventory"],
                        "https://connector.example.com/auth/shopify/callback", "nonce-123")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "some-shop.myshopify.com", "/admin/oauth/authorize")
    assert parse_qs(parts.query) == {"client_id": ["api-key"], "scope": ["write_orders,read_inventory"],
                                     "redirect_uri": ["https://connector.example.com/auth/shopify/callback"],
                                     "state": ["nonce-123"]}


def test_authorize_url_refuses_a_crafted_shop() -> None:
    with pytest.raises(InputError):
        authorize_url("evil.com/x.myshopify.com", "k", ["write_orders"], "https://x/cb", "s")


# -- token endpoint -----------------------------------------------------------------------------

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TOKEN_URL = "https://some-shop.myshopify.com/admin/oauth/access_token"
GRANT = {"access_token": "shpat_fresh", "scope": "write_orders,read_inventory", "expires_in": 3600,
         "refresh_token": "shprt_fresh", "refresh_token_expires_in": 7776000}


@responses.activate
def test_exchange_code_asks_for_an_expiring_offline_token() -> None:
    responses.add(responses.POST, TOKEN_URL, json=GRANT)
    tokens = exchange_code("some-shop.myshopify.com", "code-1", "api-key", "s3cret", now=lambda: NOW)
    assert json.loads(responses.calls[0].request.body) == {"client_id": "api-key", "client_secret": "s3cret",
                                                           "code": "code-1", "expiring": "1"}
    assert tokens == TokenSet("shpat_fresh", "write_orders,read_inventory", NOW + timedelta(hours=1),
                              "shprt_fresh", NOW + timedelta(days=90))
    assert "shpat_fresh" not in repr(tokens) and "shprt_fresh" not in repr(tokens)


@responses.activate
def test_refresh_token_spends_the_refresh_token() -> None:
    responses.add(responses.POST, "http://127.0.0.1:8765/admin/oauth/access_token", json=GRANT)
    tokens = refresh_token("some-shop.myshopify.com", "shprt_old", "api-key", "s3cret",
                           base_url="http://127.0.0.1:8765", now=lambda: NOW)
    assert json.loads(responses.calls[0].request.body) == {"client_id": "api-key", "client_secret": "s3cret",
                                                           "grant_type": "refresh_token", "refresh_token": "shprt_old"}
    assert tokens.refresh_token == "shprt_fresh"


@responses.activate
def test_a_non_expiring_grant_has_no_expiry() -> None:
    responses.add(responses.POST, TOKEN_URL, json={"access_token": "shpat_x", "scope": "write_orders"})
    tokens = exchange_code("some-shop.myshopify.com", "c", "k", "s", now=lambda: NOW)
    assert tokens.expires_at is None and tokens.refresh_token is None


@responses.activate
def test_a_refused_code_is_an_auth_error_without_secrets() -> None:
    responses.add(responses.POST, TOKEN_URL, status=400, json={"error": "invalid_request",
                                                                "error_description": "code already used"})
    with pytest.raises(AuthError) as caught:
        exchange_code("some-shop.myshopify.com", "code-1", "api-key", "s3cret")
    assert "s3cret" not in str(caught.value) and "code-1" not in str(caught.value)


@responses.activate
def test_a_server_error_at_the_token_endpoint_is_a_transport_error() -> None:
    responses.add(responses.POST, TOKEN_URL, status=502)
    with pytest.raises(TransportError):
        refresh_token("some-shop.myshopify.com", "shprt_old", "k", "s")


def test_the_token_endpoint_is_never_built_from_a_crafted_shop_or_plain_http() -> None:
    with pytest.raises(ConfigError):
        exchange_code("evil.com", "c", "k", "s")
    with pytest.raises(ConfigError):
        exchange_code("some-shop.myshopify.com", "c", "k", "s", base_url="http://example.com")


@responses.activate
def test_a_redirect_from_the_token_endpoint_is_not_followed() -> None:
    responses.add(responses.POST, TOKEN_URL, status=307, headers={"Location": "https://evil.example.com/collect"})
    with pytest.raises(PlatformError, match="307"):
        exchange_code("some-shop.myshopify.com", "c", "k", "s3cret")
    assert len(responses.calls) == 1
