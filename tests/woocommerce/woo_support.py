"""Builders shared by the WooCommerce client tests: shop access, a client that never sleeps, REST JSON."""

from __future__ import annotations

from typing import Any

from connector.platforms.base import ShopAccess
from connector.platforms.woocommerce.client import WooClient

KEY = "ck_0123456789abcdefKEY"
SECRET = "cs_fedcba9876543210SECRET"
STORE = "https://shop.example"
API = f"{STORE}/wp-json/wc/v3/"


def access(domain: str = STORE, **overrides: Any) -> ShopAccess:
    return ShopAccess(platform="woocommerce", domain=domain, consumer_key=KEY, consumer_secret=SECRET, **overrides)


def client(domain: str = STORE, sleeps: list[float] | None = None, **options: Any) -> WooClient:
    recorded = sleeps if sleeps is not None else []
    options.setdefault("jitter", lambda ceiling: ceiling)
    return WooClient(access(domain, **options.pop("access_options", {})), sleep=recorded.append, **options)


def order_json(order_id: int, modified: str = "2026-11-01T10:00:00", meta: dict[str, str] | None = None,
               status: str = "processing") -> dict[str, Any]:
    return {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "date_created_gmt": "2026-10-01T09:00:00",
        "date_modified_gmt": modified,
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "line_items": [{"id": order_id * 10, "sku": "SKU-1", "quantity": 2, "product_id": 5, "variation_id": 0,
                        "name": "Widget &ndash; blue", "meta_data": []}],
        "meta_data": [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate((meta or {}).items(), 1)],
    }


def wc_error(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **data}}
