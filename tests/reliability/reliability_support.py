"""Shared pieces of the reliability suite: small sandbox stores, installed shops, a full sync-and-push
cycle, and looking through every table of the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import JSON, LargeBinary, String, Text, func, inspect, select
from sqlalchemy.types import TypeDecorator

from connector.pipeline.executor import run_due_actions
from connector.pipeline.inbox import process_due_deliveries
from connector.pipeline.outbox import reconcile_and_plan
from connector.pipeline.retry import RetryPolicy, no_jitter
from connector.pipeline.sync import sync_shop
from connector.platforms.base import Platform
from connector.platforms.shopify.adapter import ShopifyPlatform
from connector.platforms.shopify.client import ShopifyClient
from connector.platforms.woocommerce.adapter import WooPlatform
from connector.platforms.woocommerce.client import WooClient
from sandbox.common import FaultPlan, ServerThread
from sandbox.shopify import ShopifyState
from sandbox.shopify import create_app as create_shopify_sandbox
from sandbox.woocommerce import WooState
from sandbox.woocommerce import create_app as create_woo_sandbox
from connector.services import Services
from connector.store.models import Action, Base, InboxItem, Shop, utcnow
from connector.store.repo import shop_access

SHOPIFY_DOMAIN = "reliable-store.myshopify.com"
SHOPIFY_TOKEN = "shpat_reliability_SECRET_token_5f3a9c"
SHOPIFY_API_SECRET = "test_secret_key"  # the value tests/conftest.py's make_settings uses
WOO_KEY = "ck_" + "7" * 40
WOO_SECRET = "cs_" + "9" * 40
LOCATION = 70001
CHOICE_LINK = re.compile(r"/choice/[A-Za-z0-9._-]+")  # a signed token, different on every run
# Retry at once, many times: the suite checks the outcome of faults, not the waiting between tries.
EAGER_RETRY = RetryPolicy(max_attempts=60, jitter=no_jitter, base=timedelta(0))


def b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_seed(orders: int = 12) -> dict[str, Any]:
    """Four SKUs, two out of stock, and `orders` orders of two lines: about half end up backordered."""
    skus = [("REL-A", 0), ("REL-B", 3), ("REL-C", 0), ("REL-D", 50)]
    products = [{"id": 800 + n, "title": f"Product {sku}", "variants": [{
        "id": 900 + n, "sku": sku, "inventoryItemId": 9_007_199_254_740_000 + n, "inventoryPolicy": "CONTINUE",
        "inventoryLevels": [{"locationId": LOCATION, "quantities": {"available": stock}}]}]}
        for n, (sku, stock) in enumerate(skus)]
    records = [{
        "id": 6000 + n, "name": f"#{1001 + n}", "createdAt": f"2026-11-{1 + n % 20:02d}T10:00:00Z",
        "updatedAt": f"2026-11-{1 + n % 20:02d}T10:00:00Z", "displayFinancialStatus": "PAID",
        "customer": {"id": 400 + n, "firstName": f"Buyer{n}", "lastName": "Test",
                     "email": f"buyer{n}@example.com", "locale": "en"},
        "lineItems": [{"id": 7000 + 2 * n, "sku": skus[n % 4][0], "quantity": 1 + n % 2},
                      {"id": 7001 + 2 * n, "sku": skus[(n + 1) % 4][0], "quantity": 1}]}
        for n in range(orders)]
    return {"shop": SHOPIFY_DOMAIN, "locations": [{"id": LOCATION, "name": "Main"}], "products": products,
            "orders": records}


def woocommerce_seed(orders: int = 12) -> dict[str, Any]:
    """Four managed products, two oversold, and `orders` processing orders that reduced stock."""
    stock = {10: -4, 11: 3, 12: -2, 13: 50}
    products = [{"id": pid, "name": f"Product {pid}", "type": "simple", "sku": f"WREL-{pid}", "price": "10.00",
                 "manage_stock": True, "stock_quantity": quantity, "backorders": "notify", "stock_status": "instock",
                 "date_created_gmt": "2026-10-01T09:00:00"} for pid, quantity in stock.items()]
    records = [{
        "id": 500 + n, "status": "processing", "date_created_gmt": f"2026-11-{1 + n % 20:02d}T10:00:00",
        "customer_id": 40 + n, "billing": {"first_name": f"Buyer{n}", "last_name": "Test",
                                           "email": f"buyer{n}@example.com"},
        "line_items": [{"id": 900 + 2 * n, "product_id": 10 + n % 4, "quantity": 1,
                        "meta_data": [{"key": "_reduced_stock", "value": "1"}]},
                       {"id": 901 + 2 * n, "product_id": 10 + (n + 1) % 4, "quantity": 1,
                        "meta_data": [{"key": "_reduced_stock", "value": "1"}]}],
        "meta_data": []} for n in range(orders)]
    return {"site_url": None, "site_title": "Reliability store", "https_mode": False, "gmt_offset_hours": 0,
            "currency": "EUR", "customer_note_email_enabled": True,
            "api_keys": [{"key_id": 1, "user_id": 1, "consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET,
                          "permissions": "read_write", "description": "reliability suite"}],
            "products": products, "orders": records, "webhooks": []}


@dataclass
class Store:
    """A sandbox store running on a loopback thread."""

    platform: str
    server: ServerThread
    faults: FaultPlan

    @property
    def url(self) -> str:
        return self.server.url

    def state(self) -> list[dict[str, Any]]:
        """What a merchant would see on every order, without ids and times that differ run to run."""
        if self.platform == "shopify":
            orders = requests.get(f"{self.url}/_sandbox/orders", timeout=10).json()
            return [{"name": o["name"], "tags": sorted(o["tags"]), "note": o["note"], "metafields": o["metafields"],
                     "holds": sorted((h["handle"], h["reason"], h["reason_notes"]) for h in o["holds"])}
                    for o in orders]
        seen = []
        for order_id in range(500, 500 + len(woocommerce_seed()["orders"])):
            order = requests.get(f"{self.url}/_sandbox/orders/{order_id}", timeout=10).json()
            seen.append({
                "id": order_id,
                "meta": sorted((m["key"], _without_times(m)) for m in order["meta_data"] if m["key"].startswith("_backorder")),
                "notes": sorted((CHOICE_LINK.sub("/choice/TOKEN", n["note"]), bool(n["customer_note"]))
                                for n in order["notes"]
                                if n.get("added_by_user") or n["customer_note"] or "backorder" in n["note"].lower()),
                "emails": len(order["emails"]),
            })
        return seen


def start_store(platform: str, faults: FaultPlan | None = None, webhook_url: str | None = None) -> Store:
    plan = faults or FaultPlan(seed=1)
    if platform == "shopify":
        app = create_shopify_sandbox(ShopifyState.from_seed(shopify_seed()), api_secret=SHOPIFY_API_SECRET,
                                     access_token=SHOPIFY_TOKEN, webhook_url=webhook_url, faults=plan,
                                     restore_rate=1e6)  # the clients here skip their waits: refill at once
    else:
        app = create_woo_sandbox(WooState.from_seed(woocommerce_seed()), faults=plan)
    return Store(platform, ServerThread(app).start(), plan)


def install_shop(services: Services, store: Store) -> int:
    """The shop row an install would leave: credentials sealed, the API pointed at the sandbox."""
    with services.db.session() as session:
        if store.platform == "shopify":
            shop = Shop(platform="shopify", domain=SHOPIFY_DOMAIN, name="Reliability", settings={}, api_url=store.url)
            shop.credentials = services.box.seal({"access_token": SHOPIFY_TOKEN})
        else:
            shop = Shop(platform="woocommerce", domain=store.url, name="Reliability", settings={},
                        api_url=f"{store.url}/wp-json/wc/v3")
            shop.credentials = services.box.seal({"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET})
        session.add(shop)
        session.flush()
        return shop.id


def quick_platform(services: Services, shop: Shop) -> Platform:
    """The real clients with their retries kept but their waits skipped."""
    access = shop_access(shop, services.box)
    if shop.platform == "shopify":
        return ShopifyPlatform(ShopifyClient(access, sleep=lambda _seconds: None, max_attempts=4))
    return WooPlatform(WooClient(access, sleep=lambda _seconds: None, max_attempts=4, timeout=10))


def _pending(services: Services) -> int:
    with services.db.session() as session:
        actions = session.scalar(select(func.count()).select_from(Action).where(Action.status == "pending"))
        deliveries = session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.status == "pending"))
    return int(actions or 0) + int(deliveries or 0)


def run_cycle(services: Services, shop_id: int, *, rounds: int = 40, patience: float = 30.0) -> None:
    """Sync, reconcile and push until nothing is left pending; a sync that fails outright is tried again.

    Actions refused with a Retry-After wait for it; the cycle runs them as if that time had passed."""
    for _ in range(rounds):
        with services.db.session() as session:
            shop = session.get(Shop, shop_id)
            assert shop is not None
        platform = services.platform_for(shop)
        try:
            sync_shop(services.db, shop_id, platform, full=True)
        except Exception:  # noqa: BLE001 - a fault the client's own retries did not outlast: the next round retries
            continue
        finally:
            platform.close()
        break
    else:
        raise AssertionError("sync never completed")
    reconcile_and_plan(services, shop_id)
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        handled = run_due_actions(services, limit=500, retry=EAGER_RETRY, now=utcnow() + timedelta(hours=1))
        handled += process_due_deliveries(services, limit=500, retry=EAGER_RETRY)
        if handled == 0:
            if _pending(services) == 0:
                return
            time.sleep(0.1)  # a delivery waiting out a Retry-After
    raise AssertionError("actions or deliveries still pending")


def table_counts(services: Services) -> dict[str, int]:
    with services.db.session() as session:
        return {table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables}


def _is_textual(column_type: Any) -> bool:
    kind = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(kind, (String, Text, JSON, LargeBinary))


def every_text_value(services: Services) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) for every textual cell of every table in the database."""
    names = set(inspect(services.db.engine).get_table_names())
    with services.db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in names:
                continue
            columns = [column for column in table.columns if _is_textual(column.type)]
            if not columns:
                continue
            for row in session.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    yield table.name, column.name, text


def database_files(database_url: str) -> bytes:
    """Every byte SQLite wrote for the database (main file, WAL, shared memory); empty for other engines."""
    if not database_url.startswith("sqlite:///"):
        return b""
    path = Path(database_url.removeprefix("sqlite:///"))
    return b"".join(part.read_bytes() for part in sorted(path.parent.glob(path.name + "*")))


def _without_times(meta: dict[str, Any]) -> str:
    """A meta value as compared between runs: the notice log keeps the references, not the times they went."""
    if meta["key"] == "_backorder_notices":
        return json.dumps(sorted(json.loads(meta["value"])))
    return str(meta["value"])
