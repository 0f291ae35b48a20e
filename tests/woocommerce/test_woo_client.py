"""WooClient against `responses`: auth modes, pagination, filters, error mapping, retries, secrecy."""

from __future__ import annotations

import base64
import itertools
import logging
import traceback
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from woo_support import API, KEY, SECRET, client, wc_error

from connector import __version__
from connector.errors import AuthError, InputError, NotFoundError, PlatformError, TransportError, UserError
from connector.platforms.woocommerce import oauth1


def query_of(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


@responses.activate
def test_https_uses_basic_auth_and_a_real_user_agent() -> None:
    responses.get(API + "system_status", json={"ok": True})
    assert client().get("system_status") == {"ok": True}
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert request.headers["User-Agent"].startswith(f"backorder-connector/{__version__} (+https://")
    assert query_of(responses.calls[0]) == {}


@responses.activate
def test_query_string_auth_sends_keys_as_parameters() -> None:
    responses.get(API + "orders/5", json={"id": 5})
    client(access_options={"query_string_auth": True}).get("orders/5")
    request = responses.calls[0].request
    assert "Authorization" not in request.headers
    assert query_of(responses.calls[0]) == {"consumer_key": [KEY], "consumer_secret": [SECRET]}


@responses.activate
def test_plain_http_on_loopback_is_oauth_signed_with_a_fresh_nonce_per_attempt() -> None:
    base = "http://127.0.0.1:8080/wp-json/wc/v3/"
    responses.get(base + "orders", status=503, json=wc_error("x", "busy", 503))
    responses.get(base + "orders", json=[])
    nonces = (f"{n:032d}" for n in itertools.count(1))
    woo = client("http://127.0.0.1:8080", nonce=lambda: next(nonces), clock=lambda: 1700000000.0)
    assert woo.get("orders", {"status": "processing", "page": 2}) == []
    seen = []
    for call in responses.calls:
        assert "Authorization" not in call.request.headers
        query = {key: values[0] for key, values in query_of(call).items()}
        assert "consumer_secret" not in query and SECRET not in call.request.url
        expected = oauth1.sign(
            "GET", base + "orders", {"status": "processing", "page": "2"}, KEY, SECRET,
            nonce=query["oauth_nonce"], timestamp=1700000000,
        )
        assert {key: query[key] for key in expected} == expected
        seen.append(query["oauth_nonce"])
    assert seen == ["1".zfill(32), "2".zfill(32)]


@responses.activate
@pytest.mark.parametrize("domain", ["http://shop.example", "http://192.168.1.10", "http://localhost.evil.example"])
def test_plain_http_to_other_hosts_is_refused_before_any_request(domain: str) -> None:
    with pytest.raises(InputError, match="only allowed for a store on this machine"):
        client(domain)
    assert len(responses.calls) == 0


def test_missing_keys_are_refused() -> None:
    from connector.platforms.base import ShopAccess
    from connector.platforms.woocommerce.client import WooClient

    with pytest.raises(InputError, match="consumer key and consumer secret"):
        WooClient(ShopAccess(platform="woocommerce", domain="https://shop.example", consumer_key="ck_x"))


@responses.activate
def test_explicit_api_url_is_the_rest_base() -> None:
    responses.get("http://localhost:5000/api/orders", json=[])
    woo = client(access_options={"api_url": "http://localhost:5000/api/"})
    assert woo.get("orders") == []


@responses.activate
def test_pagination_follows_total_pages_with_100_per_page() -> None:
    for page, size in ((1, 100), (2, 100), (3, 50)):
        responses.get(
            API + "products",
            json=[{"id": (page - 1) * 100 + i} for i in range(size)],
            headers={"X-WP-TotalPages": "3", "X-WP-Total": "250"},
            match=[responses.matchers.query_param_matcher({"per_page": "100", "page": str(page)})],
        )
    ids = [item["id"] for item in client().paginate("products")]
    assert ids == list(range(250))
    assert len(responses.calls) == 3


@responses.activate
def test_pagination_stops_on_an_empty_page_without_total_header() -> None:
    responses.get(API + "webhooks", json=[{"id": i} for i in range(100)],
                  match=[responses.matchers.query_param_matcher({"per_page": "100", "page": "1"})])
    responses.get(API + "webhooks", json=[],
                  match=[responses.matchers.query_param_matcher({"per_page": "100", "page": "2"})])
    assert len(list(client().paginate("webhooks"))) == 100
    assert len(responses.calls) == 2


@responses.activate
def test_list_filters_go_as_one_comma_separated_value() -> None:
    responses.get(API + "orders", json=[])
    client().get("orders", {"status": ["processing", "on-hold"], "dates_are_gmt": True, "after": None})
    assert query_of(responses.calls[0]) == {"status": ["processing,on-hold"], "dates_are_gmt": ["true"]}


AUTH_CASES = [
    (401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.", "GET",
     "check the consumer key and secret"),
    (401, "woocommerce_rest_authentication_error", "The API key provided does not have write permissions.", "PUT",
     "read-only permission"),
    (401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", "GET",
     "consumer key is unknown, or the host strips the Authorization header"),
    (403, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", "PUT",
     "lacks permission"),
]


@responses.activate
@pytest.mark.parametrize(("status", "code", "message", "method", "hint"), AUTH_CASES)
def test_auth_errors_say_wrong_key_or_missing_permission(status: int, code: str, message: str, method: str,
                                                         hint: str) -> None:
    responses.add(method, API + "orders/1", status=status, json=wc_error(code, message, status))
    woo = client()
    with pytest.raises(AuthError) as caught:
        woo.get("orders/1") if method == "GET" else woo.put("orders/1", {})
    assert hint in str(caught.value)
    assert caught.value.code == code and caught.value.status == status
    assert len(responses.calls) == 1  # never retried


@responses.activate
def test_not_found_and_bad_requests_map_to_their_errors() -> None:
    responses.get(API + "orders/9", status=404, json=wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404))
    responses.get(API + "orders", status=400, json=wc_error(
        "rest_invalid_param", "Invalid parameter(s): per_page", 400,
        params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}))
    responses.post(API + "orders/batch", status=413, json=wc_error(
        "woocommerce_rest_request_entity_too_large", "Unable to accept more than 100 items for this request.", 413))
    woo = client()
    with pytest.raises(NotFoundError) as missing:
        woo.get("orders/9")
    assert missing.value.code == "woocommerce_rest_shop_order_invalid_id"
    with pytest.raises(UserError) as refused:
        woo.get("orders", {"per_page": 500})
    assert refused.value.messages[1] == "per_page: per_page must be between 1 (inclusive) and 100 (inclusive)"
    assert refused.value.code == "rest_invalid_param" and refused.value.status == 400
    with pytest.raises(UserError) as too_large:
        woo.post("orders/batch", {"update": []})
    assert too_large.value.status == 413
    assert len(responses.calls) == 3


