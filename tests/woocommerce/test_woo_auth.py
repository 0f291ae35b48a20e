"""Pure helpers: store URL checks, the wc-auth key exchange, webhook signatures and pings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from connector.errors import InputError
from connector.platforms.woocommerce.auth import (
    KeyCallback,
    authorize_url,
    is_ping,
    normalize_store_url,
    parse_key_callback,
    verify_webhook,
    webhook_signature,
)

ACTION_BODY = b'{"action":"woocommerce_add_to_cart","arg":"7cbbc409ec990f19c78c75bd1e06f215"}'


def test_core_signature_vector_with_empty_secret() -> None:
    assert webhook_signature(b"secret", "") == "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs="


@pytest.mark.parametrize(
    ("body", "signature"),
    [
        (b'{"id":727}', "m1d3StNjWkAMXeI+EK1uDq2BvIZ0J3SpHiPiQkpFyUY="),
        (ACTION_BODY, "aZGROchoMkolasvX4lBpOnU2WjaAZr7DyijH4x9yng4="),
    ],
)
def test_computed_signature_vectors_verify(body: bytes, signature: str) -> None:
    assert webhook_signature(body, "test_secret") == signature
    assert verify_webhook(body, signature, "test_secret")
    assert verify_webhook(body, f" {signature}\n", "test_secret")


def test_tampered_missing_or_unkeyed_deliveries_fail() -> None:
    good = "m1d3StNjWkAMXeI+EK1uDq2BvIZ0J3SpHiPiQkpFyUY="
    assert not verify_webhook(b'{"id":728}', good, "test_secret")
    assert not verify_webhook(b'{"id": 727}', good, "test_secret")  # re-serialised JSON is not the same bytes
    assert not verify_webhook(b'{"id":727}', None, "test_secret")
    assert not verify_webhook(b'{"id":727}', "", "test_secret")
    assert not verify_webhook(b'{"id":727}', good, "other_secret")
    assert not verify_webhook(b'{"id":727}', "ünicode", "test_secret")
    # an empty secret must never verify, even with the matching signature
    assert not verify_webhook(b"secret", "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs=", "")


def test_secret_is_entity_decoded_like_wordpress() -> None:
    body = b'{"id":1}'
    assert webhook_signature(body, "a&amp;b&#039;c&quot;") == webhook_signature(body, "a&b'c\"")
    one_pass = base64.b64encode(hmac.new(b"&lt;", body, hashlib.sha256).digest()).decode()
    assert webhook_signature(body, "&amp;lt;") == one_pass  # decoded once, not twice
    assert webhook_signature(body, "&AMP;") != webhook_signature(body, "&")


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/x-www-form-urlencoded", b"webhook_id=142", True),
        ("application/x-www-form-urlencoded; charset=UTF-8", b"webhook_id=7", True),
        (None, b"webhook_id=142", True),
        ("application/json", b"webhook_id=142", False),
        ("application/x-www-form-urlencoded", b"webhook_id=abc", False),
        ("application/x-www-form-urlencoded", b"webhook_id=1&x=2", False),
        ("application/x-www-form-urlencoded", b"webhook_id=1&webhook_id=2", False),
        ("application/json", b'{"id":727}', False),
        (None, b"", False),
    ],
)
def test_ping_detection(content_type: str | None, body: bytes, expected: bool) -> None:
    assert is_ping(content_type, body) is expected


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://Shop.Example/", "https://shop.example"),
        (" https://shop.example/store/ ", "https://shop.example/store"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://127.0.0.5", "http://127.0.0.5"),
        ("http://[::1]:9000/wp", "http://[::1]:9000/wp"),
    ],
)
def test_store_urls_are_normalized(url: str, normal: str) -> None:
    assert normalize_store_url(url) == normal


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://shop.example", "only allowed for a store on this machine"),
        ("http://127.0.0.1.evil.example", "only allowed"),
        ("http://10.0.0.5", "only allowed"),
        ("ftp://shop.example", "https://"),
        ("shop.example", "https://"),
        ("https://", "no host"),
        ("https://shop.example/?a=1", "query"),
        ("https://shop.example/#x", "fragment"),
        ("https://shop.example:99999", "not a valid URL"),
    ],
)
def test_bad_store_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(InputError, match="store URL") as caught:
        normalize_store_url(url)
    assert problem in str(caught.value)


def test_credentials_in_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(InputError) as caught:
        normalize_store_url("https://admin:hunter2@shop.example")
    assert "hunter2" not in str(caught.value)


def test_authorize_url() -> None:
    url = authorize_url(
        "https://shop.example/",
        "Backorder connector",
        "u-123.sig",
        "https://app.example/shops",
        "https://app.example/auth/woocommerce/callback",
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://shop.example/wc-auth/v1/authorize"
    assert parse_qs(parts.query) == {
        "app_name": ["Backorder connector"],
        "scope": ["read_write"],
        "user_id": ["u-123.sig"],
        "return_url": ["https://app.example/shops"],
        "callback_url": ["https://app.example/auth/woocommerce/callback"],
    }


def test_authorize_url_refuses_plain_http_callback() -> None:
    with pytest.raises(InputError, match="callback_url"):
        authorize_url("https://shop.example", "App", "u", "https://app.example", "http://app.example/cb")


@pytest.mark.parametrize("user_id", [123, "123"])
def test_key_callback_accepts_user_id_as_number_or_string(user_id: int | str) -> None:
    body = {"key_id": 1, "user_id": user_id, "consumer_key": "ck_abc", "consumer_secret": "cs_topsecret",
            "key_permissions": "read_write"}
    keys = parse_key_callback(json.dumps(body).encode())
    assert keys.user_id == "123"
    assert keys.consumer_secret.get_secret_value() == "cs_topsecret"
    assert "cs_topsecret" not in repr(keys) and "cs_topsecret" not in str(keys)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"key_id":1,"user_id":"1","consumer_key":"ck_a","consumer_secret":"xx_leak","key_permissions":"read"}',
         "consumer_secret"),
        (b'{"key_id":1,"user_id":"1","consumer_key":"ck_a","consumer_secret":"cs_leak","key_permissions":"all"}',
         "key_permissions"),
        (b'{"key_id":1,"consumer_key":"ck_a","consumer_secret":"cs_leak","key_permissions":"read"}', "user_id"),
    ],
)
def test_bad_key_callbacks_name_the_field_and_hide_values(body: bytes, problem: str) -> None:
    with pytest.raises(InputError, match="WooCommerce key callback") as caught:
        parse_key_callback(body)
    assert problem in str(caught.value)
    assert "leak" not in str(caught.value)


def test_key_callback_model_is_usable_directly() -> None:
    keys = KeyCallback(key_id=2, user_id=7, consumer_key="ck_x", consumer_secret="cs_y", key_permissions="read")
    assert keys.user_id == "7"
