"""The WooCommerce sandbox answers like WooCommerce: auth modes, lists, writes, wc-auth, webhooks and faults."""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
import requests
from flask import Flask, Response, request
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import InputError
from connector.sandbox.common import FaultPlan, ServerThread
from connector.sandbox.woocommerce import WooState, create_app, load_seed, oauth_base_string, oauth_signature, run, sandbox_of

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_SEED = REPO / "examples" / "sandbox" / "woocommerce_seed.json"
EXAMPLE_FEED = REPO / "examples" / "sandbox" / "feeds" / "woocommerce_supplier.csv"
SITE = "http://shop.example"
CK, CS = "ck_readwrite1", "cs_readwrite1"
RO_CK, RO_CS = "ck_readonly1", "cs_readonly1"
NOW = 1_795_003_200  # 2026-11-18T12:00:00 GMT, a fixed instant for every test


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ---- an OAuth 1.0a signer written from the platform notes, independent of the sandbox ----------


def _enc(text: str) -> str:
    return quote(text, safe="-._~")


def sign(method: str, url: str, query: dict[str, str], key: str = CK, secret: str = CS, *, nonce: str = "n" * 32,
         timestamp: float = NOW, algorithm: str = "HMAC-SHA256") -> dict[str, str]:
    oauth = {"oauth_consumer_key": key, "oauth_nonce": nonce, "oauth_signature_method": algorithm,
             "oauth_timestamp": str(int(timestamp))}
    pairs = sorted({**query, **oauth}.items())
    normalized = "%26".join(_enc(f"{_enc(k)}={_enc(v)}") for k, v in pairs)
    base = f"{method}&{_enc(url)}&{normalized}"
    digest = hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256 if algorithm.endswith("256") else hashlib.sha1)
    return {**query, **oauth, "oauth_signature": base64.b64encode(digest.digest()).decode()}


def basic(key: str = CK, secret: str = CS) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


# ---- fixtures ----------------------------------------------------------------------------------


def _order(order_id: int, status: str, created: str, modified: str, *, product_id: int = 10, variation_id: int = 0,
           quantity: int = 1, email: str = "ada@example.com") -> dict[str, Any]:
    return {"id": order_id, "status": status, "date_created_gmt": created, "date_modified_gmt": modified,
            "billing": {"first_name": "Ada", "last_name": "L", "email": email},
            "line_items": [{"id": order_id * 10, "product_id": product_id, "variation_id": variation_id, "quantity": quantity}]}


SEED: dict[str, Any] = {
    "site_url": SITE,
    "site_title": "Test Shop",
    "gmt_offset_hours": -5,
    "api_keys": [
        {"key_id": 1, "consumer_key": CK, "consumer_secret": CS, "permissions": "read_write"},
        {"key_id": 2, "consumer_key": RO_CK, "consumer_secret": RO_CS, "permissions": "read"},
    ],
    "products": [
        {"id": 10, "name": "Tent", "sku": "TENT", "price": "100.00", "manage_stock": True, "stock_quantity": 1,
         "backorders": "notify", "date_created_gmt": "2026-10-01T00:00:00"},
        {"id": 20, "name": "Hoodie", "type": "variable", "sku": "HOOD", "price": "50.00", "manage_stock": True,
         "stock_quantity": 4, "backorders": "yes", "date_created_gmt": "2026-10-01T00:00:00",
         "variations": [{"id": 21, "sku": "HOOD-RED", "price": "50.00", "attributes": [{"name": "Color", "option": "Red"}],
                         "manage_stock": "parent"}]},
        {"id": 30, "name": "Gift card", "sku": "GIFT", "price": "25.00", "date_created_gmt": "2026-10-01T00:00:00"},
    ],
    "orders": [
        _order(1, "processing", "2026-11-10T10:00:00", "2026-11-10T10:00:00"),
        _order(2, "on-hold", "2026-11-11T10:00:00", "2026-11-12T03:00:00"),
        _order(3, "pending", "2026-11-12T10:00:00", "2026-11-12T10:00:00"),
        _order(4, "completed", "2026-11-13T10:00:00", "2026-11-14T10:00:00"),
        _order(5, "cancelled", "2026-11-14T10:00:00", "2026-11-14T12:00:00"),
        _order(6, "processing", "2026-11-15T10:00:00", "2026-11-15T10:00:00", product_id=20, variation_id=21),
        _order(7, "trash", "2026-11-16T10:00:00", "2026-11-16T10:00:00"),
    ],
}


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def state() -> WooState:
    return WooState.from_seed(copy.deepcopy(SEED))


