"""Fixtures of the cancel-and-refund tests: each sandbox store over a priced seed, and its adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.platforms.base import ShopAccess
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.woocommerce.adapter import WooPlatform
from connector.platforms.woocommerce.client import WooClient
from sandbox.common import ServerThread
from sandbox.shopify.app import sandbox_of
from sandbox.shopify.state import ShopifyState
from sandbox.woocommerce import WooState

DOMAIN = "cancel-outfitters.myshopify.com"
TOKEN = "shpat_cancel_0123456789abcdef"
LOCATION = 7001
KEY, SECRET = "ck_" + "c4nc" * 10, "cs_" + "e1ed" * 10


def shopify_platform(url: str) -> ShopifyPlatform:
    client = ShopifyClient(ShopAccess(platform="shopify", domain=DOMAIN, api_url=url, access_token=TOKEN),
                           api_version="2026-04", sleep=lambda _s: None)
    return ShopifyPlatform(client)


def woo_platform(url: str) -> WooPlatform:
    return WooPlatform(WooClient(ShopAccess(platform="woocommerce", domain=url, api_url=f"{url}/wp-json/wc/v3/",
                                            consumer_key=KEY, consumer_secret=SECRET), sleep=lambda _s: None))


def shopify_seed() -> dict[str, Any]:
    def variant(n: int, sku: str, price: str, available: int) -> dict[str, Any]:
        return {"id": 9000 + n, "sku": sku, "price": price, "inventoryItemId": 90_000 + n, "inventoryPolicy": "CONTINUE",
                "inventoryLevels": [{"locationId": LOCATION, "quantities": {"available": available, "committed": 0}}]}

    def order(number: int, lines: list[tuple[int, str, int]], **extra: Any) -> dict[str, Any]:
        return {"id": 6000 + number, "name": f"#{1000 + number}", "createdAt": "2026-03-02T09:00:00Z",
                "customer": {"id": 4000 + number, "firstName": "Ada", "email": f"c{number}@example.com"},
                "lineItems": [{"id": line_id, "sku": sku, "quantity": qty} for line_id, sku, qty in lines], **extra}

    return {"shop": DOMAIN, "taxRate": "0.08", "locations": [{"id": LOCATION, "name": "Main warehouse"}],
            "products": [{"id": 8001, "title": "Shirt", "variants": [variant(1, "SHIRT", "25.00", -2)]},
                         {"id": 8002, "title": "Mug", "variants": [variant(2, "MUG", "12.50", 40)]}],
            "orders": [order(1, [(5011, "SHIRT", 2), (5012, "MUG", 1)], shippingPrice="5.00"),
                       order(2, [(5021, "SHIRT", 1)], shippingPrice="5.00"),
                       order(3, [(5031, "SHIRT", 1)], gateway="manual")]}


@pytest.fixture
def shopify_store(tmp_path: Path) -> Iterator[tuple[ShopifyState, ShopifyPlatform]]:
    from sandbox.shopify import run

    path = tmp_path / "seed.json"
    path.write_text(json.dumps(shopify_seed()))
    server: ServerThread = run(0, path, api_secret="test_secret", access_token=TOKEN, restore_rate=1000.0)
    platform = shopify_platform(server.url)
    yield sandbox_of(server.app).state, platform
    platform.close()
    server.stop()


def woo_seed() -> dict[str, Any]:
    reduced = [{"key": "_reduced_stock", "value": "2"}]
    return {"site_title": "Cancel kitchen", "currency": "EUR", "tax_rate_percent": 19,
            "api_keys": [{"key_id": 1, "user_id": 1, "consumer_key": KEY, "consumer_secret": SECRET,
                          "permissions": "read_write"}],
            "products": [
                {"id": 10, "name": "Kettle", "type": "simple", "sku": "K-1", "price": "40.00", "manage_stock": True,
                 "stock_quantity": -4, "backorders": "notify", "stock_status": "onbackorder",
                 "date_created_gmt": "2026-01-01T09:00:00"},
                {"id": 11, "name": "Cup", "type": "simple", "sku": "C-1", "price": "8.00", "manage_stock": True,
                 "stock_quantity": 30, "backorders": "no", "stock_status": "instock",
                 "date_created_gmt": "2026-01-01T09:00:00"}],
            "orders": [
                {"id": 501, "status": "processing", "date_created_gmt": "2026-03-02T09:00:00", "shipping_total": 4.9,
                 "payment_method": "stripe", "billing": {"email": "lea@example.com"},
                 "line_items": [{"id": 5011, "product_id": 10, "quantity": 2, "meta_data": reduced},
                                {"id": 5012, "product_id": 11, "quantity": 1,
                                 "meta_data": [{"key": "_reduced_stock", "value": "1"}]}]},
                {"id": 502, "status": "processing", "date_created_gmt": "2026-03-02T10:00:00", "shipping_total": 4.9,
                 "payment_method": "stripe", "billing": {"email": "tom@example.com"},
                 "line_items": [{"id": 5021, "product_id": 10, "quantity": 2, "meta_data": reduced}]},
                {"id": 503, "status": "processing", "date_created_gmt": "2026-03-02T11:00:00",
                 "payment_method": "bacs", "billing": {"email": "ines@example.com"},
                 "line_items": [{"id": 5031, "product_id": 10, "quantity": 1,
                                 "meta_data": [{"key": "_reduced_stock", "value": "1"}]}]}]}


@pytest.fixture
def woo_store(tmp_path: Path) -> Iterator[tuple[ServerThread, WooPlatform]]:
    from sandbox.woocommerce import run

    path = tmp_path / "seed.json"
    path.write_text(json.dumps(woo_seed()))
    server = run(0, path)
    platform = woo_platform(server.url)
    yield server, platform
    platform.close()
    server.stop()


def state_of(server: ServerThread) -> WooState:
    from sandbox.woocommerce.app import sandbox_of

    return sandbox_of(server.app).state


