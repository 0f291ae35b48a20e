"""ShopifyPlatform reads: orders (paged, long orders, mapping) and stock per location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from shopify_support import FakeShopify, line_node, order_node, page

from connector.platforms.base import Platform, RemoteLine, StockRecord
from connector.platforms.shopify import adapter, documents
from connector.platforms.shopify.adapter import ShopifyPlatform


def test_it_is_a_platform_with_the_promised_capabilities(platform: ShopifyPlatform) -> None:
    assert isinstance(platform, Platform)
    assert platform.capabilities.tags and platform.capabilities.holds
    assert not platform.capabilities.customer_notes and platform.capabilities.marks_batch_size == 1


def test_orders_are_searched_by_update_time_and_paged_by_cursor(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrdersPage", {"orders": page([order_node(1), order_node(2)], cursor="c1")})
    shop.data("OrdersPage", {"orders": page([order_node(3)])})
    since = datetime(2026, 10, 1, 14, 0, 5, 999, tzinfo=timezone(timedelta(hours=2)))
    orders = list(platform.iter_orders(since))
    assert [order.platform_id for order in orders] == ["1", "2", "3"]
    first, second = shop.calls
    assert first.variables == {"first": adapter.ORDERS_PER_PAGE, "lineItems": adapter.LINE_ITEMS_PER_ORDER,
                               "search": "updated_at:>='2026-10-01T12:00:05Z'", "after": None}
    assert second.variables["after"] == "c1"
    assert "sortKey: UPDATED_AT" in documents.ORDERS_PAGE_QUERY


def test_without_a_start_time_every_order_is_read(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("OrdersPage", {"orders": page([])})
    assert list(platform.iter_orders(None)) == []
    assert shop.calls[0].variables["search"] is None


def test_an_order_with_more_line_items_than_the_page_is_completed(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    first_lines = [line_node(n) for n in range(1, 21)]
    shop.data("OrdersPage", {"orders": page([order_node(5, lines=page(first_lines, cursor="L20"))])})
    shop.data("OrderLineItems", {"order": {"id": "gid://shopify/Order/5",
                                           "lineItems": page([line_node(21), line_node(22)], cursor="L22")}})
    shop.data("OrderLineItems", {"order": {"id": "gid://shopify/Order/5", "lineItems": page([line_node(23)])}})
    (order,) = platform.iter_orders(None)
    assert [line.platform_id for line in order.lines] == [str(n) for n in range(1, 24)]
    assert [call.variables for call in shop.calls[1:]] == [
        {"id": "gid://shopify/Order/5", "first": adapter.LINE_ITEMS_PER_PAGE, "after": "L20"},
        {"id": "gid://shopify/Order/5", "first": adapter.LINE_ITEMS_PER_PAGE, "after": "L22"},
    ]


def test_graphql_orders_map_to_remote_orders(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    lines = page([line_node(1, "SKU-A", quantity=3, unfulfilled=1), line_node(2, None), line_node(3, "  "),
                  line_node(4, "SKU-D", variant=False)])
    shop.data("Order", {"order": order_node(820982911946154508, lines=lines)})
    order = platform.get_order("820982911946154508")
    assert order is not None
    assert order.platform_id == "820982911946154508" and order.name == "#820982911946154508"
    assert order.created_at == datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
    assert order.is_open and order.status == "open, paid"
    assert (order.customer_email, order.customer_first_name, order.customer_name, order.locale, order.customer_id) \
        == ("ada@example.com", "Ada", "Ada Lovelace", "en-GB", "77")
    assert order.lines[0] == RemoteLine(platform_id="1", sku="SKU-A", quantity=3, open_quantity=1,
                                        requires_shipping=True, variant_id="10", title="Item 1")
    # no SKU, blank SKU, deleted variant: kept, but with no SKU so never backordered
    assert [line.sku for line in order.lines[1:]] == [None, None, None]
    assert shop.calls[0].variables == {"id": "gid://shopify/Order/820982911946154508",
                                       "lineItems": adapter.LINE_ITEMS_PER_ORDER}


def test_a_cancelled_order_is_not_open(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("Order", {"order": order_node(9, cancelledAt="2026-10-03T00:00:00Z", customer=None)})
    order = platform.get_order("gid://shopify/Order/9")
    assert order is not None and not order.is_open and order.status == "cancelled, paid"
    assert order.customer_id is None and order.customer_name is None


def test_a_missing_order_is_none(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("Order", {"order": None})
    assert platform.get_order("404") is None


def _level(location: int, available: int, committed: int) -> dict:
    return {"location": {"id": f"gid://shopify/Location/{location}"},
            "quantities": [{"name": "available", "quantity": available}, {"name": "committed", "quantity": committed}]}


def _item(number: int, sku: str | None, tracked: bool, levels: dict) -> dict:
    return {"id": f"gid://shopify/InventoryItem/{number}", "sku": sku, "tracked": tracked, "inventoryLevels": levels}


def test_stock_is_available_plus_committed_per_location(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("InventoryItems", {"inventoryItems": page([
        _item(1, "SKU-A", True, page([_level(11, -2, 5), _level(12, 4, 0)])),
        _item(2, "SKU-B", False, page([_level(11, 0, 0)])),
        _item(3, "", True, page([_level(11, 9, 9)])),
    ], cursor="i3")})
    shop.data("InventoryItems", {"inventoryItems": page([_item(4, "SKU-C", True, page([]))])})
    stock = list(platform.iter_stock())
    assert stock == [
        StockRecord(sku="SKU-A", location_id="11", quantity=3, tracked=True, item_ref="1"),
        StockRecord(sku="SKU-A", location_id="12", quantity=4, tracked=True, item_ref="1"),
        StockRecord(sku="SKU-B", location_id="11", quantity=0, tracked=False, item_ref="2"),
        StockRecord(sku="SKU-C", location_id="default", quantity=0, tracked=True, item_ref="4"),
    ]
    assert shop.calls[0].variables == {"first": adapter.INVENTORY_ITEMS_PER_PAGE, "levels": adapter.LEVELS_PER_ITEM,
                                       "after": None}
    assert shop.calls[1].variables["after"] == "i3"


def test_an_item_stocked_at_many_locations_is_paged(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    shop.data("InventoryItems", {"inventoryItems": page([_item(1, "SKU-A", True, page([_level(1, 1, 0)], "lv1"))])})
    shop.data("InventoryItemLevels", {"inventoryItem": {"id": "gid://shopify/InventoryItem/1",
                                                        "inventoryLevels": page([_level(2, 2, 1)])}})
    assert [(s.location_id, s.quantity) for s in platform.iter_stock()] == [("1", 1), ("2", 3)]
    assert shop.calls[1].variables == {"id": "gid://shopify/InventoryItem/1", "first": adapter.LEVELS_PER_PAGE,
                                       "after": "lv1"}
