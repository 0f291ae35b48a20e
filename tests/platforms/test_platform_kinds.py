"""Each platform's kind declares its inbound side: topics, intake path, events, stock rules, capabilities."""

from __future__ import annotations

import json

import pytest

from connector.errors import ConfigError, InputError
from connector.platforms import PLATFORMS, kind_of
from connector.platforms.inbound import EventKind, PlatformKind
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.kind import ShopifyKind
from connector.platforms.woocommerce.adapter import WooPlatform
from connector.platforms.woocommerce.kind import WooKind


def body(data: object) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.parametrize("name", PLATFORMS)
def test_every_platform_declares_its_whole_inbound_side(name: str) -> None:
    kind = kind_of(name)
    assert issubclass(kind, PlatformKind) and kind.name == name
    assert set(kind.webhook_topics) <= set(kind.topic_events), "every subscribed topic has a meaning"
    assert kind.intake_path(7).startswith("/webhooks/")
    assert kind.capabilities.marks_batch_size >= 1


def test_the_adapters_are_their_kinds() -> None:
    assert issubclass(ShopifyPlatform, ShopifyKind) and issubclass(WooPlatform, WooKind)


def test_an_unknown_platform_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="magento"):
        kind_of("magento")


def test_intake_paths_and_subscriptions() -> None:
    assert ShopifyKind.intake_path(7) == "/webhooks/shopify"
    assert WooKind.intake_path(7) == "/webhooks/woocommerce/7"
    assert ShopifyKind.subscribed_topics(app_declared=True) == ()
    assert ShopifyKind.subscribed_topics(app_declared=False) == ShopifyKind.webhook_topics
    assert WooKind.subscribed_topics(app_declared=True) == WooKind.webhook_topics  # nothing to declare it in


def test_shopify_deliveries_become_events() -> None:
    order = {"id": 5, "name": "#1005", "created_at": "2026-11-02T10:00:00Z", "line_items": []}
    event = ShopifyKind.event_from_delivery("orders/updated", body(order), "delivery 1")
    assert event.kind is EventKind.ORDER_CHANGED and event.order is not None and event.order.platform_id == "5"
    stock = ShopifyKind.event_from_delivery("inventory_levels/update", body({"inventory_item_id": 42}), "delivery 2")
    assert (stock.kind, stock.item_ref) == (EventKind.STOCK_CHANGED, "42")
    redact = ShopifyKind.event_from_delivery(
        "customers/redact", body({"customer": {"id": 9, "email": "a@example.com"}, "orders_to_redact": [5, 6]}), "d")
    assert (redact.customer_id, redact.email, redact.order_ids) == ("9", "a@example.com", ("5", "6"))
    bulk = ShopifyKind.event_from_delivery(
        "bulk_operations/finish", body({"admin_graphql_api_id": "gid://shopify/BulkOperation/1", "status": "completed"}),
        "d")
    assert (bulk.kind, bulk.bulk_operation, bulk.bulk_status) == (EventKind.BULK_FINISHED,
                                                                  "gid://shopify/BulkOperation/1", "COMPLETED")
    assert ShopifyKind.event_from_delivery("app/uninstalled", b"not json", "d").kind is EventKind.UNINSTALLED


def test_woocommerce_deliveries_become_events() -> None:
    deleted = WooKind.event_from_delivery("order.deleted", body({"id": 12}), "delivery 3")
    assert (deleted.kind, deleted.order_id) == (EventKind.ORDER_DELETED, "12")
    product = WooKind.event_from_delivery("product.updated", body({"id": 40}), "delivery 4")
    assert (product.kind, product.item_ref) == (EventKind.STOCK_CHANGED, "40")
    with pytest.raises(InputError, match=r"delivery 5 \(order.deleted\).*no order id"):
        WooKind.event_from_delivery("order.deleted", body({}), "delivery 5")


def test_a_body_that_is_not_a_json_object_names_the_delivery() -> None:
    with pytest.raises(InputError, match=r"delivery 6 \(woocommerce order.updated\).*not JSON"):
        WooKind.event_from_delivery("order.updated", b"{", "delivery 6")
    with pytest.raises(InputError, match="not a JSON object"):
        ShopifyKind.event_from_delivery("orders/create", b"[1]", "delivery 7")
