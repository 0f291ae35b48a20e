"""What the store grants: protected customer data withheld (partial answers kept, anything else loud), the
scopes checked against the ones asked for, and the 60-day window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from shopify_support import FakeShopify, order_node, page

from connector.errors import AuthError, UserError
from connector.platforms.shopify import documents as docs
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.shopify.scopes import access_report, has_scope, missing_scopes, requested_scopes

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
DENIED = {"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/docs/apps/launch/protected-customer-data"}


def denied(*path: str | int) -> dict:
    return {"message": "This app is not approved to access protected customer data.", "path": list(path),
            "extensions": DENIED}


def withheld_order(number: int) -> dict:
    return order_node(number, email=None, customer={"id": f"gid://shopify/Customer/{number}", "firstName": None,
                                                    "lastName": None, "displayName": "•••"})


def test_an_order_page_with_contact_fields_withheld_is_kept_and_marked(platform: ShopifyPlatform,
                                                                       shop: FakeShopify) -> None:
    shop.raw("OrdersPage", 200, {
        "data": {"orders": page([withheld_order(1), order_node(2)])},
        "errors": [denied("orders", "nodes", 0, "email"), denied("orders", "nodes", 0, "customer", "firstName")]})
    first, second = platform.iter_orders(None)
    assert (first.platform_id, first.contact_withheld, first.customer_email, first.customer_name) == ("1", True, None, None)
    assert (second.contact_withheld, second.customer_email, second.customer_name) == (False, "ada@example.com",
                                                                                      "Ada Lovelace")
    assert first.lines and first.name == "#1"  # the rest of the answer is used
    assert platform.contact_denied


def test_a_withheld_name_alone_leaves_the_contact_available(platform: ShopifyPlatform, shop: FakeShopify) -> None:
    node = order_node(1, customer={"id": "gid://shopify/Customer/1", "firstName": None, "lastName": None,
                                   "displayName": "•••"})
    shop.raw("Order", 200, {"data": {"order": node}, "errors": [denied("order", "customer", "firstName")]})
    order = platform.get_order("1")
    assert order is not None and not order.contact_withheld and order.customer_email == "ada@example.com"
    assert order.customer_name is None and order.customer_first_name is None  # "•••" is no name


@pytest.mark.parametrize("errors", [
    [{"message": "Access denied for orders field.", "path": ["orders"], "extensions": {"code": "ACCESS_DENIED"}}],
    [denied("orders", "nodes", 0, "email"), {"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}],
    [{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}],  # no path: nothing says what is left valid
])
def test_any_other_error_still_fails_loudly(platform: ShopifyPlatform, shop: FakeShopify, errors: list[dict]) -> None:
    shop.raw("OrdersPage", 200, {"data": {"orders": page([withheld_order(1)])}, "errors": errors})
    with pytest.raises((AuthError, UserError)):
        list(platform.iter_orders(None))


def test_writes_never_accept_a_partial_answer(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.raw("OrderTags", 200, {"data": {"order": {"id": "gid://shopify/Order/1", "tags": []}},
                                "errors": [denied("order", "email")]})
    with pytest.raises(AuthError):
        client.execute(docs.ORDER_TAGS_QUERY, {"id": "gid://shopify/Order/1"})


def test_check_access_reads_the_granted_scopes_and_notices_withheld_contacts(client: ShopifyClient,
                                                                             shop: FakeShopify) -> None:
    platform = ShopifyPlatform(client, now=lambda: NOW)
    granted = ["write_orders", "read_inventory", "write_products", "write_merchant_managed_fulfillment_orders"]
    shop.raw("Access", 200, {"data": {"currentAppInstallation": {"accessScopes": [{"handle": h} for h in granted]},
                                      "orders": {"nodes": [{"id": "gid://shopify/Order/1", "email": None}]}},
                             "errors": [denied("orders", "nodes", 0, "email")]})
    report = platform.check_access()
    assert report.missing == ("write_third_party_fulfillment_orders", "read_all_orders")
    assert report.readable_since == NOW - timedelta(days=60)
    assert [problem.key for problem in report.problems] == ["write_third_party_fulfillment_orders", "read_all_orders",
                                                            "protected_customer_data"]
    assert "Level 2" in report.problems[-1].detail and "Partner Dashboard" in report.problems[-1].detail
    assert platform.granted == tuple(granted) and platform.contact_denied
    assert report.as_setting()["missing"] == ["write_third_party_fulfillment_orders", "read_all_orders"]


def test_scopes_write_includes_read_but_not_read_all_orders() -> None:
    assert has_scope(["write_orders"], "read_orders") and not has_scope(["write_orders"], "read_all_orders")
    assert missing_scopes(["write_orders", "read_all_orders"], ["read_orders", "read_all_orders", "read_inventory"]) == (
        "read_inventory",)
    assert requested_scopes("write_orders, read_inventory") == ("write_orders", "read_inventory", "read_all_orders")
    assert requested_scopes("write_orders,read_all_orders", read_all_orders=False) == ("write_orders",)
    everything = access_report(["write_orders", "read_all_orders"], ["write_orders"], now=NOW)
    assert everything.problems == () and everything.readable_since is None
    # turned off and not granted: no problem reported, but the 60-day window still applies
    assert access_report(["write_orders"], ["write_orders"], now=NOW).readable_since == NOW - timedelta(days=60)


def test_without_read_orders_the_report_still_names_what_is_missing(client: ShopifyClient, shop: FakeShopify) -> None:
    platform = ShopifyPlatform(client, now=lambda: NOW)
    shop.raw("Access", 200, {"data": {"currentAppInstallation": None, "orders": None}, "errors": [
        {"message": "Access denied for orders field. Required access: `read_orders` access scope.",
         "path": ["orders"], "extensions": {"code": "ACCESS_DENIED"}}]})
    shop.data("AccessScopes", {"currentAppInstallation": {"accessScopes": [{"handle": "read_inventory"}]}})
    report = platform.check_access()
    assert report.missing[0] == "write_orders" and "nothing works" in report.problems[0].detail
