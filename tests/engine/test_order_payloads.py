"""Platform order JSON -> RemoteOrder -> engine Order: ids, open quantities, times and bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.errors import InputError
from connector.platforms.shopify.payloads import engine_order_from_payload as shopify_engine_order
from connector.platforms.shopify.payloads import order_from_webhook
from connector.platforms.woocommerce.payloads import engine_order_from_payload as woo_engine_order
from connector.platforms.woocommerce.payloads import order_from_rest

HUGE = 18446744073709551617  # beyond 2**64, far beyond 2**53


def shopify_order(**overrides):
    order = {
        "id": HUGE, "name": "#1001", "created_at": "2026-11-20T10:00:00-05:00",
        "updated_at": "2026-11-21T10:00:00-05:00", "cancelled_at": None, "financial_status": "paid",
        "email": "ada@example.com", "customer_locale": "en",
        "customer": {"id": 7, "first_name": "Ada", "last_name": "Lovelace", "email": "other@example.com"},
        "line_items": [
            {"id": HUGE + 1, "sku": "MUG-RED", "quantity": 3, "fulfillable_quantity": 1,
             "requires_shipping": True, "variant_id": None, "title": "Mug"},
            {"id": 2, "sku": "", "quantity": 1, "requires_shipping": False},
        ],
    }
    order.update(overrides)
    return order


def test_shopify_order_keeps_big_ids_exact_and_reads_open_quantity() -> None:
    order = order_from_webhook(shopify_order())
    assert order.platform_id == str(HUGE)
    assert order.lines[0].platform_id == str(HUGE + 1)
    assert (order.lines[0].quantity, order.lines[0].open_quantity) == (3, 1)
    assert order.created_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert order.created_at.tzinfo is UTC
    assert (order.is_open, order.status) == (True, "open, paid")
    assert (order.customer_email, order.customer_first_name, order.customer_name) == (
        "ada@example.com", "Ada", "Ada Lovelace")
    assert (order.locale, order.customer_id) == ("en", "7")


def test_shopify_line_without_fulfillable_quantity_is_wholly_open_and_blank_sku_is_none() -> None:
    line = order_from_webhook(shopify_order()).lines[1]
    assert (line.sku, line.open_quantity, line.requires_shipping) == (None, 1, False)


def test_shopify_cancelled_order_is_not_open() -> None:
    order = order_from_webhook(shopify_order(cancelled_at="2026-11-21T00:00:00Z"))
    assert (order.is_open, order.status) == (False, "cancelled, paid")


def test_shopify_fast_path_matches_the_remote_record() -> None:
    from connector.platforms.shopify.payloads import ORDER_ADAPTER
    payload = ORDER_ADAPTER.validate_python(shopify_order())
    assert shopify_engine_order(payload) == order_from_webhook(shopify_order()).engine_order()


@pytest.mark.parametrize(("change", "expected"), [
    ({"created_at": None}, "created_at"),
    ({"line_items": [{"id": 1, "sku": "A", "quantity": -1}]}, "line_items[0].quantity"),
    ({"line_items": [{"sku": "A", "quantity": 1}]}, "line_items[0].id"),
])
def test_shopify_malformed_order_names_the_field(change, expected) -> None:
    with pytest.raises(InputError) as caught:
        order_from_webhook(shopify_order(**change), source="webhook 42")
    assert str(caught.value).startswith(f"webhook 42: {expected}")


def woo_order(**overrides):
    order = {
        "id": 727, "number": "727", "status": "processing", "date_created_gmt": "2026-11-03T10:00:00",
        "date_modified_gmt": "2026-11-04T10:00:00", "customer_id": 0,
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "line_items": [{"id": 301, "name": "Mug &ndash; red", "product_id": 20, "variation_id": 0, "quantity": 2,
                        "sku": "MUG-RED", "meta_data": [{"id": 1, "key": "_reduced_stock", "value": "2"}]}],
    }
    order.update(overrides)
    return order


def test_woocommerce_order_reads_gmt_times_status_and_meta() -> None:
    order = order_from_rest(woo_order())
    assert order.created_at == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    assert (order.platform_id, order.name, order.is_open, order.customer_id) == ("727", "#727", True, None)
    line = order.lines[0]
    assert (line.platform_id, line.open_quantity, line.stock_reduced, line.variant_id, line.title) == (
        "301", 2, 2, "20", "Mug – red")


@pytest.mark.parametrize(("status", "is_open", "open_quantity"), [
    ("processing", True, 2), ("on-hold", True, 2), ("pending", False, 2), ("completed", False, 0),
    ("cancelled", False, 0),
])
def test_woocommerce_open_statuses(status, is_open, open_quantity) -> None:
    order = order_from_rest(woo_order(status=status))
    assert (order.is_open, order.lines[0].open_quantity) == (is_open, open_quantity)
    from connector.platforms.woocommerce.payloads import ORDER_ADAPTER
    assert woo_engine_order(ORDER_ADAPTER.validate_python(woo_order(status=status))) == order.engine_order()


def test_woocommerce_missing_status_is_input_error() -> None:
    data = woo_order()
    del data["status"]
    with pytest.raises(InputError, match="status"):
        order_from_rest(data)


def test_shopify_line_with_null_variant_has_no_sku_on_both_paths() -> None:
    from connector.platforms.shopify.payloads import ORDER_ADAPTER

    data = shopify_order()
    data["line_items"][0]["variant_id"] = None
    assert order_from_webhook(data).lines[0].sku is None
    assert shopify_engine_order(ORDER_ADAPTER.validate_python(data)).lines[0].sku is None
