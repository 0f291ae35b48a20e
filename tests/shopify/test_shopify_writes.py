"""ShopifyPlatform writes: tags, metafields, the note block, holds and webhooks; each one only when needed."""

from __future__ import annotations

import json
from datetime import date

import pytest
from shopify_support import FakeShopify, page

from connector.errors import ConnectorError, NotFoundError
from connector.platforms.base import HOLD_HANDLE, HoldRequest, LineMark, OrderMarks, WebhookInfo
from connector.platforms.shopify.adapter import ShopifyPlatform
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


def _fo(number: int, lines: list[dict], holds: list[dict] | None = None, status: str = "OPEN") -> dict:
    return {"id": f"gid://shopify/FulfillmentOrder/{number}", "status": status,
            "fulfillmentHolds": holds or [], "lineItems": page(lines)}


def _fos(*nodes: dict) -> dict:
    return {"order": {"id": ORDER, "fulfillmentOrders": page(list(nodes))}}


OUR_HOLD = {"id": "gid://shopify/FulfillmentHold/1", "handle": HOLD_HANDLE, "reason": "INVENTORY_OUT_OF_STOCK"}
OTHER_HOLD = {"id": "gid://shopify/FulfillmentHold/2", "handle": "fraud-app", "reason": "HIGH_RISK_OF_FRAUD"}


def test_hold_places_our_hold_on_the_backordered_lines(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(
        _fo(1, [_fo_line(11, 5)], holds=[OUR_HOLD], status="ON_HOLD"),  # already held by us: skipped
        _fo(2, [_fo_line(21, 6, remaining=3), _fo_line(22, 7), _fo_line(23, 8, remaining=0)], holds=[OTHER_HOLD]),
        _fo(3, [_fo_line(31, 6)], status="CLOSED"),
    ))
    shop.data("FulfillmentOrderHold", {"fulfillmentOrderHold": {"fulfillmentHold": {"id": "h", "handle": HOLD_HANDLE},
                                                                "remainingFulfillmentOrder": None, "userErrors": []}})
    request = HoldRequest(line_ids=("5", "6", "8"), reason="UNKNOWN_DELIVERY_DATE", notes="waiting for supplier")
    assert platform.hold("1001", request) is True
    assert shop.ops() == ["FulfillmentOrders", "FulfillmentOrderHold"]
    assert shop.calls[1].variables == {"id": "gid://shopify/FulfillmentOrder/2", "hold": {
        "reason": "UNKNOWN_DELIVERY_DATE", "reasonNotes": "waiting for supplier", "handle": HOLD_HANDLE,
        "notifyMerchant": False,
        "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/21", "quantity": 3}]}}


def test_hold_sends_nothing_when_already_held(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(_fo(1, [_fo_line(11, 5)], holds=[OUR_HOLD], status="ON_HOLD")))
    assert platform.hold("1001", HoldRequest(line_ids=("5",), reason="INVENTORY_OUT_OF_STOCK")) is False
    assert shop.ops() == ["FulfillmentOrders"]


def test_release_frees_only_our_holds_by_id(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(
        _fo(1, [_fo_line(11, 5)], holds=[OUR_HOLD, OTHER_HOLD], status="ON_HOLD"),
        _fo(2, [_fo_line(21, 6)], holds=[OTHER_HOLD], status="ON_HOLD"),
    ))
    shop.data("FulfillmentOrderReleaseHold", {"fulfillmentOrderReleaseHold": {"fulfillmentOrder": None,
                                                                              "userErrors": []}})
    assert platform.release("1001") is True
    assert shop.ops() == ["FulfillmentOrders", "FulfillmentOrderReleaseHold"]
    assert shop.calls[1].variables == {"id": "gid://shopify/FulfillmentOrder/1",
                                       "holdIds": ["gid://shopify/FulfillmentHold/1"]}


def test_release_without_our_holds_sends_nothing(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("FulfillmentOrders", _fos(_fo(2, [_fo_line(21, 6)], holds=[OTHER_HOLD], status="ON_HOLD")))
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


def test_customer_notes_are_not_a_shopify_feature(platform: ShopifyPlatform) -> None:
    with pytest.raises(ConnectorError, match="customer_notes"):
        platform.send_customer_note("1001", "hello", "ref-1")


# -- webhooks -----------------------------------------------------------------------------------

ADDRESS = "https://connector.example.com/webhooks/shopify"


def _subscription(number: int, topic: str, url: str) -> dict:
    return {"id": f"gid://shopify/WebhookSubscription/{number}", "topic": topic,
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": url}}


def test_ensure_webhooks_creates_only_the_missing_ones(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("WebhookSubscriptions", {"webhookSubscriptions": page([
        _subscription(1, "ORDERS_CREATE", ADDRESS),
        _subscription(2, "ORDERS_UPDATED", "https://old.example.com/hook"),
    ])})
    shop.data("WebhookSubscriptionCreate", {"webhookSubscriptionCreate": {
        "webhookSubscription": {"id": "gid://shopify/WebhookSubscription/3", "topic": "ORDERS_UPDATED"},
        "userErrors": []}})
    hooks = platform.ensure_webhooks(ADDRESS, ["orders/create", "orders/updated", "customers/redact", "orders/create"])
    assert hooks == [WebhookInfo("gid://shopify/WebhookSubscription/1", "orders/create", "unchanged"),
                     WebhookInfo("gid://shopify/WebhookSubscription/3", "orders/updated", "created")]
    assert shop.ops() == ["WebhookSubscriptions", "WebhookSubscriptionCreate"]
    assert shop.calls[1].variables == {"topic": "ORDERS_UPDATED", "callbackUrl": ADDRESS}


def test_ensure_webhooks_twice_creates_nothing_the_second_time(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    existing = {"webhookSubscriptions": page([_subscription(1, "APP_UNINSTALLED", ADDRESS),
                                              _subscription(2, "BULK_OPERATIONS_FINISH", ADDRESS)])}
    shop.data("WebhookSubscriptions", existing)
    hooks = platform.ensure_webhooks(ADDRESS, ["app/uninstalled", "bulk_operations/finish"])
    assert [(hook.action, hook.secret) for hook in hooks] == [("unchanged", None), ("unchanged", None)]
    assert shop.ops() == ["WebhookSubscriptions"]
