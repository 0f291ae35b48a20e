"""The Shopify sandbox answers like Shopify: schema errors, token check, query cost and throttling, data, mutations."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from shopify_sandbox_support import (  # noqa: F401 - app and clock are fixtures, found by name
    app,
    clock,
    GRAPHQL,
    ITEM_SHIRT,
    LOCATION,
    ORDER_1,
    SECRET,
    TOKEN,
    FakeClock,
    gql,
    make_app,
    order_query,
    small_seed,
)

from sandbox.shopify import ShopifyState, create_app, sandbox_of
from sandbox.shopify.cost import query_cost, select_operation
from sandbox.shopify.schema import admin_schema, check_document



# ---- schema, auth, cost ----------------------------------------------------------------------------------

def test_a_document_the_schema_rejects_gets_shopify_errors_and_no_data(app: Flask) -> None:
    body = gql(app.test_client(), '{ order(id: "gid://shopify/Order/5000") { id backorderEta } }')
    assert "data" not in body
    assert body["errors"] == [{"message": "Field 'backorderEta' doesn't exist on type 'Order'",
                               "locations": [{"line": 1, "column": 46}],
                               "extensions": {"code": "undefinedField", "typeName": "Order",
                                              "fieldName": "backorderEta"}}]
    missing = gql(app.test_client(), "{ order { id } }")
    assert missing["errors"][0]["extensions"]["code"] == "missingRequiredArguments"
    broken = gql(app.test_client(), "{ order(id: 1")
    assert broken["errors"][0]["extensions"]["code"] == "parseError"


def test_check_document_accepts_what_the_connector_sends() -> None:
    document, errors = check_document(
        'mutation($id: ID!, $h: FulfillmentOrderHoldInput!) { fulfillmentOrderHold(id: $id, fulfillmentHold: $h) '
        '{ fulfillmentHold { id handle } userErrors { field message code } } }')
    assert errors == [] and document is not None


@pytest.mark.parametrize("token", [None, "shpat_wrong"])
def test_a_missing_or_wrong_token_is_refused_with_401(app: Flask, token: str | None) -> None:
    headers = {"X-Shopify-Access-Token": token} if token else {}
    answer = app.test_client().post(GRAPHQL, json={"query": "{ shop { name } }"}, headers=headers)
    assert answer.status_code == 401
    assert answer.get_json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def test_cost_is_reported_and_unused_points_are_refunded(app: Flask) -> None:
    body = gql(app.test_client(), "{ orders(first: 50) { nodes { id } } }")
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 52  # 2 + 50 x 1
    assert cost["actualQueryCost"] == 7  # 2 + 5 orders returned
    assert cost["throttleStatus"] == {"maximumAvailable": 1000, "currentlyAvailable": 993, "restoreRate": 100}


def test_nested_connections_multiply_and_over_1000_is_refused_before_running(app: Flask) -> None:
    body = gql(app.test_client(), "{ orders(first: 250) { nodes { id lineItems(first: 10) { nodes { id } } } } }")
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["errors"][0]["extensions"]["cost"] == 3252  # the platform notes' estimate: 2 + 250 x (1 + 2 + 10)
    assert body["extensions"]["cost"]["actualQueryCost"] is None


def test_a_connection_needs_first_or_last(app: Flask) -> None:
    body = gql(app.test_client(), "{ orders { nodes { id } } }")
    assert body["errors"][0]["message"] == "you must provide one of first or last"


def test_leaky_bucket_throttles_then_restores_with_time(app: Flask, clock: FakeClock) -> None:
    sandbox_of(app).bucket.configure(size=100, restore_rate=10, available=40)
    client = app.test_client()
    throttled = gql(client, "{ orders(first: 50) { nodes { id } } }")
    assert throttled["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    assert throttled["extensions"]["cost"] == {"requestedQueryCost": 52, "actualQueryCost": None, "throttleStatus": {
        "maximumAvailable": 100, "currentlyAvailable": 40, "restoreRate": 10}}
    clock.advance(1.5)  # 40 + 15 points
    served = gql(client, "{ orders(first: 50) { nodes { id } } }")
    assert len(served["data"]["orders"]["nodes"]) == 5
    assert served["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 55 - 52 + (52 - 7)
    clock.advance(3600)
    assert gql(client, "{ shop { name } }")["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 99


@settings(max_examples=30, deadline=None)
@given(page=st.integers(min_value=0, max_value=250), lines=st.integers(min_value=0, max_value=10))
def test_actual_cost_never_exceeds_requested(page: int, lines: int) -> None:
    state = ShopifyState.from_seed(small_seed())
    query = f"{{ orders(first: {page}) {{ nodes {{ id lineItems(first: {lines}) {{ nodes {{ id }} }} }} }} }}"
    application = create_app(state, api_secret=SECRET, access_token=TOKEN)
    body = gql(application.test_client(), query)
    cost = body["extensions"]["cost"]
    if "errors" in body:
        assert cost["requestedQueryCost"] > 1000
    else:
        assert cost["actualQueryCost"] <= cost["requestedQueryCost"] == 2 + page * (3 + lines)
        document, _ = check_document(query)
        assert document is not None
        operation = select_operation(document, None)
        assert operation is not None
        assert query_cost(admin_schema(), document, operation, {}, body["data"]) == cost["actualQueryCost"]


# ---- reading data -----------------------------------------------------------------------------------------

ORDERS_PAGE = """query($after: String, $q: String) {
  orders(first: 2, after: $after, query: $q, sortKey: UPDATED_AT) {
    edges { cursor node { name updatedAt } } pageInfo { hasNextPage endCursor } } }"""


def all_pages(client: Any, search: str | None) -> list[str]:
    names, cursor = [], None
    while True:
        page = gql(client, ORDERS_PAGE, {"after": cursor, "q": search})["data"]["orders"]
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names
        cursor = page["pageInfo"]["endCursor"]


def test_orders_page_by_cursor_in_updated_at_order(app: Flask) -> None:
    assert all_pages(app.test_client(), None) == ["#1005", "#1004", "#1003", "#1002", "#1001"]


def test_updated_at_filter_supports_at_or_after_and_strictly_after(app: Flask) -> None:
    client = app.test_client()
    assert all_pages(client, "updated_at:>='2026-11-18T10:00:00Z'") == ["#1003", "#1002", "#1001"]
    assert all_pages(client, "updated_at:>'2026-11-18T10:00:00Z'") == ["#1002", "#1001"]
    assert all_pages(client, "updated_at:>='2026-12-01T00:00:00Z'") == []


def test_order_fields_the_connector_reads(app: Flask) -> None:
    body = gql(app.test_client(), order_query(
        "id name note tags email customerLocale customer { firstName email locale } "
        "lineItems(first: 5) { nodes { id sku quantity unfulfilledQuantity requiresShipping "
        "variant { id inventoryItem { id tracked } } } } "
        "fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 5) { nodes { id remainingQuantity "
        "lineItem { id } } } } }"), {"id": ORDER_1})
    order = body["data"]["order"]
    assert order["name"] == "#1001" and order["note"] == "Ring the bell" and order["tags"] == ["vip"]
    assert order["customer"] == {"firstName": "Buyer0", "email": "b0@example.com", "locale": "fr"}
    shirt, mug = order["lineItems"]["nodes"]
    assert shirt["variant"]["inventoryItem"] == {"id": f"gid://shopify/InventoryItem/{ITEM_SHIRT}", "tracked": True}
    assert mug["variant"]["inventoryItem"]["tracked"] is False
    (fulfillment_order,) = order["fulfillmentOrders"]["nodes"]
    assert fulfillment_order["status"] == "OPEN"
    assert [n["lineItem"]["id"] for n in fulfillment_order["lineItems"]["nodes"]] == [shirt["id"], mug["id"]]


def test_unknown_order_is_null_and_a_malformed_id_is_an_error(app: Flask) -> None:
    client = app.test_client()
    assert gql(client, order_query("id"), {"id": "gid://shopify/Order/1"})["data"] == {"order": None}
    body = gql(client, order_query("id"), {"id": "not-a-gid"})
    assert body["errors"][0]["message"] == "Invalid global id 'not-a-gid'"


def test_inventory_levels_report_named_quantities(app: Flask) -> None:
    body = gql(app.test_client(), '{ inventoryItems(first: 10, query: "sku:SHIRT-BLUE-M") { nodes { sku tracked '
                                  'inventoryLevels(first: 5) { nodes { location { id } '
                                  'quantities(names: ["available", "committed", "on_hand", "incoming"]) '
                                  '{ name quantity } } } } } }')
    (item,) = body["data"]["inventoryItems"]["nodes"]
    (level,) = item["inventoryLevels"]["nodes"]
    assert level["location"]["id"] == f"gid://shopify/Location/{LOCATION}"
    assert {q["name"]: q["quantity"] for q in level["quantities"]} == {
        "available": -3, "committed": 10, "on_hand": 7, "incoming": 0}


# ---- mutations ----------------------------------------------------------------------------------------------

def test_tags_add_and_remove_keep_other_tags(app: Flask) -> None:
    client = app.test_client()
    add = "mutation($id: ID!, $t: [String!]!) { tagsAdd(id: $id, tags: $t) { node { id } userErrors { field message } } }"
    remove = add.replace("tagsAdd", "tagsRemove")
    assert gql(client, add, {"id": ORDER_1, "t": ["backordered"]})["data"]["tagsAdd"]["userErrors"] == []
    gql(client, add, {"id": ORDER_1, "t": ["Backordered"]})  # tags compare without case
    assert sandbox_of(app).state.orders[5000].tags == ["vip", "backordered"]
    gql(client, remove, {"id": ORDER_1, "t": ["backordered"]})
    assert sandbox_of(app).state.orders[5000].tags == ["vip"]
    missing = gql(client, add, {"id": "gid://shopify/Order/42", "t": ["x"]})["data"]["tagsAdd"]
    assert missing == {"node": None, "userErrors": [{"field": ["id"], "message": "Order does not exist"}]}


def test_order_update_overwrites_the_note_and_bumps_updated_at(app: Flask) -> None:
    mutation = ("mutation($input: OrderInput!) { orderUpdate(input: $input) { order { note updatedAt } "
                "userErrors { field message } } }")
    result = gql(app.test_client(), mutation, {"input": {"id": ORDER_1, "note": "ETA 9 Dec"}})["data"]["orderUpdate"]
    assert result["order"]["note"] == "ETA 9 Dec" and result["userErrors"] == []
    assert result["order"]["updatedAt"] > "2026-11-20T10:00:00Z"
    bad = gql(app.test_client(), mutation, {"input": {"id": "gid://shopify/Order/1", "note": "x"}})
    assert bad["data"]["orderUpdate"]["userErrors"] == [{"field": ["id"], "message": "Order does not exist"}]


METAFIELDS_SET = ("mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { key value "
                  "compareDigest } userErrors { field message code } } }")


def test_metafields_set_writes_atomically_and_refuses_bad_values(app: Flask) -> None:
    client = app.test_client()
    good = {"ownerId": ORDER_1, "namespace": "backorder", "key": "eta", "type": "date", "value": "2026-12-09"}
    bad = {**good, "key": "status", "type": "date", "value": "soon"}
    refused = gql(client, METAFIELDS_SET, {"m": [good, bad]})["data"]["metafieldsSet"]
    assert refused["metafields"] is None
    assert refused["userErrors"][0]["field"] == ["metafields", "1", "value"]
    assert refused["userErrors"][0]["code"] == "INVALID_VALUE"
    assert sandbox_of(app).state.orders[5000].metafields == []
    written = gql(client, METAFIELDS_SET, {"m": [good]})["data"]["metafieldsSet"]
    assert written["metafields"][0]["value"] == "2026-12-09"
    read = gql(client, order_query('metafield(namespace: "backorder", key: "eta") { value }'), {"id": ORDER_1})
    assert read["data"]["order"]["metafield"] == {"value": "2026-12-09"}
    stale = gql(client, METAFIELDS_SET, {"m": [{**good, "compareDigest": "0" * 64}]})["data"]["metafieldsSet"]
    assert stale["userErrors"][0]["code"] == "STALE_OBJECT"
    orphan = gql(client, METAFIELDS_SET, {"m": [{**good, "ownerId": "gid://shopify/Order/1"}]})["data"]["metafieldsSet"]
    assert orphan["userErrors"][0]["field"] == ["metafields", "0", "ownerId"]


HOLD = ("mutation($id: ID!, $h: FulfillmentOrderHoldInput!) { fulfillmentOrderHold(id: $id, fulfillmentHold: $h) { "
        "fulfillmentHold { id handle } fulfillmentOrder { id status lineItems(first: 5) { nodes { remainingQuantity } } } "
        "remainingFulfillmentOrder { id status } userErrors { field message code } } }")
RELEASE = ("mutation($id: ID!, $holds: [ID!]) { fulfillmentOrderReleaseHold(id: $id, holdIds: $holds) { "
           "fulfillmentOrder { status fulfillmentHolds { id } } userErrors { field message code } } }")


def fulfillment_order(client: Any) -> dict[str, Any]:
    body = gql(client, order_query("fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 5) { nodes { id "
                                   "remainingQuantity } } fulfillmentHolds { id handle reason } } }"), {"id": ORDER_1})
    return body["data"]["order"]["fulfillmentOrders"]["nodes"][0]


def test_hold_and_release_a_whole_fulfillment_order(app: Flask) -> None:
    client = app.test_client()
    fo = fulfillment_order(client)
    hold = {"reason": "INVENTORY_OUT_OF_STOCK", "reasonNotes": "ETA 9 Dec", "handle": "backorder-connector"}
    held = gql(client, HOLD, {"id": fo["id"], "h": hold})["data"]["fulfillmentOrderHold"]
    assert held["userErrors"] == [] and held["fulfillmentHold"]["handle"] == "backorder-connector"
    assert held["fulfillmentOrder"]["status"] == "ON_HOLD" and held["remainingFulfillmentOrder"] is None
    again = gql(client, HOLD, {"id": fo["id"], "h": hold})["data"]["fulfillmentOrderHold"]
    assert again["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
    wrong = gql(client, RELEASE, {"id": fo["id"], "holds": ["gid://shopify/FulfillmentHold/1"]})
    assert wrong["data"]["fulfillmentOrderReleaseHold"]["userErrors"][0]["field"] == ["holdIds"]
    released = gql(client, RELEASE, {"id": fo["id"], "holds": [held["fulfillmentHold"]["id"]]})
    assert released["data"]["fulfillmentOrderReleaseHold"] == {
        "fulfillmentOrder": {"status": "OPEN", "fulfillmentHolds": []}, "userErrors": []}


def test_a_partial_hold_splits_the_fulfillment_order(app: Flask) -> None:
    client = app.test_client()
    fo = fulfillment_order(client)
    shirt_line = fo["lineItems"]["nodes"][0]
    hold = {"reason": "UNKNOWN_DELIVERY_DATE", "handle": "h1",
            "fulfillmentOrderLineItems": [{"id": shirt_line["id"], "quantity": 2}]}
    held = gql(client, HOLD, {"id": fo["id"], "h": hold})["data"]["fulfillmentOrderHold"]
    assert held["fulfillmentOrder"]["lineItems"]["nodes"] == [{"remainingQuantity": 2}]
    assert held["remainingFulfillmentOrder"]["status"] == "OPEN"
    too_many = {**hold, "handle": "h2", "fulfillmentOrderLineItems": [{"id": shirt_line["id"], "quantity": 9}]}
    refused = gql(client, HOLD, {"id": held["remainingFulfillmentOrder"]["id"], "h": too_many})
    assert refused["data"]["fulfillmentOrderHold"]["userErrors"][0]["code"] == "INVALID_LINE_ITEM_QUANTITY"


def test_hold_mutations_report_unknown_fulfillment_orders(app: Flask) -> None:
    client = app.test_client()
    missing = "gid://shopify/FulfillmentOrder/1"
    held = gql(client, HOLD, {"id": missing, "h": {"reason": "OTHER"}})["data"]["fulfillmentOrderHold"]
    released = gql(client, RELEASE, {"id": missing, "holds": None})["data"]["fulfillmentOrderReleaseHold"]
    for payload in (held, released):
        assert payload["userErrors"][0]["code"] == "FULFILLMENT_ORDER_NOT_FOUND"


def test_webhook_subscriptions_are_created_by_uri_once_and_listed(app: Flask) -> None:
    client = app.test_client()
    create = ("mutation($t: WebhookSubscriptionTopic!, $s: WebhookSubscriptionInput!) { webhookSubscriptionCreate("
              "topic: $t, webhookSubscription: $s) { webhookSubscription { id topic uri } userErrors { field message } } }")
    spec = {"uri": "http://127.0.0.1:9/webhooks/shopify", "format": "JSON"}
    first = gql(client, create, {"t": "ORDERS_CREATE", "s": spec})["data"]["webhookSubscriptionCreate"]
    assert first["userErrors"] == [] and first["webhookSubscription"]["topic"] == "ORDERS_CREATE"
    second = gql(client, create, {"t": "ORDERS_CREATE", "s": spec})["data"]["webhookSubscriptionCreate"]
    assert second["userErrors"][0]["message"] == "Address for this topic has already been taken"
    listed = gql(client, "{ webhookSubscriptions(first: 10) { nodes { topic uri } } }")
    assert listed["data"]["webhookSubscriptions"]["nodes"] == [{"topic": "ORDERS_CREATE", "uri": spec["uri"]}]
    by_uri = gql(client, 'query($u: String) { webhookSubscriptions(first: 10, uri: $u) { nodes { id } } }',
                 {"u": "https://elsewhere.example/hook"})
    assert by_uri["data"]["webhookSubscriptions"]["nodes"] == []
    bad = gql(client, create, {"t": "ORDERS_CREATE", "s": {"uri": "ftp://example.com/x"}})["data"]
    assert "URI isn't correct URI format" in bad["webhookSubscriptionCreate"]["userErrors"][0]["message"]


def test_the_2026_schema_refuses_a_subscription_by_callback_url(app: Flask) -> None:
    old = ('mutation { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: '
           '{callbackUrl: "https://example.com/hook"}) { userErrors { message } } }')
    body = gql(app.test_client(), old)
    assert "data" not in body
    assert "callbackUrl" in body["errors"][0]["message"]
    assert sandbox_of(app).state.subscriptions == {}
