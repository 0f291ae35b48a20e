"""OAuth 1.0a signing against the worked vectors of the platform notes (§7)."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from connector.platforms.woocommerce import oauth1

URL = "http://example.com/wp-json/wc/v3/orders"
NONCE = "0123456789abcdef0123456789abcdef"
OAUTH = {
    "oauth_consumer_key": "ck_test",
    "oauth_nonce": NONCE,
    "oauth_signature_method": "HMAC-SHA256",
    "oauth_timestamp": "1700000000",
}


def test_bare_request_vector() -> None:
    assert oauth1.base_string("GET", URL, OAUTH.items()) == (
        "GET&http%3A%2F%2Fexample.com%2Fwp-json%2Fwc%2Fv3%2Forders&oauth_consumer_key%3Dck_test"
        "%26oauth_nonce%3D0123456789abcdef0123456789abcdef%26oauth_signature_method%3DHMAC-SHA256"
        "%26oauth_timestamp%3D1700000000"
    )
    signed = oauth1.sign("GET", URL, {}, "ck_test", "cs_test", nonce=NONCE, timestamp=1700000000)
    assert signed == {**OAUTH, "oauth_signature": "/W4l4wOcf10uGaAiTpYVADANiV2YDDly/zO7iOKq7ew="}


def test_query_parameters_vector() -> None:
    query = {"per_page": "100", "page": "2", "status": "processing", "modified_after": "2024-01-01T00:00:00"}
    base = oauth1.base_string("GET", URL + "?ignored=1", [*query.items(), *OAUTH.items()])
    assert base.endswith(
        "&modified_after%3D2024-01-01T00%253A00%253A00%26oauth_consumer_key%3Dck_test%26oauth_nonce%3D"
        + NONCE
        + "%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000%26page%3D2"
        "%26per_page%3D100%26status%3Dprocessing"
    )
    signed = oauth1.sign("get", URL, query, "ck_test", "cs_test", nonce=NONCE, timestamp="1700000000")
    assert signed["oauth_signature"] == "SVr7belHn5Gs0f696k7wtjnozQ0hVqiyDNMMYw4LGfg="


def test_rawurlencode_matches_php() -> None:
    assert oauth1.rawurlencode("a/b~c d+e") == "a%2Fb~c%20d%2Be"


def test_comma_joined_filter_is_signed_as_one_value() -> None:
    base = oauth1.base_string("GET", URL, [("status", "processing,on-hold")])
    assert base.endswith("&status%3Dprocessing%252Con-hold")


def test_nonce_is_32_alphanumeric_and_fresh() -> None:
    nonces = {oauth1.new_nonce() for _ in range(20)}
    assert len(nonces) == 20
    assert all(len(nonce) == 32 and nonce.isalnum() and nonce.isascii() for nonce in nonces)


@given(st.text())
def test_rawurlencode_leaves_only_unreserved_characters_and_round_trips(text: str) -> None:
    encoded = oauth1.rawurlencode(text)
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%")
    assert unquote(encoded) == text
