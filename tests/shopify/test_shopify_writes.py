"""ShopifyPlatform writes: tags, metafields, the note block, holds and webhooks; each one only when needed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from shopify_support import FakeShopify, page

from connector.errors import ConnectorError, NotFoundError, Skipped, UserError
from connector.platforms.base import HOLD_HANDLE, HoldRequest, LineMark, OrderMarks
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.shopify.notes import BLOCK_END, BLOCK_START

ORDER = "gid://shopify/Order/1001"
OK = {"userErrors": []}

# -- tags ---------------------------------------------------------------------------------------


def test_a_tag_already_there_is_not_added_again(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderTags", {"order": {"id": ORDER, "tags": ["vip", "Backordered"]}})
    assert platform.add_tag("1001", "backordered") is False
    assert shop.ops() == ["OrderTags"]


def test_a_missing_tag_is_added_without_touching_the_others(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderTags", {"order": {"id": ORDER, "tags": ["vip"]}})
    shop.data("TagsAdd", {"tagsAdd": OK})
    assert platform.add_tag("1001", "backordered") is True
    assert shop.calls[1].variables == {"id": ORDER, "tags": ["backordered"]}


def test_remove_tag_removes_only_when_present(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderTags", {"order": {"id": ORDER, "tags": ["vip", "Backordered"]}})
    shop.data("TagsRemove", {"tagsRemove": OK})
    shop.data("OrderTags", {"order": {"id": ORDER, "tags": ["vip"]}})
    assert platform.remove_tag("1001", "backordered") is True
    assert platform.remove_tag("1001", "backordered") is False
    assert shop.calls[1].variables == {"id": ORDER, "tags": ["Backordered"]}
    assert shop.ops() == ["OrderTags", "TagsRemove", "OrderTags"]


def test_tagging_a_missing_order_is_not_found(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderTags", {"order": None})
    with pytest.raises(NotFoundError):
        platform.add_tag("1001", "backordered")


# -- metafields ---------------------------------------------------------------------------------

MARKS = OrderMarks(status="backordered", eta=date(2026, 12, 1),
                   lines=(LineMark(line_id="5", sku="SKU-A", backordered=2, eta=date(2026, 12, 1)),))
LINES_JSON = '[{"backordered":2,"eta":"2026-12-01","line_id":"5","sku":"SKU-A"}]'


def _metafields(**values: str) -> dict:
    nodes = [{"id": f"gid://shopify/Metafield/{i}", "key": key, "type": "x", "value": value}
             for i, (key, value) in enumerate(values.items())]
    return {"order": {"id": ORDER, "metafields": {"nodes": nodes}}}


def test_marks_equal_to_the_stored_ones_send_nothing(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    # Shopify may give the JSON back re-serialised: compared parsed
    pretty = json.dumps(json.loads(LINES_JSON), indent=2)
    shop.data("OrderMetafields", _metafields(eta="2026-12-01", status="backordered", lines=pretty))
    assert platform.write_marks([("1001", MARKS)]) == {"1001": False}
    assert shop.ops() == ["OrderMetafields"]
    assert shop.calls[0].variables == {"id": ORDER, "namespace": "backorder", "first": 10}


def test_changed_marks_are_set_with_their_types(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderMetafields", _metafields(status="backordered", eta="2026-11-20"))
    shop.data("MetafieldsSet", {"metafieldsSet": {"metafields": [], "userErrors": []}})
    assert platform.write_marks([("1001", MARKS)]) == {"1001": True}
    sent = shop.calls[1].variables["metafields"]
    assert sent == [
        {"ownerId": ORDER, "namespace": "backorder", "key": "eta", "type": "date", "value": "2026-12-01"},
        {"ownerId": ORDER, "namespace": "backorder", "key": "lines", "type": "json", "value": LINES_JSON},
    ]


def test_an_unknown_eta_deletes_the_eta_metafield(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    marks = OrderMarks(status="ok", eta=None, lines=())
    shop.data("OrderMetafields", _metafields(eta="2026-12-01", status="backordered", lines=LINES_JSON))
    shop.data("MetafieldsSet", {"metafieldsSet": {"metafields": [], "userErrors": []}})
    shop.data("MetafieldsDelete", {"metafieldsDelete": {"deletedMetafields": [{"key": "eta"}], "userErrors": []}})
    assert platform.write_marks([("1001", marks)]) == {"1001": True}
    assert [m["key"] for m in shop.calls[1].variables["metafields"]] == ["status", "lines"]
    assert shop.calls[2].variables == {"metafields": [{"ownerId": ORDER, "namespace": "backorder", "key": "eta"}]}


def test_no_eta_and_none_stored_sends_no_delete(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderMetafields", _metafields(status="ok", lines="[]"))
    assert platform.write_marks([("1001", OrderMarks(status="ok", eta=None))]) == {"1001": False}
    assert shop.ops() == ["OrderMetafields"]


# -- note ---------------------------------------------------------------------------------------


def test_the_note_block_is_merged_into_the_merchants_note(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderNote", {"order": {"id": ORDER, "note": "Gift wrap please"}})
    shop.data("OrderNoteUpdate", {"orderUpdate": {"order": {"id": ORDER, "note": "x"}, "userErrors": []}})
    assert platform.write_note("1001", "SKU-A: ETA 2026-12-01") is True
    assert shop.calls[1].variables == {
        "id": ORDER, "note": f"Gift wrap please\n\n{BLOCK_START}\nSKU-A: ETA 2026-12-01\n{BLOCK_END}"}


def test_an_unchanged_note_is_not_written(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrderNote", {"order": {"id": ORDER, "note": f"Gift wrap\n\n{BLOCK_START}\nSKU-A: ETA\n{BLOCK_END}\n"}})
    assert platform.write_note("1001", "SKU-A: ETA") is False
    assert shop.ops() == ["OrderNote"]


def test_empty_text_removes_the_block_and_keeps_the_merchant_text(platform: ShopifyPlatform,
                                                                  shop: FakeShopify) -> None:
    note = f"Call before delivery\n\n{BLOCK_START}\nold\n{BLOCK_END}\n\nLeave at door"
    shop.data("OrderNote", {"order": {"id": ORDER, "note": note}})
    shop.data("OrderNoteUpdate", {"orderUpdate": {"order": {"id": ORDER, "note": ""}, "userErrors": []}})
    assert platform.write_note("1001", "") is True
    assert shop.calls[1].variables["note"] == "Call before delivery\n\nLeave at door"


# -- holds --------------------------------------------------------------------------------------


def _fo_line(number: int, line_item: int, remaining: int = 2) -> dict:
    return {"id": f"gid://shopify/FulfillmentOrderLineItem/{number}", "remainingQuantity": remaining,
            "lineItem": {"id": f"gid://shopify/LineItem/{line_item}"}}


def _fo(number: int, lines: list[dict], holds: list[dict] | None = None, status: str = "OPEN",
        actions: tuple[str, ...] = ("HOLD", "CREATE_FULFILLMENT"), third_party: bool = False) -> dict:
    return {"id": f"gid://shopify/FulfillmentOrder/{number}", "status": status,
            "supportedActions": [{"action": action} for action in actions],
            "assignedLocation": {"location": {"id": "gid://shopify/Location/7", "isFulfillmentService": third_party}},
            "fulfillmentHolds": holds or [], "lineItems": page(lines)}


def _fos(*nodes: dict) -> dict:
    return {"order": {"id": ORDER, "fulfillmentOrders": page(list(nodes))}}


def _held() -> dict:
    return {"fulfillmentOrderHold": {"fulfillmentHold": {"id": "h", "handle": HOLD_HANDLE},
                                     "remainingFulfillmentOrder": None, "userErrors": []}}


OUR_HOLD = {"id": "gid://shopify/FulfillmentHold/1", "handle": HOLD_HANDLE, "reason": "INVENTORY_OUT_OF_STOCK",
            "heldByRequestingApp": True}
OTHER_HOLD = {"id": "gid://shopify/FulfillmentHold/2", "handle": "fraud-app", "reason": "HIGH_RISK_OF_FRAUD",
              "heldByRequestingApp": False}
# Another app happens to use the same handle: the hold is not ours, whatever its handle says.
LOOKALIKE_HOLD = {"id": "gid://shopify/FulfillmentHold/3", "handle": HOLD_HANDLE, "reason": "OTHER",
                  "heldByRequestingApp": False}
ALL_SCOPES = ("write_orders", "read_inventory", "write_products", "write_merchant_managed_fulfillment_orders",
              "write_third_party_fulfillment_orders", "read_all_orders")


def test_hold_places_our_hold_on_the_backordered_lines(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(
        _fo(1, [_fo_line(11, 5)], holds=[OUR_HOLD], status="ON_HOLD"),  # already held by us: skipped
        _fo(2, [_fo_line(21, 6, remaining=3), _fo_line(22, 7), _fo_line(23, 8, remaining=0)],
            holds=[OTHER_HOLD, LOOKALIKE_HOLD]),
        _fo(3, [_fo_line(31, 6)], status="CLOSED", actions=()),
    ))
    shop.data("FulfillmentOrderHold", _held())
    request = HoldRequest(line_ids=("5", "6", "8"), reason="UNKNOWN_DELIVERY_DATE", notes="waiting for supplier")
    assert platform.hold("1001", request) is True
    assert shop.ops() == ["FulfillmentOrders", "FulfillmentOrderHold"]
    assert shop.calls[1].variables == {"id": "gid://shopify/FulfillmentOrder/2", "hold": {
        "reason": "UNKNOWN_DELIVERY_DATE", "reasonNotes": "waiting for supplier", "handle": HOLD_HANDLE,
        "notifyMerchant": False,
        "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/21", "quantity": 3}]}}
    assert "supportedActions { action }" in shop.calls[0].query and "isFulfillmentService" in shop.calls[0].query


def test_hold_sends_nothing_when_already_held(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(_fo(1, [_fo_line(11, 5)], holds=[OUR_HOLD], status="ON_HOLD")))
    assert platform.hold("1001", HoldRequest(line_ids=("5",), reason="INVENTORY_OUT_OF_STOCK")) is False
    assert shop.ops() == ["FulfillmentOrders"]


def test_a_fulfillment_order_without_hold_in_its_supported_actions_is_skipped_with_the_reason(
        platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(_fo(1, [_fo_line(11, 5)], status="IN_PROGRESS", actions=("CREATE_FULFILLMENT",)),
                                        _fo(2, [_fo_line(21, 6)])))
    shop.data("FulfillmentOrderHold", _held())
    with pytest.raises(Skipped, match="fulfillment order 1: Shopify offers no HOLD on it now") as skipped:
        platform.hold("1001", HoldRequest(line_ids=("5", "6"), reason="INVENTORY_OUT_OF_STOCK"))
    assert skipped.value.partly_done is True  # fulfillment order 2 was held
    assert [call.variables["id"] for call in shop.calls[1:]] == ["gid://shopify/FulfillmentOrder/2"]


def test_a_3pl_fulfillment_order_is_held_only_with_the_third_party_scope(client: ShopifyClient, shop: FakeShopify) -> None:
    merchant_only = ShopifyPlatform(client, granted_scopes=[s for s in ALL_SCOPES if "third_party" not in s])
    shop.data("FulfillmentOrders", _fos(_fo(1, [_fo_line(11, 5)], third_party=True)))
    with pytest.raises(Skipped, match="needs the write_third_party_fulfillment_orders scope") as skipped:
        merchant_only.hold("1001", HoldRequest(line_ids=("5",), reason="INVENTORY_OUT_OF_STOCK"))
    assert skipped.value.partly_done is False and shop.ops() == ["FulfillmentOrders"]

    both = ShopifyPlatform(client, granted_scopes=ALL_SCOPES)
    shop.data("FulfillmentOrders", _fos(_fo(1, [_fo_line(11, 5)], third_party=True)))
    shop.data("FulfillmentOrderHold", _held())
    assert both.hold("1001", HoldRequest(line_ids=("5",), reason="INVENTORY_OUT_OF_STOCK")) is True
    assert shop.ops()[-1] == "FulfillmentOrderHold"


def test_a_user_error_on_one_fulfillment_order_is_recorded_and_the_others_go_on(platform: ShopifyPlatform,
                                                                                shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(_fo(1, [_fo_line(11, 5)]), _fo(2, [_fo_line(21, 6)])))
    shop.data("FulfillmentOrderHold", {"fulfillmentOrderHold": {"fulfillmentHold": None, "userErrors": [
        {"field": ["id"], "message": "The fulfillment order is not in a splittable state.",
         "code": "FULFILLMENT_ORDER_NOT_SPLITTABLE"}]}})
    shop.data("FulfillmentOrderHold", _held())
    with pytest.raises(UserError) as refused:
        platform.hold("1001", HoldRequest(line_ids=("5", "6"), reason="INVENTORY_OUT_OF_STOCK"))
    assert refused.value.messages == [
        "fulfillment order 1: id: The fulfillment order is not in a splittable state.",
        "1 other fulfillment order(s) held"]
    assert shop.ops() == ["FulfillmentOrders", "FulfillmentOrderHold", "FulfillmentOrderHold"]


def test_release_frees_only_our_holds_by_id(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(
        _fo(1, [_fo_line(11, 5)], holds=[OUR_HOLD, OTHER_HOLD, LOOKALIKE_HOLD], status="ON_HOLD"),
        _fo(2, [_fo_line(21, 6)], holds=[OTHER_HOLD, LOOKALIKE_HOLD], status="ON_HOLD"),
    ))
    shop.data("FulfillmentOrderReleaseHold", {"fulfillmentOrderReleaseHold": {"fulfillmentOrder": None,
                                                                              "userErrors": []}})
    assert platform.release("1001") is True
    assert shop.ops() == ["FulfillmentOrders", "FulfillmentOrderReleaseHold"]
    assert shop.calls[1].variables == {"id": "gid://shopify/FulfillmentOrder/1",
                                       "holdIds": ["gid://shopify/FulfillmentHold/1"]}


def test_release_without_our_holds_sends_nothing(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(_fo(2, [_fo_line(21, 6)], holds=[OTHER_HOLD, LOOKALIKE_HOLD],
                                            status="ON_HOLD")))
    assert platform.release("1001") is False
    assert shop.ops() == ["FulfillmentOrders"]


def test_fulfillment_order_lines_beyond_the_first_page_are_read(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    first = _fo(1, [])
    first["lineItems"] = page([_fo_line(11, 5)], cursor="f1")
    shop.data("FulfillmentOrders", _fos(first))
    shop.data("FulfillmentOrderLineItems", {"fulfillmentOrder": {"id": first["id"], "lineItems": page([_fo_line(12, 9)])}})
    shop.data("FulfillmentOrderHold", {"fulfillmentOrderHold": {"userErrors": []}})
    assert platform.hold("1001", HoldRequest(line_ids=("9",), reason="INVENTORY_OUT_OF_STOCK")) is True
    held = shop.calls[2].variables["hold"]["fulfillmentOrderLineItems"]
    assert held == [{"id": "gid://shopify/FulfillmentOrderLineItem/12", "quantity": 2}]


def test_writes_without_write_orders_are_skipped_with_the_reason(client: ShopifyClient, shop: FakeShopify) -> None:
    read_only = ShopifyPlatform(client, granted_scopes=["read_orders", "read_inventory"])
    for write in (lambda: read_only.add_tag("1001", "backordered"), lambda: read_only.write_note("1001", "x"),
                  lambda: read_only.write_marks([("1001", OrderMarks(status="ok", eta=None))])):
        with pytest.raises(Skipped, match="needs the write_orders scope"):
            write()
    assert shop.calls == []


def test_customer_notes_are_not_a_shopify_feature(platform: ShopifyPlatform) -> None:
    with pytest.raises(ConnectorError, match="customer_notes"):
        platform.send_customer_note("1001", "hello", "ref-1")


# -- webhooks -----------------------------------------------------------------------------------

ADDRESS = "https://connector.example.com/webhooks/shopify"


def _subscription(number: int, topic: str, uri: str) -> dict:
    return {"id": f"gid://shopify/WebhookSubscription/{number}", "topic": topic, "uri": uri}


def _created(number: int, topic: str) -> dict:
    return {"webhookSubscriptionCreate": {"webhookSubscription": {
        "id": f"gid://shopify/WebhookSubscription/{number}", "topic": topic, "uri": ADDRESS}, "userErrors": []}}


def _deleted(number: int) -> dict:
    return {"webhookSubscriptionDelete": {"deletedWebhookSubscriptionId": f"gid://shopify/WebhookSubscription/{number}",
                                          "userErrors": []}}


def test_ensure_webhooks_subscribes_by_uri_and_removes_the_stale_one(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("WebhookSubscriptions", {"webhookSubscriptions": page([
        _subscription(1, "ORDERS_CREATE", ADDRESS),
        _subscription(2, "ORDERS_UPDATED", "https://old.example.com/webhooks/shopify"),  # APP_URL changed
        _subscription(4, "PRODUCTS_UPDATE", "https://elsewhere.example/hook"),  # not the connector's
    ])})
    shop.data("WebhookSubscriptionDelete", _deleted(2))
    shop.data("WebhookSubscriptionCreate", _created(3, "ORDERS_UPDATED"))
    hooks = platform.ensure_webhooks(ADDRESS, ["orders/create", "orders/updated", "customers/redact", "orders/create"])
    assert [(hook.id.rsplit("/", 1)[1], hook.topic, hook.action) for hook in hooks] == [
        ("2", "orders/updated", "removed"), ("1", "orders/create", "unchanged"), ("3", "orders/updated", "created")]
    assert shop.ops() == ["WebhookSubscriptions", "WebhookSubscriptionDelete", "WebhookSubscriptionCreate"]
    assert shop.calls[2].variables == {"topic": "ORDERS_UPDATED", "uri": ADDRESS}
    assert "uri" in shop.calls[0].query and "callbackUrl" not in shop.calls[0].query + shop.calls[2].query


def test_duplicates_and_unwanted_topics_at_our_address_are_removed(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("WebhookSubscriptions", {"webhookSubscriptions": page([
        _subscription(1, "APP_UNINSTALLED", ADDRESS), _subscription(2, "APP_UNINSTALLED", ADDRESS),
        _subscription(3, "ORDERS_DELETE", ADDRESS)])})
    shop.data("WebhookSubscriptionDelete", _deleted(2))
    shop.data("WebhookSubscriptionDelete", _deleted(3))
    hooks = platform.ensure_webhooks(ADDRESS, ["app/uninstalled"])
    assert [(hook.id.rsplit("/", 1)[1], hook.action, hook.note) for hook in hooks] == [
        ("2", "removed", "removed: a duplicate"), ("3", "removed", "removed: for a topic no longer wanted"),
        ("1", "unchanged", None)]


def test_ensure_webhooks_twice_creates_nothing_the_second_time(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    existing = {"webhookSubscriptions": page([_subscription(1, "APP_UNINSTALLED", ADDRESS),
                                              _subscription(2, "BULK_OPERATIONS_FINISH", ADDRESS)])}
    shop.data("WebhookSubscriptions", existing)
    hooks = platform.ensure_webhooks(ADDRESS, ["app/uninstalled", "bulk_operations/finish"])
    assert [(hook.action, hook.secret) for hook in hooks] == [("unchanged", None), ("unchanged", None)]
    assert shop.ops() == ["WebhookSubscriptions"]
