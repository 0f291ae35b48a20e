"""The Shopify sandbox's flows around the API: bulk results, OAuth install, signed webhooks, faults, control API, seeds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from flask import Flask, request
from shopify_sandbox_support import (  # noqa: F401 - app and clock are fixtures, found by name
    app,
    clock,
    EXAMPLE_SEED,
    GRAPHQL,
    ITEM_SHIRT,
    LOCATION,
    SECRET,
    TOKEN,
    FakeClock,
    gql,
    make_app,
    small_seed,
)

from connector.errors import InputError
from sandbox.common import ServerThread
from sandbox.shopify import ShopifyState, create_app, query_hmac, run, sandbox_of, sign_webhook



BULK_START = ("mutation($q: String!, $g: Boolean!) { bulkOperationRunQuery(query: $q, groupObjects: $g) { "
              "bulkOperation { id status } userErrors { field message code } } }")
BULK_INNER = "{ orders { edges { node { id name lineItems { edges { node { id sku } } } } } } }"
BULK_STATUS = "query($id: ID!) { bulkOperation(id: $id) { id status url objectCount rootObjectCount partialDataUrl } }"


def run_bulk(client: Any, grouped: bool = False) -> list[dict[str, Any]]:
    started = gql(client, BULK_START, {"q": BULK_INNER, "g": grouped})["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    operation = gql(client, BULK_STATUS, {"id": started["bulkOperation"]["id"]})["data"]["bulkOperation"]
    assert operation["status"] == "COMPLETED" and operation["objectCount"] == "15"
    assert operation["rootObjectCount"] == "5" and operation["partialDataUrl"] is None
    return [json.loads(line) for line in client.get(urlsplit(operation["url"]).path).get_data(as_text=True).splitlines()]


def test_bulk_query_writes_json_lines_with_parent_ids_ungrouped_by_default(app: Flask) -> None:
    lines = run_bulk(app.test_client())
    position = {line["id"]: number for number, line in enumerate(lines)}
    children = [line for line in lines if "__parentId" in line]
    assert len(children) == 10 and {"id": "gid://shopify/Order/5000", "name": "#1001"} in lines
    assert {"id": "gid://shopify/LineItem/6000", "sku": "SHIRT-BLUE-M", "__parentId": "gid://shopify/Order/5000"} in lines
    # ungrouped: seeded shuffle, so some line items come before their order and some after
    before = [c for c in children if position[c["id"]] < position[c["__parentId"]]]
    after = [c for c in children if position[c["id"]] > position[c["__parentId"]]]
    assert before and after
    assert lines == run_bulk(app.test_client())  # the same seed, the same file


def test_bulk_query_asked_for_grouped_output_lists_children_after_their_parent(app: Flask) -> None:
    lines = run_bulk(app.test_client(), grouped=True)
    assert lines[0] == {"id": "gid://shopify/Order/5000", "name": "#1001"}
    assert lines[1] == {"id": "gid://shopify/LineItem/6000", "sku": "SHIRT-BLUE-M", "__parentId": "gid://shopify/Order/5000"}
    current = None
    for line in lines:
        if "__parentId" not in line:
            current = line["id"]
        else:
            assert line["__parentId"] == current


def test_an_invalid_bulk_query_is_refused_with_a_user_error(app: Flask) -> None:
    bad = gql(app.test_client(), 'mutation { bulkOperationRunQuery(query: "{ orders { edges { node { nope } } } }") '
                                 "{ bulkOperation { id } userErrors { message } } }")["data"]["bulkOperationRunQuery"]
    assert bad["bulkOperation"] is None and "nope" in bad["userErrors"][0]["message"]


# ---- OAuth ----------------------------------------------------------------------------------------------------

def test_query_hmac_matches_shopify_python_api_vectors() -> None:
    params = {"code": "a94a110d86d2452eb3e2af4cfb8a3828", "shop": "some-shop.myshopify.com", "timestamp": "1337178173"}
    assert query_hmac(params, "hush") == "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2"
    escaped = hmac.new(b"secret", b"a=1%26b=2&c%3D3%26d=4", hashlib.sha256).hexdigest()
    assert query_hmac({"a": "1&b=2", "c=3&d": "4"}, "secret") == escaped


def test_install_code_exchange_and_token_refresh(app: Flask, clock: FakeClock) -> None:
    client = app.test_client()
    answer = client.get("/admin/oauth/authorize", query_string={
        "client_id": "app-key", "scope": "write_orders,read_inventory", "state": "nonce-1",
        "redirect_uri": "http://127.0.0.1:5000/auth/shopify/callback"})
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    params = dict(parse_qsl(location.query))
    assert location.path == "/auth/shopify/callback" and params["state"] == "nonce-1"
    assert params["shop"] == "sandbox-test.myshopify.com"
    assert hmac.compare_digest(params["hmac"], query_hmac(params, SECRET))

    exchange = {"client_id": "app-key", "client_secret": SECRET, "code": params["code"], "expiring": "1"}
    tokens = client.post("/admin/oauth/access_token", json=exchange).get_json()
    assert tokens["scope"] == "write_orders,read_inventory" and tokens["expires_in"] == 3600
    assert tokens["refresh_token_expires_in"] > 0
    assert client.post("/admin/oauth/access_token", data=exchange).status_code == 400  # codes are one-time
    assert "data" in gql(client, "{ shop { name } }", token=tokens["access_token"])

    refresh = {"client_id": "app-key", "client_secret": SECRET, "grant_type": "refresh_token",
               "refresh_token": tokens["refresh_token"]}
    rotated = client.post("/admin/oauth/access_token", data=refresh).get_json()
    assert rotated["access_token"] != tokens["access_token"] and rotated["refresh_token"] != tokens["refresh_token"]
    assert "data" in gql(client, "{ shop { name } }", token=rotated["access_token"])  # the replacement is used...
    assert client.post("/admin/oauth/access_token", data=refresh).status_code == 400  # ...so the old one is retired
    assert client.get("/_sandbox/tokens").get_json()["rotations"] == 1
    clock.advance(3601)
    expired = client.post(GRAPHQL, json={"query": "{ shop { name } }"},
                          headers={"X-Shopify-Access-Token": rotated["access_token"]})
    assert expired.status_code == 401


def test_code_exchange_needs_the_app_secret(app: Flask) -> None:
    answer = app.test_client().post("/admin/oauth/access_token", json={
        "client_id": "app-key", "client_secret": "wrong", "code": "whatever"})
    assert answer.status_code == 401 and SECRET not in answer.get_data(as_text=True)


# ---- webhooks ----------------------------------------------------------------------------------------------

def test_webhook_signature_matches_shopify_js_vector() -> None:
    assert sign_webhook(b'{"foo": "bar"}', "test_secret_key") == "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="


@pytest.fixture
def receiver() -> Iterator[tuple[ServerThread, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    lock = threading.Lock()
    app = Flask("receiver")

    @app.post("/hooks/<name>")
    def hook(name: str) -> tuple[str, int]:
        with lock:
            received.append(({**request.headers, "Path": name}, request.get_data()))
        return "", 200

    with ServerThread(app) as server:
        yield server, received


def test_orders_placed_in_the_sandbox_arrive_signed(receiver: Any) -> None:
    server, received = receiver
    application = create_app(ShopifyState.from_seed(small_seed()), api_secret=SECRET, access_token=TOKEN,
                             webhook_url=f"{server.url}/hooks/default")
    client = application.test_client()
    placed = client.post("/_sandbox/orders", json={
        "customer": {"firstName": "Zoe", "email": "zoe@example.com"}, "lineItems": [{"sku": "SHIRT-BLUE-M", "quantity": 3}]})
    assert placed.status_code == 201
    assert sandbox_of(application).webhooks.flush(timeout=10)
    topics = [headers["X-Shopify-Topic"] for headers, _ in received]
    assert topics == ["orders/create", "inventory_levels/update"]
    headers, body = received[0]
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected
    assert headers["X-Shopify-Shop-Domain"] == "sandbox-test.myshopify.com"
    assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Event-Id"] and headers["X-Shopify-Triggered-At"]
    payload = json.loads(body)
    assert payload["customer"]["first_name"] == "Zoe" and payload["line_items"][0]["fulfillable_quantity"] == 3
    assert payload["line_items"][0]["variant_id"] == 900
    level = json.loads(received[1][1])
    assert level["inventory_item_id"] == ITEM_SHIRT and level["available"] == -6
    sandbox_of(application).webhooks.close()


def test_subscriptions_route_topics_to_their_callback(receiver: Any) -> None:
    server, received = receiver
    application = create_app(ShopifyState.from_seed(small_seed()), api_secret=SECRET, access_token=TOKEN,
                             webhook_url=f"{server.url}/hooks/default")
    client = application.test_client()
    gql(client, 'mutation($s: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: ORDERS_UPDATED, '
                'webhookSubscription: $s) { userErrors { message } } }', {"s": {"uri": f"{server.url}/hooks/sub"}})
    gql(client, 'mutation { tagsAdd(id: "gid://shopify/Order/5001", tags: ["backordered"]) { userErrors { message } } }')
    assert sandbox_of(application).webhooks.flush(timeout=10)
    assert [(h["Path"], h["X-Shopify-Topic"]) for h, _ in received] == [("sub", "orders/updated")]
    assert json.loads(received[0][1])["tags"] == "backordered"
    sandbox_of(application).webhooks.close()


# ---- faults and control API -----------------------------------------------------------------------------------

def test_faults_set_over_the_control_api(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/_sandbox/faults", json={"error_rate": 1}).status_code == 200
    statuses = {client.post(GRAPHQL, json={"query": "{ shop { name } }"},
                            headers={"X-Shopify-Access-Token": TOKEN}).status_code for _ in range(4)}
    assert statuses == {502, 503}
    client.post("/_sandbox/faults", json={"error_rate": 0, "throttle_rate": 1})
    body = gql(client, "{ shop { name } }")
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    client.post("/_sandbox/faults", json={"throttle_rate": 0, "drop_webhook_rate": 1})
    sandbox = sandbox_of(app)
    sandbox.webhooks.webhook_url = "http://127.0.0.1:9/never"
    client.post("/_sandbox/orders", json={"lineItems": [{"sku": "MUG-RED", "quantity": 1}]})
    assert {d["status"] for d in client.get("/_sandbox/webhooks").get_json()} == {"dropped"}
    assert client.post("/_sandbox/faults", json={"error_rate": 3}).status_code == 400


def test_control_api_places_orders_moves_stock_and_shows_marks(app: Flask) -> None:
    client = app.test_client()
    placed = client.post("/_sandbox/orders", json={"lineItems": [{"sku": "SHIRT-BLUE-M", "quantity": 2}]}).get_json()
    assert placed["name"] == "#1006"
    stock = {item["sku"]: item["levels"] for item in client.get("/_sandbox/inventory").get_json()}
    assert stock["SHIRT-BLUE-M"][str(LOCATION)]["available"] == -5
    assert stock["SHIRT-BLUE-M"][str(LOCATION)]["committed"] == 12
    changed = client.post("/_sandbox/inventory", json={"sku": "SHIRT-BLUE-M", "quantities": {"available": 20}})
    assert changed.get_json()["quantities"]["on_hand"] == 32
    assert client.post("/_sandbox/inventory", json={"sku": "NOPE", "quantities": {"available": 1}}).status_code == 404
    assert client.post("/_sandbox/orders", json={"lineItems": []}).status_code == 400
    cancelled = client.post(f"/_sandbox/orders/{placed['legacy_id']}/cancel").get_json()
    assert cancelled["cancelled"] is True
    marks = client.get("/_sandbox/orders/5000").get_json()
    assert marks["tags"] == ["vip"] and marks["note"] == "Ring the bell" and marks["holds"] == []


def test_bucket_settings_over_the_control_api(app: Flask) -> None:
    client = app.test_client()
    status = client.post("/_sandbox/bucket", json={"bucket_size": 200, "restore_rate": 20,
                                                   "currently_available": 5}).get_json()
    assert status == {"maximumAvailable": 200, "currentlyAvailable": 5, "restoreRate": 20}
    assert client.post("/_sandbox/bucket", json={"size": 1}).status_code == 400


# ---- seeds and the real server ----------------------------------------------------------------------------------

def test_example_seed_loads_with_backorders_and_untracked_skus() -> None:
    state = ShopifyState.load_seed(EXAMPLE_SEED)
    assert len(state.orders) == 150 and len(state.variants) == 30
    negative = [v.sku for v in state.variants.values()
                if any(q["available"] < 0 for _, q in state.item_levels(v.inventory_item_id))]
    assert "SHIRT-BLUE-M" in negative and all(state.variants_by_sku()[s].inventory_policy == "CONTINUE" for s in negative)
    assert sum(1 for v in state.variants.values() if not v.tracked) == 2


def test_a_bad_seed_names_the_file_and_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"locations": []}))
    with pytest.raises(InputError, match=r"seed\.json: locations"):
        ShopifyState.load_seed(path)
    path.write_text("{nope")
    with pytest.raises(InputError, match="line 1"):
        ShopifyState.load_seed(path)


def test_run_serves_graphql_on_a_loopback_port() -> None:
    server = run(0, EXAMPLE_SEED, api_secret=SECRET, access_token=TOKEN)
    try:
        answer = requests.post(f"{server.url}{GRAPHQL}", json={"query": "{ orders(first: 1) { nodes { name } } }"},
                               headers={"X-Shopify-Access-Token": TOKEN}, timeout=5)
        assert answer.status_code == 200
        assert answer.json()["data"]["orders"]["nodes"][0]["name"].startswith("#")
    finally:
        server.stop()


def test_concurrent_mutations_over_http_all_land() -> None:
    server = run(0, None, api_secret=SECRET, access_token=TOKEN)
    try:
        placed = requests.post(f"{server.url}/_sandbox/orders", json={"lineItems": [{"sku": "ANY", "quantity": 1}]},
                               timeout=5).json()

        def tag(n: int) -> None:
            for k in range(5):
                requests.post(f"{server.url}{GRAPHQL}", headers={"X-Shopify-Access-Token": TOKEN}, timeout=10, json={
                    "query": "mutation($id: ID!, $t: [String!]!) { tagsAdd(id: $id, tags: $t) { userErrors { message } } }",
                    "variables": {"id": placed["id"], "t": [f"t{n}-{k}"]}})

        workers = [threading.Thread(target=tag, args=(n,)) for n in range(6)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        marks = requests.get(f"{server.url}/_sandbox/orders/{placed['legacy_id']}", timeout=5).json()
        assert sorted(marks["tags"]) == sorted(f"t{n}-{k}" for n in range(6) for k in range(5))
    finally:
        server.stop()
