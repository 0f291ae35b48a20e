"""The WooCommerce sandbox answers like WooCommerce: wc-auth, webhooks, faults, seeds and serving."""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from flask import Flask

from connector.errors import InputError
from sandbox.woocommerce import WooState, load_seed, run, sandbox_of

from woo_sandbox_support import (  # noqa: F401 - fixtures are found by name
    CK, CS, EXAMPLE_FEED, EXAMPLE_SEED, NOW, REPO, RO_CK, RO_CS, SEED, SITE, Clock, Receiver, _ids, _order, app, basic, client, clock, https, receiver, sign, state,
)

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