@responses.activate
def test_5xx_and_429_are_retried_with_backoff_and_retry_after() -> None:
    responses.get(API + "orders", status=502, body="<html>bad gateway</html>")
    responses.get(API + "orders", status=429, headers={"Retry-After": "7"}, json=wc_error("too_many", "Slow down", 429))
    responses.get(API + "orders", status=500, json=wc_error("internal", "oops", 500))
    responses.get(API + "orders", json=[{"id": 1}])
    sleeps: list[float] = []
    assert client(sleeps=sleeps).get("orders") == [{"id": 1}]
    assert sleeps == [1.0, 7.0, 4.0]  # exponential (jitter at its ceiling) except where the store said


@responses.activate
def test_retries_are_bounded() -> None:
    responses.get(API + "orders", body=requests.ConnectionError("refused"))
    sleeps: list[float] = []
    with pytest.raises(TransportError, match="cannot connect"):
        client(sleeps=sleeps, max_attempts=3).get("orders")
    assert len(responses.calls) == 3
    assert sleeps == [1.0, 2.0]


@responses.activate
def test_timeouts_are_transport_errors() -> None:
    responses.get(API + "orders", body=requests.ReadTimeout("slow"))
    with pytest.raises(TransportError, match="timed out after 30 s"):
        client(max_attempts=1).get("orders")


@responses.activate
def test_redirects_are_not_followed() -> None:
    responses.get(API + "orders", status=301, headers={"Location": "https://www.shop.example/wp-json/wc/v3/orders"})
    with pytest.raises(PlatformError, match="redirected to www.shop.example"):
        client().get("orders")
    assert len(responses.calls) == 1


@responses.activate
def test_html_instead_of_json_is_a_clear_error() -> None:
    responses.get(API + "orders", body="<html>Welcome</html>", content_type="text/html")
    with pytest.raises(PlatformError, match="without JSON"):
        client().get("orders")


@responses.activate
def test_credentials_never_appear_in_errors_logs_or_reprs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    leaky = requests.ConnectionError(f"Max retries exceeded with url: /orders?consumer_key={KEY}&consumer_secret={SECRET}")
    responses.get(API + "orders", body=leaky)
    responses.get(API + "orders/1", status=401, json=wc_error("woocommerce_rest_authentication_error",
                                                               "Consumer secret is invalid.", 401))
    woo = client(access_options={"query_string_auth": True}, max_attempts=2)
    texts = [repr(woo)]
    for path in ("orders", "orders/1"):
        with pytest.raises(PlatformError) as caught:
            woo.get(path)
        texts += [str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value))]
    logging.getLogger("urllib3.connectionpool").debug('%s://%s "%s %s"', "https", "shop.example", "GET",
                                                      f"/orders?consumer_key={KEY}&consumer_secret={SECRET}")
    texts.append(caplog.text)
    for text in texts:
        assert SECRET not in text
        assert KEY not in text
