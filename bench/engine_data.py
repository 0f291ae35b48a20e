"""Generates the engine benchmark's inputs: Shopify order webhooks, a stock CSV and supplier feeds."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ORDER_ID_BASE = 820_982_911_946_000_000
LINE_ID_BASE = 487_817_672_276_000_000
VARIANT_ID_BASE = 40_000_000_000_000
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth")


@dataclass(frozen=True, slots=True)
class EngineInputs:
    orders: Path
    inventory: Path
    feeds: tuple[Path, ...]
    order_count: int
    line_count: int
    sku_count: int
    feed_rows: int
    as_of: date


def sku_name(number: int) -> str:
    return f"SKU-{number:05d}"


def _line(rng: random.Random, line_id: int, sku_count: int) -> dict[str, object]:
    number = min(int(rng.paretovariate(1.2)) - 1, sku_count - 1)  # a few SKUs sell far more than the rest
    number = (number * 7919 + rng.randrange(3)) % sku_count if number < 50 else rng.randrange(sku_count)
    quantity = rng.choice((1, 1, 1, 2, 2, 3, 5))
    return {
        "id": line_id, "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
        "variant_id": VARIANT_ID_BASE + number, "product_id": 7_000_000_000 + number // 4,
        "title": f"Product {number // 4}", "variant_title": f"Variant {number % 4}", "name": f"Product {number // 4}",
        "sku": sku_name(number), "vendor": "Acme", "quantity": quantity, "current_quantity": quantity,
        "fulfillable_quantity": quantity, "fulfillment_status": None, "requires_shipping": True,
        "taxable": True, "gift_card": False, "grams": 250, "price": f"{rng.randrange(5, 200)}.00",
        "total_discount": "0.00", "properties": [], "tax_lines": [],
    }


def shopify_order(rng: random.Random, index: int, created: datetime, sku_count: int, next_line: int) -> tuple[dict[str, object], int]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower()}{index}@example.com"
    lines = [_line(rng, next_line + n, sku_count) for n in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 4)))]
    stamp = created.isoformat().replace("+00:00", "Z")
    order = {
        "id": ORDER_ID_BASE + index, "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID_BASE + index}",
        "name": f"#{1001 + index}", "order_number": 1001 + index, "number": index + 1, "email": email,
        "contact_email": email, "created_at": stamp, "updated_at": stamp, "processed_at": stamp,
        "cancelled_at": None, "cancel_reason": None, "closed_at": None, "financial_status": "paid",
        "fulfillment_status": None, "currency": "EUR", "presentment_currency": "EUR", "test": False,
        "total_price": "99.00", "subtotal_price": "99.00", "total_tax": "0.00", "taxes_included": True,
        "tags": "", "note": None, "note_attributes": [], "customer_locale": "en", "source_name": "web",
        "customer": {"id": 115_310_627_314_000_000 + index, "email": email, "first_name": first,
                     "last_name": last, "locale": "en", "state": "enabled", "verified_email": True},
        "shipping_address": {"first_name": first, "last_name": last, "address1": f"{index} Main Street",
                             "city": "Springfield", "zip": "12345", "country_code": "DE", "phone": None},
        "line_items": lines, "shipping_lines": [], "discount_codes": [], "refunds": [],
    }
    return order, next_line + len(lines)


def generate(directory: Path, *, orders: int = 100_000, skus: int = 20_000, feed_rows: int = 40_000,
             seed: int = 20261101) -> EngineInputs:
    """Write the inputs into `directory` (deterministic for a given seed) and describe them."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    as_of = date(2026, 11, 20)
    start = datetime(2026, 8, 1, tzinfo=UTC)
    span = (datetime(2026, 11, 19, tzinfo=UTC) - start).total_seconds()
    orders_path = directory / "orders_shopify.json"
    line_total = 0
    next_line = LINE_ID_BASE
    with orders_path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for index in range(orders):
            created = start + timedelta(seconds=int(span * index / orders))
            order, after = shopify_order(rng, index, created, skus, next_line)
            line_total += after - next_line
            next_line = after
            out.write(("," if index else "") + json.dumps(order, separators=(",", ":")) + "\n")
        out.write("]\n")

    inventory_path = directory / "inventory.csv"
    with inventory_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("sku", "on_hand"))
        for number in range(skus):
            writer.writerow((sku_name(number), rng.choice((0, 0, 0, 1, 2, 5, 10, 25, 60))))

    feeds = []
    per_feed = feed_rows // 2
    for supplier in ("northwind", "globex"):
        path = directory / f"{supplier}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(("sku", "available", "restock_date", "restock_qty", "lead_time_days"))
            for row in range(per_feed):
                number = row % skus
                restock = as_of + timedelta(days=rng.randrange(3, 60)) if rng.random() < 0.6 else None
                writer.writerow((sku_name(number), rng.choice(("", "0", "3", "10", "40")),
                                 restock.isoformat() if restock else "", rng.randrange(5, 200) if restock else "",
                                 rng.randrange(2, 15)))
        feeds.append(path)
    return EngineInputs(orders_path, inventory_path, tuple(feeds), orders, line_total, skus, per_feed * 2, as_of)