@pytest.fixture()
def app(state: WooState, clock: Clock) -> Flask:
    return create_app(state, faults=FaultPlan(seed=7), clock=clock)


@pytest.fixture()
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture()
def https(state: WooState) -> WooState:
    state.https_mode = True
    return state


class Receiver:
    """A loopback HTTP endpoint that records every request's raw bytes and answers with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/<path:anything>")
        def record(anything: str) -> Response:
            with self.lock:
                self.requests.append({"path": "/" + anything, "headers": dict(request.headers), "body": request.get_data()})
            return Response("ok", status=self.status)

        self.server = ServerThread(app).start()

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"


@pytest.fixture()
def receiver() -> Any:
    rec = Receiver()
    yield rec
    rec.server.stop()


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()]


# ---- OAuth 1.0a ----------------------------------------------------------------------------------


def test_oauth_signature_matches_the_worked_vectors_of_the_platform_notes() -> None:
    oauth = {"oauth_consumer_key": "ck_test", "oauth_nonce": "0123456789abcdef0123456789abcdef",
             "oauth_signature_method": "HMAC-SHA256", "oauth_timestamp": "1700000000"}
    url = "http://example.com/wp-json/wc/v3/orders"
    base = oauth_base_string("GET", url, oauth)
    assert base == ("GET&http%3A%2F%2Fexample.com%2Fwp-json%2Fwc%2Fv3%2Forders&oauth_consumer_key%3Dck_test"
                    "%26oauth_nonce%3D0123456789abcdef0123456789abcdef%26oauth_signature_method%3DHMAC-SHA256"
                    "%26oauth_timestamp%3D1700000000")
    assert oauth_signature(base, "cs_test", "HMAC-SHA256") == "/W4l4wOcf10uGaAiTpYVADANiV2YDDly/zO7iOKq7ew="
    query = {"per_page": "100", "page": "2", "status": "processing", "modified_after": "2024-01-01T00:00:00"}
    base = oauth_base_string("GET", url, {**query, **oauth})
    assert "modified_after%3D2024-01-01T00%253A00%253A00%26oauth_consumer_key" in base
    assert oauth_signature(base, "cs_test", "HMAC-SHA256") == "SVr7belHn5Gs0f696k7wtjnozQ0hVqiyDNMMYw4LGfg="
    signed = sign("GET", url, query, "ck_test", "cs_test", nonce=oauth["oauth_nonce"], timestamp=1700000000)
    assert signed["oauth_signature"] == "SVr7belHn5Gs0f696k7wtjnozQ0hVqiyDNMMYw4LGfg="


def test_oauth_signed_request_is_accepted_and_its_nonce_cannot_be_replayed(client: Any) -> None:
    params = sign("GET", f"{SITE}/wp-json/wc/v3/orders", {"per_page": "5"})
    first = client.get("/wp-json/wc/v3/orders?" + urlencode(params))
    assert first.status_code == 200
    assert len(first.get_json()) == 5
    replay = client.get("/wp-json/wc/v3/orders?" + urlencode(params))
    assert replay.status_code == 401
    assert replay.get_json()["code"] == "woocommerce_rest_authentication_error"
    assert replay.get_json()["message"] == "Invalid nonce - nonce has already been used."


def test_oauth_in_the_authorization_header_with_sha1_is_accepted(client: Any) -> None:
    params = sign("GET", f"{SITE}/wp-json/wc/v3/products", {}, algorithm="HMAC-SHA1")
    header = "OAuth " + ", ".join(f'{k}="{quote(v, safe="")}"' for k, v in params.items())
    assert client.get("/wp-json/wc/v3/products", headers={"Authorization": header}).status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": "ck_unknown"}, "Consumer key is invalid."),
        ({"secret": "cs_wrong"}, "Invalid signature - provided signature does not match."),
        ({"timestamp": NOW - 16 * 60}, "Invalid timestamp."),
        ({"url": "http://127.0.0.1/wp-json/wc/v3/orders"}, "Invalid signature - provided signature does not match."),
    ],
)
def test_oauth_failures_name_the_reason(client: Any, change: dict[str, Any], message: str) -> None:
    url = change.pop("url", f"{SITE}/wp-json/wc/v3/orders")
    params = sign("GET", url, {}, change.pop("key", CK), change.pop("secret", CS), **change)
    response = client.get("/wp-json/wc/v3/orders?" + urlencode(params))
    assert response.status_code == 401
    assert response.get_json() == {"code": "woocommerce_rest_authentication_error", "message": message, "data": {"status": 401}}


def test_missing_oauth_parameters_are_named(client: Any) -> None:
    response = client.get("/wp-json/wc/v3/orders?oauth_consumer_key=" + CK)
    assert response.status_code == 401
    assert response.get_json()["code"] == "woocommerce_rest_authentication_missing_parameter"
    assert "oauth_signature" in response.get_json()["message"]


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text("abcxyz_[]", min_size=1, max_size=6).filter(lambda k: "[" not in k and not k.startswith("oauth")),
                       st.text(min_size=0, max_size=12), max_size=4))
def test_any_query_signed_by_an_independent_signer_is_accepted(params: dict[str, str]) -> None:
    app = create_app(WooState.from_seed(copy.deepcopy(SEED)), clock=Clock())
    signed = sign("GET", f"{SITE}/wp-json/wc/v3/products", params)
    assert app.test_client().get("/wp-json/wc/v3/products?" + urlencode(signed)).status_code == 200


# ---- Basic and query keys --------------------------------------------------------------------------


def test_basic_auth_and_query_keys_are_ignored_over_plain_http(client: Any) -> None:
    for response in (
        client.get("/wp-json/wc/v3/orders", headers=basic()),
        client.get(f"/wp-json/wc/v3/orders?consumer_key={CK}&consumer_secret={CS}"),
    ):
        assert response.status_code == 401
        assert response.get_json() == {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                                       "data": {"status": 401}}


def test_https_mode_honours_basic_and_query_keys(client: Any, https: WooState) -> None:
    assert client.get("/wp-json/wc/v3/orders", headers=basic()).status_code == 200
    assert client.get(f"/wp-json/wc/v3/orders?consumer_key={CK}&consumer_secret={CS}").status_code == 200
    wrong = client.get("/wp-json/wc/v3/orders", headers=basic(CK, "cs_nope"))
    assert (wrong.status_code, wrong.get_json()["message"]) == (401, "Consumer secret is invalid.")
    unknown = client.get("/wp-json/wc/v3/orders", headers=basic("ck_nobody", "cs_x"))
    assert (unknown.status_code, unknown.get_json()["code"]) == (401, "woocommerce_rest_cannot_view")


def test_read_only_key_cannot_write(client: Any, https: WooState) -> None:
    assert client.get("/wp-json/wc/v3/orders/1", headers=basic(RO_CK, RO_CS)).status_code == 200
    response = client.put("/wp-json/wc/v3/orders/1", json={"status": "on-hold"}, headers=basic(RO_CK, RO_CS))
    assert response.status_code == 401
    assert response.get_json() == {"code": "woocommerce_rest_authentication_error",
                                   "message": "The API key provided does not have write permissions.", "data": {"status": 401}}


# ---- listing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["101", "0", "1000"])
def test_per_page_outside_1_to_100_is_a_400_with_woocommerces_shape(client: Any, https: WooState, value: str) -> None:
    response = client.get(f"/wp-json/wc/v3/orders?per_page={value}", headers=basic())
    assert response.status_code == 400
    assert response.get_json() == {
        "code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
        "data": {"status": 400, "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}},
    }


def test_pagination_headers_and_links(client: Any, https: WooState) -> None:
    response = client.get(f"/wp-json/wc/v3/orders?per_page=2&page=2&orderby=id&order=asc&consumer_key={CK}&consumer_secret={CS}")
    assert _ids(response) == [3, 4]
    assert response.headers["X-WP-Total"] == "6"  # trash is not part of "any"
    assert response.headers["X-WP-TotalPages"] == "3"
    links = response.headers.getlist("Link")
    assert any('rel="prev"' in link and "page=1" in link for link in links)
    assert any('rel="next"' in link and "page=3" in link and link.startswith(f"<{SITE}/wp-json/wc/v3/orders?") for link in links)
    assert not any("consumer_secret" in link or CS in link for link in links)
    last = client.get("/wp-json/wc/v3/orders?per_page=2&page=3", headers=basic())
    assert not any('rel="next"' in link for link in last.headers.getlist("Link"))


def test_status_filter_follows_php_query_semantics(client: Any, https: WooState) -> None:
    def ids(query: str) -> list[int]:
        return sorted(_ids(client.get(f"/wp-json/wc/v3/orders?{query}", headers=basic())))

    assert ids("status=processing,on-hold") == [1, 2, 6]
    assert ids("status[]=processing&status[]=on-hold") == [1, 2, 6]
    assert ids("status=processing&status=on-hold") == [2]  # PHP keeps only the last plain key
    assert ids("") == [1, 2, 3, 4, 5, 6]
    assert ids("status=trash") == [7]
    bad = client.get("/wp-json/wc/v3/orders?status=shipped", headers=basic())
    assert bad.status_code == 400 and bad.get_json()["code"] == "rest_invalid_param"


def test_modified_after_compares_gmt_only_with_dates_are_gmt(client: Any, https: WooState) -> None:
    query = "modified_after=2026-11-12T08:00:00&orderby=modified&order=asc"
    assert _ids(client.get(f"/wp-json/wc/v3/orders?{query}&dates_are_gmt=true", headers=basic())) == [3, 4, 5, 6]
    # Without the flag the bound is read against site-local (GMT-5) times, so order 3 (05:00 local) drops out
    # and order 2 (modified 03:00 GMT = 22:00 local the day before) is still excluded.
    assert _ids(client.get(f"/wp-json/wc/v3/orders?{query}", headers=basic())) == [4, 5, 6]
    bad = client.get("/wp-json/wc/v3/orders?modified_after=yesterday", headers=basic())
    assert bad.get_json()["data"]["params"] == {"modified_after": "Invalid date."}


def test_products_variations_and_parent_managed_stock(client: Any, https: WooState) -> None:
    response = client.get("/wp-json/wc/v3/products?per_page=2&orderby=id&order=asc", headers=basic())
    assert _ids(response) == [10, 20]
    assert response.headers["X-WP-Total"] == "3"
    variations = client.get("/wp-json/wc/v3/products/20/variations", headers=basic()).get_json()
    # Order 6 already reduced the parent's stock from the seed value (the seed is taken as already reduced).
    assert variations[0]["manage_stock"] == "parent"
    assert variations[0]["stock_quantity"] == 4
    assert variations[0]["backorders"] == "yes"
    gift = client.get("/wp-json/wc/v3/products/30", headers=basic()).get_json()
    assert (gift["manage_stock"], gift["stock_quantity"]) == (False, None)
    missing = client.get("/wp-json/wc/v3/products/999", headers=basic())
    assert (missing.status_code, missing.get_json()["code"]) == (404, "woocommerce_rest_product_invalid_id")


def test_unknown_route_is_rest_no_route(client: Any, https: WooState) -> None:
    response = client.get("/wp-json/wc/v3/refunds", headers=basic())
    assert response.status_code == 404
    assert response.get_json()["code"] == "rest_no_route"


# ---- writes ----------------------------------------------------------------------------------------


def test_put_replaces_meta_by_key_changes_status_and_bumps_modified(client: Any, https: WooState, clock: Clock) -> None:
    clock.now = NOW + 3600
    first = client.put("/wp-json/wc/v3/orders/1", json={"meta_data": [{"key": "_backorder_eta", "value": "2026-12-01"}]}, headers=basic())
    second = client.put("/wp-json/wc/v3/orders/1", json={"meta_data": [{"key": "_backorder_eta", "value": "2026-12-09"}],
                                                         "status": "on-hold"}, headers=basic())
    assert first.status_code == second.status_code == 200
    body = second.get_json()
    assert [(m["key"], m["value"]) for m in body["meta_data"]] == [("_backorder_eta", "2026-12-09")]
    assert body["status"] == "on-hold"
    assert (body["date_modified_gmt"], body["date_modified"]) == ("2026-11-18T13:00:00", "2026-11-18T08:00:00")
    notes = client.get("/wp-json/wc/v3/orders/1/notes", headers=basic()).get_json()
    assert notes[0]["note"] == "Order status changed from Processing to On hold."
    bad = client.put("/wp-json/wc/v3/orders/999", json={"status": "completed"}, headers=basic())
    assert (bad.status_code, bad.get_json()["code"]) == (400, "woocommerce_rest_shop_order_invalid_id")


def test_new_backordered_order_reduces_stock_and_cancelling_restores_it(client: Any, https: WooState) -> None:
    placed = client.post("/_sandbox/orders", json={"status": "processing", "line_items": [{"sku": "TENT", "quantity": 3}],
                                                    "billing": {"email": "bo@example.com"}})
    assert placed.status_code == 201
    line = placed.get_json()["line_items"][0]
    assert {m["key"]: m["value"] for m in line["meta_data"]} == {"Backordered": "2", "_reduced_stock": "3"}
    tent = client.get("/wp-json/wc/v3/products/10", headers=basic()).get_json()
    assert (tent["stock_quantity"], tent["stock_status"], tent["backordered"]) == (-2, "onbackorder", True)
    order_id = placed.get_json()["id"]
    client.put(f"/wp-json/wc/v3/orders/{order_id}", json={"status": "cancelled"}, headers=basic())
    assert client.get("/wp-json/wc/v3/products/10", headers=basic()).get_json()["stock_quantity"] == 1


def test_batch_of_more_than_100_items_is_413_and_item_errors_are_inline(client: Any, https: WooState) -> None:
    too_many = client.post("/wp-json/wc/v3/orders/batch", json={"update": [{"id": 1}] * 60, "delete": [2] * 41}, headers=basic())
    assert too_many.status_code == 413
    assert too_many.get_json()["code"] == "woocommerce_rest_request_entity_too_large"
    response = client.post("/wp-json/wc/v3/orders/batch", headers=basic(), json={"update": [
        {"id": 1, "meta_data": [{"key": "_backorder_status", "value": "backordered"}]},
        {"id": 424242, "status": "completed"},
    ]})
    assert response.status_code == 200
    first, second = response.get_json()["update"]
    assert first["meta_data"][0]["value"] == "backordered"
    assert second["id"] == 424242 and second["error"]["code"] == "woocommerce_rest_shop_order_invalid_id"


def test_customer_note_records_the_email_the_store_would_send(client: Any, https: WooState, state: WooState) -> None:
    private = client.post("/wp-json/wc/v3/orders/2/notes", json={"note": "ETA 2026-12-10"}, headers=basic())
    assert private.status_code == 201 and private.get_json()["customer_note"] is False
    assert state.emails == []
    public = client.post("/wp-json/wc/v3/orders/2/notes", json={"note": "Your tent ships on December 10.", "customer_note": True},
                         headers=basic())
    assert public.status_code == 201
    emails = client.get("/_sandbox/emails").get_json()
    assert len(emails) == 1
    assert emails[0]["to"] == "ada@example.com"
    assert emails[0]["subject"] == "Note added to your Test Shop order from November 11, 2026"
    assert "Your tent ships on December 10." in emails[0]["body"]
    missing = client.post("/wp-json/wc/v3/orders/999/notes", json={"note": "x"}, headers=basic())
    assert (missing.status_code, missing.get_json()["code"]) == (404, "woocommerce_rest_order_invalid_id")
    empty = client.post("/wp-json/wc/v3/orders/2/notes", json={"customer_note": True}, headers=basic())
    assert (empty.status_code, empty.get_json()["code"]) == (400, "rest_missing_callback_param")


# ---- wc-auth ---------------------------------------------------------------------------------------


def _authorize_url(receiver: Receiver, **extra: str) -> str:
    params = {"app_name": "Backorder Connector", "scope": "read_write", "user_id": "nonce-123",
              "return_url": "http://127.0.0.1:9/return?step=2", "callback_url": receiver.url("/auth/callback"), **extra}
    return "/wc-auth/v1/authorize?" + urlencode(params)


def test_wc_auth_posts_new_keys_to_the_callback_then_redirects(client: Any, receiver: Receiver, state: WooState) -> None:
    response = client.get(_authorize_url(receiver))
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert parse_qs(location.query) == {"step": ["2"], "success": ["1"], "user_id": ["nonce-123"]}
    posted = json.loads(receiver.requests[0]["body"])
    assert set(posted) == {"key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions"}
    assert posted["user_id"] == "nonce-123" and posted["key_permissions"] == "read_write"
    signed = sign("GET", f"{SITE}/wp-json/wc/v3/orders", {}, posted["consumer_key"], posted["consumer_secret"])
    assert client.get("/wp-json/wc/v3/orders?" + urlencode(signed)).status_code == 200


def test_wc_auth_deletes_the_key_when_the_callback_fails(client: Any, receiver: Receiver, state: WooState) -> None:
    receiver.status = 500
    response = client.get(_authorize_url(receiver))
    assert response.status_code == 401
    assert "unable to send the consumer data" in response.get_data(as_text=True)
    assert [k["key_id"] for k in client.get("/_sandbox/keys").get_json()] == [1, 2]


def test_wc_auth_deny_and_bad_requests(client: Any, receiver: Receiver) -> None:
    denied = client.get(_authorize_url(receiver, deny="1"))
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["success"] == ["0"]
    assert receiver.requests == []
    bad_scope = client.get(_authorize_url(receiver, scope="admin"))
    assert bad_scope.status_code == 401 and "Invalid scope admin" in bad_scope.get_data(as_text=True)
    insecure = client.get(_authorize_url(receiver, callback_url="http://connector.example/cb"))
    assert "needs to be over SSL" in insecure.get_data(as_text=True)


# ---- webhooks --------------------------------------------------------------------------------------


def _create_webhook(client: Any, receiver: Receiver, topic: str = "order.updated", secret: str = "s3cr3t/") -> dict[str, Any]:
    response = client.post("/wp-json/wc/v3/webhooks", headers=basic(), json={
        "name": "connector", "topic": topic, "delivery_url": receiver.url("/hooks/woo"), "secret": secret, "status": "active"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_webhook_ping_then_signed_delivery_over_raw_bytes(client: Any, https: WooState, app: Flask, receiver: Receiver) -> None:
    hook = _create_webhook(client, receiver)
    assert "secret" not in hook and "secret" not in client.get(f"/wp-json/wc/v3/webhooks/{hook['id']}", headers=basic()).get_json()
    ping = receiver.requests[0]
    assert ping["body"] == f"webhook_id={hook['id']}".encode()
    assert not any(name.lower().startswith("x-wc-") for name in ping["headers"])
    client.put("/wp-json/wc/v3/orders/6", json={"status": "completed"}, headers=basic())
    assert sandbox_of(app).dispatcher.flush(10)
    delivery = receiver.requests[1]
    headers, raw = delivery["headers"], delivery["body"]
    expected = base64.b64encode(hmac.new(b"s3cr3t/", raw, hashlib.sha256).digest()).decode()
    assert headers["X-Wc-Webhook-Signature"] == expected
    assert (headers["X-Wc-Webhook-Topic"], headers["X-Wc-Webhook-Resource"], headers["X-Wc-Webhook-Event"]) == ("order.updated", "order", "updated")
    assert headers["X-Wc-Webhook-Source"] == f"{SITE}/" and headers["X-Wc-Webhook-Id"] == str(hook["id"])
    assert headers["User-Agent"] == "WooCommerce/9.0 Hookshot (WordPress/6.5)" and headers["X-Wc-Webhook-Delivery-Id"]
    assert b"\\/" in raw  # PHP escapes slashes: re-serialising the JSON would break the signature
    assert json.loads(raw)["status"] == "completed"


def test_webhook_is_disabled_after_repeated_failures_and_can_be_reenabled(client: Any, https: WooState, app: Flask,
                                                                          receiver: Receiver) -> None:
    hook = _create_webhook(client, receiver)
    receiver.status = 500
    for order_id in (1, 2, 3, 4, 5, 6):
        client.put(f"/wp-json/wc/v3/orders/{order_id}", json={"customer_note": "x"}, headers=basic())
        assert sandbox_of(app).dispatcher.flush(10)
    states = client.get("/_sandbox/webhooks").get_json()
    assert (states[0]["status"], states[0]["failure_count"]) == ("disabled", 5)
    client.put("/wp-json/wc/v3/orders/1", json={"customer_note": "y"}, headers=basic())
    assert sandbox_of(app).dispatcher.flush(10)
    assert len([r for r in receiver.requests if r["body"] != f"webhook_id={hook['id']}".encode()]) == 6
    enabled = client.put(f"/wp-json/wc/v3/webhooks/{hook['id']}", json={"status": "active"}, headers=basic())
    assert enabled.get_json()["status"] == "active"
    assert client.get("/_sandbox/webhooks").get_json()[0]["failure_count"] == 0


def test_dropped_webhooks_are_recorded_and_not_sent(client: Any, https: WooState, app: Flask, receiver: Receiver) -> None:
    _create_webhook(client, receiver, topic="product.updated")
    assert client.put("/_sandbox/faults", json={"drop_webhook_rate": 1}).status_code == 200
    client.post("/_sandbox/stock", json={"sku": "TENT", "stock_quantity": 9})
    assert sandbox_of(app).dispatcher.flush(10)
    assert len(receiver.requests) == 1  # only the ping
    assert [d["kind"] for d in client.get("/_sandbox/deliveries").get_json()] == ["ping", "dropped"]


def test_webhook_validation_errors(client: Any, https: WooState) -> None:
    bad_topic = client.post("/wp-json/wc/v3/webhooks", json={"topic": "order.shipped", "delivery_url": "https://x.example"}, headers=basic())
    assert bad_topic.get_json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    bad_url = client.post("/wp-json/wc/v3/webhooks", json={"topic": "order.created", "delivery_url": "ftp://x"}, headers=basic())
    assert bad_url.get_json()["code"] == "woocommerce_rest_webhook_invalid_delivery_url"


# ---- faults ----------------------------------------------------------------------------------------


def test_faults_answer_5xx_and_429_in_woocommerces_error_shape(client: Any, https: WooState) -> None:
    client.put("/_sandbox/faults", json={"error_rate": 1})
    statuses = set()
    for _ in range(12):
        response = client.get("/wp-json/wc/v3/orders", headers=basic())
        statuses.add(response.status_code)
        assert set(response.get_json()) == {"code", "message", "data"}
    assert statuses == {500, 503}
    client.put("/_sandbox/faults", json={"error_rate": 0, "throttle_rate": 1})
    throttled = client.get("/wp-json/wc/v3/orders", headers=basic())
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert client.get("/_sandbox/state").status_code == 200  # the control API is never faulted
    assert client.put("/_sandbox/faults", json={"throttle_rate": 2}).status_code == 400
    client.put("/_sandbox/faults", json={"throttle_rate": 0})
    assert client.get("/wp-json/wc/v3/orders", headers=basic()).status_code == 200


# ---- seeds and serving -----------------------------------------------------------------------------


def test_bad_seed_names_the_field() -> None:
    broken = copy.deepcopy(SEED)
    broken["orders"][0]["status"] = "shipped"
    with pytest.raises(InputError, match=r"seed: orders\.0\.status"):
        WooState.from_seed(broken)


def test_example_seed_and_supplier_feed_are_consistent() -> None:
    state = load_seed(EXAMPLE_SEED)
    assert 20 <= len(state.products) <= 30 and 100 <= len(state.orders) <= 140
    assert {o.status for o in state.orders.values()} >= {"processing", "on-hold", "pending", "completed", "cancelled"}
    assert any(p.manage_stock is False for p in state.products.values())
    assert any(v.manage_stock is False and state.products[v.parent_id].manage_stock for v in state.variations.values())
    holders = [i for i in [*state.products.values(), *state.variations.values()] if i.manage_stock]
    assert any((i.stock_quantity or 0) < 0 for i in holders)
    for order in state.orders.values():
        for line in order.line_items:
            reduced = line.meta_value("_reduced_stock")
            assert (reduced is not None) == (order.status in {"processing", "on-hold", "completed"}
                                             and state.stock_holder(line.product_id, line.variation_id) is not None)
    with EXAMPLE_FEED.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["sku", "available", "restock_date", "restock_qty", "lead_time_days"]
    assert {row["sku"] for row in rows} == {i.sku for i in holders}
    assert all("2026-12-01" <= row["restock_date"] <= "2027-01-31" for row in rows)


def test_run_serves_the_example_seed_over_http() -> None:
    raw = json.loads(EXAMPLE_SEED.read_text())
    key = raw["api_keys"][0]
    server = run(0, EXAMPLE_SEED)
    try:
        url = f"{server.url}/wp-json/wc/v3/orders"
        params = sign("GET", url, {"per_page": "100", "status": "processing,on-hold"}, key["consumer_key"],
                      key["consumer_secret"], timestamp=time.time())
        response = requests.get(url, params=params, timeout=10)
        assert response.status_code == 200
        expected = sum(1 for o in raw["orders"] if o["status"] in {"processing", "on-hold"})
        assert response.headers["X-WP-Total"] == str(expected) == str(len(response.json()))
        assert requests.get(url, auth=(key["consumer_key"], key["consumer_secret"]), timeout=10).status_code == 401
    finally:
        server.stop()
