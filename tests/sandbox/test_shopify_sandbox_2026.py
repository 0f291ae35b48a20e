"""The Shopify sandbox answers as a 2026-04 store: protected customer data withheld, busy and refused bulk
queries, operations that fail or expire, fulfillment orders without HOLD or at a 3PL, holds of other apps,
the 60-day window, and refresh tokens retired once their replacement is used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from shopify_sandbox_support import (  # noqa: F401 - app and clock are fixtures, found by name
    app,
    clock,
    GRAPHQL,
    LOCATION,
    ORDER_1,
    SECRET,
    TOKEN,
    FakeClock,
    gql,
    order_query,
    small_seed,
)

from sandbox.shopify import ShopifyState, create_app, sandbox_of

BULK_START = ("mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status } "
              "userErrors { field message code } } }")
BULK_INNER = "{ orders { edges { node { id email customer { firstName } lineItems { edges { node { id } } } } } } }"
BULK_STATUS = "query($id: ID!) { bulkOperation(id: $id) { status errorCode url partialDataUrl } }"
THIRD_PARTY = 70009


def start(client: Any, query: str = BULK_INNER) -> dict[str, Any]:
    return gql(client, BULK_START, {"q": query})["data"]["bulkOperationRunQuery"]


def status(client: Any, operation_id: str) -> dict[str, Any]:
    return gql(client, BULK_STATUS, {"id": operation_id})["data"]["bulkOperation"]


# ---- protected customer data ------------------------------------------------------------------------


def test_without_protected_data_approval_contact_fields_are_null_with_access_denied(app: Flask) -> None:
    client = app.test_client()
    assert client.post("/_sandbox/access", json={"protected_data": False}).status_code == 200
    body = gql(client, order_query("id name email customer { firstName displayName }"), {"id": ORDER_1})
    assert body["data"]["order"] == {"id": ORDER_1, "name": "#1001", "email": None,
                                     "customer": {"firstName": None, "displayName": "•••"}}
    paths = sorted(tuple(error["path"]) for error in body["errors"])
    assert paths == [("order", "customer", "firstName"), ("order", "email")]
    assert {error["extensions"]["code"] for error in body["errors"]} == {"ACCESS_DENIED"}
    # a bulk result carries no errors: the same fields are simply null
    operation = start(client)["bulkOperation"]
    lines = client.get(urlsplit(status(client, operation["id"])["url"]).path).get_data(as_text=True)
    assert '"email":null' in lines and "b0@example.com" not in lines and "Buyer0" not in lines


def test_with_approval_the_same_query_answers_without_errors(app: Flask) -> None:
    body = gql(app.test_client(), order_query("email customer { firstName displayName }"), {"id": ORDER_1})
    assert "errors" not in body
    assert body["data"]["order"] == {"email": "b0@example.com", "customer": {"firstName": "Buyer0", "displayName": "Buyer0"}}


# ---- bulk lifecycle -----------------------------------------------------------------------------------


def test_an_operation_runs_for_its_polls_then_completes_and_sends_the_finish_webhook(app: Flask) -> None:
    client = app.test_client()
    sandbox = sandbox_of(app)
    client.post("/_sandbox/bulk", json={"running_polls": 2})
    operation = start(client)["bulkOperation"]
    assert status(client, operation["id"])["status"] == "RUNNING"
    assert not any(d.topic == "bulk_operations/finish" for d in sandbox.webhooks.deliveries)
    finished = status(client, operation["id"])
    assert finished["status"] == "COMPLETED" and finished["url"]
    sandbox.webhooks.webhook_url = "http://127.0.0.1:9/never"  # only so the emitted delivery has a target
    client.post("/_sandbox/bulk", json={"running_polls": 5})
    waiting = start(client)["bulkOperation"]
    assert client.post("/_sandbox/bulk/finish").get_json() == {"finished": 1}
    assert status(client, waiting["id"])["status"] == "COMPLETED"
    finishes = [d for d in sandbox.webhooks.deliveries if d.topic == "bulk_operations/finish"]
    assert [d.summary()["payload"]["admin_graphql_api_id"] for d in finishes] == [waiting["id"]]


@pytest.mark.parametrize(("ends", "code"), [("FAILED", "TIMEOUT"), ("CANCELED", None), ("EXPIRED", None)])
def test_an_operation_can_end_without_completing_leaving_only_a_partial_file(app: Flask, ends: str,
                                                                             code: str | None) -> None:
    client = app.test_client()
    client.post("/_sandbox/bulk", json={"ends": ends, "error_code": code, "partial": True})
    operation = status(client, start(client)["bulkOperation"]["id"])
    assert (operation["status"], operation["errorCode"], operation["url"]) == (ends, code, None)
    partial = client.get(urlsplit(operation["partialDataUrl"]).path)
    assert partial.status_code == 200 and 0 < len(partial.get_data(as_text=True).splitlines()) < 15


def test_a_start_while_the_slots_are_taken_is_answered_in_progress_or_limit_reached(app: Flask) -> None:
    client = app.test_client()
    occupied = client.post("/_sandbox/bulk", json={"concurrent_limit": 1, "occupy": {
        "query": "{ productVariants { edges { node { id sku } } } }", "polls": 2}})
    assert occupied.status_code == 200, occupied.get_data(as_text=True)
    refused = start(client)
    assert refused["bulkOperation"] is None and refused["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    listed = gql(client, '{ bulkOperations(first: 5, query: "status:running") { nodes { id status query } } }')
    (running,) = listed["data"]["bulkOperations"]["nodes"]
    assert running["query"].startswith("{ productVariants")
    gql(client, '{ bulkOperations(first: 5) { nodes { id } } }')  # the second status read finishes it
    assert start(client)["userErrors"] == []
    client.post("/_sandbox/bulk", json={"concurrent_limit": 2, "running_polls": 3})
    assert start(client)["userErrors"] == []
    assert start(client)["userErrors"] == []
    assert start(client)["userErrors"][0]["code"] == "LIMIT_REACHED"


def test_a_refused_bulk_mode_answers_every_start(app: Flask) -> None:
    client = app.test_client()
    client.post("/_sandbox/bulk", json={"refuse": "INVALID"})
    assert start(client)["userErrors"][0]["code"] == "INVALID"
    client.post("/_sandbox/bulk", json={"refuse": "ACCESS_DENIED"})
    body = gql(client, BULK_START, {"q": BULK_INNER})
    assert body["data"] == {"bulkOperationRunQuery": None}
    assert body["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert client.post("/_sandbox/bulk", json={"ends": "LATER"}).status_code == 400


# ---- fulfillment orders: HOLD offered or not, 3PL locations, other apps' holds --------------------------------

FULFILLMENT = ("query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status "
               "supportedActions { action } assignedLocation { location { id isFulfillmentService } } "
               "fulfillmentHolds { handle heldByRequestingApp } } } } }")
HOLD = ("mutation($id: ID!, $h: FulfillmentOrderHoldInput!) { fulfillmentOrderHold(id: $id, fulfillmentHold: $h) { "
        "fulfillmentHold { id } userErrors { field message code } } }")


def fulfillment_seed() -> dict[str, Any]:
    seed = small_seed()
    seed["locations"].append({"id": THIRD_PARTY, "name": "Acme 3PL", "fulfillmentService": True})
    seed["orders"][1]["fulfillmentLocationId"] = THIRD_PARTY
    seed["orders"][2]["fulfillmentInProgress"] = True
    seed["orders"][3]["foreignHolds"] = [{"handle": "backorder-connector", "reason": "OTHER", "app": "other-app"}]
    return seed


def fulfillment_order(client: Any, number: int, token: str = TOKEN) -> dict[str, Any]:
    body = gql(client, FULFILLMENT, {"id": f"gid://shopify/Order/{5000 + number}"}, token=token)
    return body["data"]["order"]["fulfillmentOrders"]["nodes"][0]


def test_hold_is_offered_only_where_the_app_may_hold(clock: FakeClock) -> None:
    application = create_app(ShopifyState.from_seed(fulfillment_seed()), api_secret=SECRET, access_token=TOKEN,
                             clock=clock)
    client = application.test_client()
    own, third_party, in_progress, foreign = (fulfillment_order(client, n) for n in range(4))
    assert "HOLD" in {a["action"] for a in own["supportedActions"]}
    assert own["assignedLocation"]["location"] == {"id": f"gid://shopify/Location/{LOCATION}", "isFulfillmentService": False}
    assert third_party["assignedLocation"]["location"]["isFulfillmentService"] is True
    assert in_progress["status"] == "IN_PROGRESS" and "HOLD" not in {a["action"] for a in in_progress["supportedActions"]}
    assert foreign["fulfillmentHolds"] == [{"handle": "backorder-connector", "heldByRequestingApp": False}]
    refused = gql(client, HOLD, {"id": in_progress["id"], "h": {"reason": "OTHER", "handle": "h"}})
    assert "IN_PROGRESS" in refused["data"]["fulfillmentOrderHold"]["userErrors"][0]["message"]
    # the same handle as another app's hold is not a duplicate: handles are unique per app
    held = gql(client, HOLD, {"id": foreign["id"], "h": {"reason": "OTHER", "handle": "backorder-connector"}})
    assert held["data"]["fulfillmentOrderHold"]["userErrors"] == []


def test_holding_at_a_3pl_location_needs_the_third_party_scope(clock: FakeClock) -> None:
    merchant_only = "write_orders,read_inventory,write_merchant_managed_fulfillment_orders"
    application = create_app(ShopifyState.from_seed(fulfillment_seed()), api_secret=SECRET, access_token=TOKEN,
                             clock=clock, static_scopes=merchant_only)
    client = application.test_client()
    refused = gql(client, HOLD, {"id": fulfillment_order(client, 1)["id"], "h": {"reason": "OTHER", "handle": "h"}})
    assert refused["data"]["fulfillmentOrderHold"] is None
    assert refused["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_third_party_fulfillment_orders" in refused["errors"][0]["message"]
    ok = gql(client, HOLD, {"id": fulfillment_order(client, 0)["id"], "h": {"reason": "OTHER", "handle": "h"}})
    assert ok["data"]["fulfillmentOrderHold"]["userErrors"] == []
    scopes = gql(client, "{ currentAppInstallation { accessScopes { handle } } }")
    assert [s["handle"] for s in scopes["data"]["currentAppInstallation"]["accessScopes"]] == sorted(merchant_only.split(","))


# ---- the 60-day window -----------------------------------------------------------------------------------


def test_without_read_all_orders_orders_older_than_60_days_are_invisible(clock: FakeClock) -> None:
    seed = small_seed()
    seed["orders"][0]["createdAt"] = "2026-08-01T10:00:00Z"
    now = datetime(2026, 11, 25, tzinfo=UTC)
    state = ShopifyState.from_seed(seed, now=lambda: now)
    application = create_app(state, api_secret=SECRET, access_token=TOKEN, clock=clock,
                             static_scopes="write_orders,read_inventory")
    client = application.test_client()
    names = [n["name"] for n in gql(client, "{ orders(first: 10) { nodes { name } } }")["data"]["orders"]["nodes"]]
    assert "#1001" not in names and len(names) == 4
    assert gql(client, order_query("id"), {"id": ORDER_1})["data"] == {"order": None}
    tagged = gql(client, 'mutation { tagsAdd(id: "gid://shopify/Order/5000", tags: ["x"]) { userErrors { message } } }')
    assert tagged["data"]["tagsAdd"]["userErrors"] == [{"message": "Order does not exist"}]
    client.post("/_sandbox/access", json={"static_scopes": "write_orders,read_inventory,read_all_orders"})
    assert gql(client, order_query("name"), {"id": ORDER_1})["data"]["order"] == {"name": "#1001"}
    assert state.orders[5000].created_at < now - timedelta(days=60)


# ---- refresh tokens -----------------------------------------------------------------------------------


def test_a_refresh_token_is_retired_once_its_replacement_is_used(app: Flask) -> None:
    client = app.test_client()
    location = client.get("/admin/oauth/authorize", query_string={
        "client_id": "app-key", "scope": "write_orders", "redirect_uri": "http://127.0.0.1:5000/cb"}).headers["Location"]
    code = dict(pair.split("=", 1) for pair in urlsplit(location).query.split("&"))["code"]
    first = client.post("/admin/oauth/access_token", json={"client_id": "app-key", "client_secret": SECRET,
                                                           "code": code, "expiring": "1"}).get_json()

    def refresh(token: str) -> Any:
        return client.post("/admin/oauth/access_token", json={"client_id": "app-key", "client_secret": SECRET,
                                                              "grant_type": "refresh_token", "refresh_token": token})

    second = refresh(first["refresh_token"]).get_json()
    again = refresh(first["refresh_token"])  # a racing process, before anyone used the new pair
    assert again.status_code == 200 and client.get("/_sandbox/tokens").get_json()["rotations"] == 2
    third = refresh(second["refresh_token"]).get_json()  # the replacement is used: the first is retired
    assert refresh(first["refresh_token"]).status_code == 400
    assert client.post(GRAPHQL, json={"query": "{ shop { name } }"},
                       headers={"X-Shopify-Access-Token": third["access_token"]}).status_code == 200
    withheld = client.post("/_sandbox/access", json={"withheld_scopes": ["read_all_orders"]}).get_json()
    assert withheld["withheld_scopes"] == ["read_all_orders"]
