"""Seeds for the sandbox stores with any number of orders: the sync and push-back benchmarks' stores."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

SHOP_DOMAIN = "bench-store.myshopify.com"
LOCATION_ID = 70001
WOO_CONSUMER_KEY = "ck_" + "b" * 40
WOO_CONSUMER_SECRET = "cs_" + "c" * 40
START = datetime(2026, 8, 1, tzinfo=UTC)


def _stamp(index: int, orders: int) -> datetime:
    return START + timedelta(seconds=int(100 * 86400 * index / max(orders, 1)))


def _short(n: int, all_short: bool) -> bool:
    return all_short or n % 3 == 0


def shopify_seed(orders: int, *, skus: int = 200, seed: int = 3, all_short: bool = False) -> dict[str, Any]:
    """A Shopify sandbox seed: `skus` variants (a third out of stock, or all with `all_short`) and `orders`
    open orders of 1-4 lines."""
    rng = random.Random(seed)
    products = [{
        "id": 800_000 + n, "title": f"Product {n}",
        "variants": [{"id": 900_000 + n, "sku": f"SKU-{n:04d}", "title": "Default Title",
                      "inventoryItemId": 9_007_199_254_740_000 + n, "inventoryPolicy": "CONTINUE",
                      "inventoryLevels": [{"locationId": LOCATION_ID,
                                           "quantities": {"available": 0 if _short(n, all_short) else rng.randrange(1, 40)}}]}],
    } for n in range(skus)]
    line_id = 5_000_000
    records = []
    for index in range(orders):
        stamp = _stamp(index, orders).isoformat().replace("+00:00", "Z")
        lines = []
        for _ in range(rng.choice((1, 2, 2, 3, 4))):
            line_id += 1
            lines.append({"id": line_id, "sku": f"SKU-{rng.randrange(skus):04d}", "quantity": rng.choice((1, 1, 2, 3))})
        records.append({
            "id": 6_000_000 + index, "name": f"#{1001 + index}", "createdAt": stamp, "updatedAt": stamp,
            "displayFinancialStatus": "PAID",
            "customer": {"id": 400_000 + index, "firstName": "Buyer", "lastName": f"No{index}",
                         "email": f"buyer{index}@example.com", "locale": "en"},
            "lineItems": lines,
        })
    return {"shop": SHOP_DOMAIN, "locations": [{"id": LOCATION_ID, "name": "Main warehouse"}],
            "products": products, "orders": records}


def woocommerce_seed(orders: int, *, skus: int = 200, seed: int = 3, all_short: bool = False) -> dict[str, Any]:
    """A WooCommerce sandbox seed with `orders` processing orders over `skus` simple products; stock is as the
    store shows it after reducing it for every order, so a short product's stock is negative (oversold)."""
    rng = random.Random(seed)
    products = [{
        "id": 10 + n, "name": f"Product {n}", "type": "simple", "sku": f"WC-{n:04d}", "price": "20.00",
        "manage_stock": True, "stock_quantity": -rng.randrange(50, 500) if _short(n, all_short) else rng.randrange(1, 40),
        "backorders": "notify",
        "stock_status": "instock", "date_created_gmt": "2026-07-01T09:00:00",
    } for n in range(skus)]
    line_id = 0
    records = []
    for index in range(orders):
        stamp = _stamp(index, orders).strftime("%Y-%m-%dT%H:%M:%S")
        lines = []
        for _ in range(rng.choice((1, 2, 2, 3, 4))):
            line_id += 1
            quantity = rng.choice((1, 1, 2, 3))
            lines.append({"id": line_id, "product_id": 10 + rng.randrange(skus), "quantity": quantity,
                          "meta_data": [{"key": "_reduced_stock", "value": str(quantity)}]})
        records.append({
            "id": 100_000 + index, "status": "processing", "date_created_gmt": stamp, "date_modified_gmt": stamp,
            "customer_id": 1 + index % 5000,
            "billing": {"first_name": "Buyer", "last_name": f"No{index}", "email": f"buyer{index}@example.com"},
            "line_items": lines, "meta_data": [],
        })
    return {"site_url": None, "site_title": "Bench store", "https_mode": False, "gmt_offset_hours": 0,
            "currency": "EUR", "customer_note_email_enabled": True,
            "api_keys": [{"key_id": 1, "user_id": 1, "consumer_key": WOO_CONSUMER_KEY,
                          "consumer_secret": WOO_CONSUMER_SECRET, "permissions": "read_write",
                          "description": "benchmark key"}],
            "products": products, "orders": records, "webhooks": []}
