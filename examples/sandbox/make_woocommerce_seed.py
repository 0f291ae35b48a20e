"""Writes examples/sandbox/woocommerce_seed.json and feeds/woocommerce_supplier.csv, the same bytes on every run.

Run: `python examples/sandbox/make_woocommerce_seed.py`. The store's "today" is 2026-11-26; orders span the
three weeks before it, and stock is what WooCommerce would show after reducing it for every order that
reached processing, on-hold or completed (negative where backorders were allowed).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED_PATH = HERE / "woocommerce_seed.json"
FEED_PATH = HERE / "feeds" / "woocommerce_supplier.csv"
TODAY = datetime(2026, 11, 26, 9, 0, 0)
FIRST_ORDER_DAY = TODAY - timedelta(days=21)
STAMP = "%Y-%m-%dT%H:%M:%S"
REDUCING = {"processing", "on-hold", "completed"}

# (name, sku, price, manage_stock, stock, backorders, stock_status-if-unmanaged)
SIMPLE_PRODUCTS: list[tuple[str, str, str, bool, int | None, str, str]] = [
    ("Trail Running Socks", "WC-SOCK-TRAIL", "14.00", True, 160, "no", "instock"),
    ("Ultralight Tent 2P", "WC-TENT-UL2", "389.00", True, 3, "notify", "instock"),
    ("Alpine Down Jacket", "WC-JKT-ALPINE", "279.00", True, 0, "notify", "instock"),
    ("Titanium Camp Mug", "WC-MUG-TI", "32.00", True, 60, "no", "instock"),
    ("Headlamp 400", "WC-LAMP-400", "49.00", True, 4, "yes", "instock"),
    ("Water Filter Pro", "WC-FILTER-PRO", "89.00", True, 2, "notify", "instock"),
    ("Carbon Trekking Poles", "WC-POLES-CARBON", "129.00", True, 25, "no", "instock"),
    ("Insulated Sleeping Pad", "WC-PAD-INS", "159.00", True, 1, "yes", "instock"),
    ("Bear Canister", "WC-BEAR-CAN", "79.00", True, 40, "no", "instock"),
    ("Stove Fuel 230g", "WC-FUEL-230", "7.50", True, 200, "no", "instock"),
    ("Solar Power Bank", "WC-POWER-SOLAR", "69.00", True, 0, "notify", "instock"),
    ("Packable Daypack", "WC-PACK-DAY", "45.00", True, 35, "no", "instock"),
    ("Ice Axe", "WC-AXE-ICE", "119.00", True, 0, "no", "instock"),
    ("Camp Chair Lite", "WC-CHAIR-LITE", "99.00", True, 6, "notify", "instock"),
    ("Gift Card", "WC-GIFT-CARD", "50.00", False, None, "no", "instock"),
    ("Repair Kit", "WC-REPAIR-KIT", "19.00", False, None, "no", "instock"),
    ("Map Case (discontinued)", "WC-MAP-CASE", "12.00", False, None, "no", "outofstock"),
    ("Expedition Sleeping Bag", "WC-BAG-EXP", "449.00", True, 2, "notify", "instock"),
    ("Compass Classic", "WC-COMPASS", "29.00", True, 50, "no", "instock"),
    ("First Aid Kit", "WC-FIRSTAID", "39.00", True, 12, "yes", "instock"),
]

# (name, sku, price, parent manages stock, parent stock, parent backorders, attribute, variations)
# variation: (option, manage_stock True|"parent"|False, stock, backorders)
VARIABLE_PRODUCTS: list[tuple[str, str, str, bool, int | None, str, str, list[tuple[str, Any, int | None, str]]]] = [
    ("Merino Base Layer", "WC-MERINO", "85.00", False, None, "no", "Size",
     [("S", True, 20, "no"), ("M", True, 2, "notify"), ("L", True, 0, "notify"), ("XL", True, 8, "no")]),
    ("Summit Hoodie", "WC-HOODIE", "69.00", True, 5, "notify", "Color",
     [("Red", "parent", None, "no"), ("Blue", "parent", None, "no"), ("Black", "parent", None, "no")]),
    ("Trekking Boots", "WC-BOOTS", "210.00", False, None, "no", "Size",
     [("41", True, 6, "no"), ("42", True, 1, "yes"), ("43", True, 0, "notify"), ("44", True, 9, "no")]),
    ("Rain Shell", "WC-SHELL", "159.00", False, None, "no", "Size",
     [("M", False, None, "no"), ("L", False, None, "no")]),
    ("Climbing Harness", "WC-HARNESS", "75.00", True, 1, "yes", "Size",
     [("S/M", "parent", None, "no"), ("L/XL", "parent", None, "no")]),
]

FIRST_NAMES = ["Ada", "Bruno", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Keiko", "Liam",
               "Maya", "Nico", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yara"]
LAST_NAMES = ["Lovelace", "Costa", "Martin", "Patel", "Rossi", "Haddad", "Kim", "Weber", "Silva", "Berg", "Tanaka",
              "Murphy", "Cohen", "Novak", "Ivanova", "Garcia", "Lee", "Santos", "Nieminen", "Okafor"]


def _token(label: str) -> str:
    return hashlib.sha1(f"woocommerce-sandbox:{label}".encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.strftime(STAMP)


def _catalogue() -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """Products in seed shape, and every sellable item (simple product or variation) by id."""
    products: list[dict[str, Any]] = []
    sellable: dict[int, dict[str, Any]] = {}
    next_id = 11
    created = _stamp(FIRST_ORDER_DAY - timedelta(days=60))
    for name, sku, price, manage, stock, backorders, status in SIMPLE_PRODUCTS:
        product = {"id": next_id, "name": name, "type": "simple", "sku": sku, "price": price, "manage_stock": manage,
                   "stock_quantity": stock, "backorders": backorders, "stock_status": status, "date_created_gmt": created}
        products.append(product)
        if status != "outofstock" or manage:
            sellable[next_id] = {"product": product, "variation": None}
        next_id += 1
    for name, sku, price, manage, stock, backorders, attribute, options in VARIABLE_PRODUCTS:
        product = {"id": next_id, "name": name, "type": "variable", "sku": sku, "price": price, "manage_stock": manage,
                   "stock_quantity": stock, "backorders": backorders, "date_created_gmt": created,
                   "attributes": [{"id": 0, "name": attribute, "options": [o[0] for o in options], "variation": True}],
                   "variations": []}
        next_id += 1
        for option, v_manage, v_stock, v_backorders in options:
            variation = {"id": next_id, "sku": f"{sku}-{option.replace('/', '')}", "price": price,
                         "attributes": [{"name": attribute, "option": option}], "manage_stock": v_manage,
                         "stock_quantity": v_stock, "backorders": v_backorders}
            product["variations"].append(variation)
            sellable[next_id] = {"product": product, "variation": variation}
            next_id += 1
        products.append(product)
    return products, sellable


def _holder(item: dict[str, Any]) -> dict[str, Any] | None:
    variation, product = item["variation"], item["product"]
    if variation is not None and variation["manage_stock"] is True:
        return variation
    if variation is not None and variation["manage_stock"] is False:
        return None
    return product if product["manage_stock"] else None


def _status_for(age_days: float, rng: random.Random) -> str:
    if age_days > 10:
        weights = {"completed": 70, "cancelled": 10, "processing": 15, "on-hold": 5}
    else:
        weights = {"processing": 60, "on-hold": 15, "pending": 12, "completed": 5, "cancelled": 8}
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def build_seed() -> dict[str, Any]:
    rng = random.Random(20261126)
    products, sellable = _catalogue()
    customers = [(i + 1, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for i in range(40)]
    moments = sorted(FIRST_ORDER_DAY + timedelta(seconds=rng.randrange(int((TODAY - FIRST_ORDER_DAY).total_seconds())))
                     for _ in range(120))
    orders: list[dict[str, Any]] = []
    next_line, next_meta = 1, 1
    item_ids = sorted(sellable)
    for index, created in enumerate(moments):
        status = _status_for((TODAY - created).total_seconds() / 86400, rng)
        customer_id, first, last = rng.choice(customers)
        lines: list[dict[str, Any]] = []
        for item_id in rng.sample(item_ids, rng.choice([1, 1, 1, 2, 2, 3])):
            item = sellable[item_id]
            holder = _holder(item)
            quantity = rng.choice([1, 1, 1, 2, 3])
            if holder is not None and holder["backorders"] == "no" and holder["stock_quantity"] < quantity:
                continue  # checkout would have refused it
            meta: list[dict[str, Any]] = []
            if holder is not None and holder["backorders"] == "notify" and quantity > max(0, holder["stock_quantity"]):
                meta.append({"id": next_meta, "key": "Backordered", "value": str(quantity - max(0, holder["stock_quantity"]))})
                next_meta += 1
            if holder is not None and status in REDUCING:
                holder["stock_quantity"] -= quantity
                holder["date_modified_gmt"] = _stamp(created)
                meta.append({"id": next_meta, "key": "_reduced_stock", "value": str(quantity)})
                next_meta += 1
            variation, product = item["variation"], item["product"]
            name = f"{product['name']} &ndash; {variation['attributes'][0]['option']}" if variation else product["name"]
            lines.append({"id": next_line, "product_id": product["id"], "variation_id": variation["id"] if variation else 0,
                          "quantity": quantity, "name": name, "meta_data": meta})
            next_line += 1
        if not lines:
            continue
        age_hours = (TODAY - created).total_seconds() / 3600
        settle = timedelta(hours=min(age_hours * 0.9, rng.uniform(24, 96))) if status in {"completed", "cancelled"} else timedelta(minutes=2)
        order: dict[str, Any] = {
            "id": 1001 + index, "status": status, "date_created_gmt": _stamp(created),
            "date_modified_gmt": _stamp(min(created + settle, TODAY)), "customer_id": customer_id,
            "billing": {"first_name": first, "last_name": last, "email": f"{first}.{last}{customer_id}@example.com".lower(),
                        "country": "US"},
            "line_items": lines, "shipping_total": 4.9, "payment_method": "stripe",
            "meta_data": [{"id": next_meta, "key": "_wc_order_attribution_source_type", "value": rng.choice(["typein", "organic", "referral"])}],
        }
        next_meta += 1
        if status in REDUCING:
            order["notes"] = [{"note": "Order status changed from Pending payment to "
                               + {"processing": "Processing", "on-hold": "On hold", "completed": "Processing"}[status] + ".",
                               "date_created_gmt": _stamp(created + timedelta(minutes=1))}]
        orders.append(order)
    for product in products:
        product.setdefault("date_modified_gmt", product["date_created_gmt"])
        for variation in product.get("variations", []):
            variation.setdefault("date_modified_gmt", product["date_created_gmt"])
    return {
        "site_url": None,
        "site_title": "Sandbox Outfitters",
        "https_mode": False,
        "gmt_offset_hours": -5,
        "currency": "USD", "tax_rate_percent": 8,
        "customer_note_email_enabled": True,
        "api_keys": [{
            "key_id": 1, "user_id": 1, "consumer_key": "ck_" + _token("consumer key"),
            "consumer_secret": "cs_" + _token("consumer secret"), "permissions": "read_write",
            "description": "SANDBOX ONLY - published test credential, never valid on a real store",
        }],
        "products": products,
        "orders": orders,
        "webhooks": [],
    }


def build_feed(seed: dict[str, Any]) -> str:
    """One supplier row per stock-keeping item; short items restock in Dec 2026 or Jan 2027."""
    rng = random.Random(1127)
    rows: list[list[str]] = []
    holders: list[dict[str, Any]] = []
    for product in seed["products"]:
        if product["manage_stock"]:
            holders.append(product)
        holders.extend(v for v in product.get("variations", []) if v["manage_stock"] is True)
    restock_days = [datetime(2026, 12, 3), datetime(2026, 12, 10), datetime(2026, 12, 17), datetime(2027, 1, 8), datetime(2027, 1, 22)]
    for holder in holders:
        stock = holder["stock_quantity"]
        short = stock <= 0
        restock = rng.choice(restock_days[:3] if not short else restock_days)
        available = 0 if short else rng.randrange(20, 120)
        # Some short items get less than their backlog, so later order lines wait for a further shipment.
        backlog = max(0, -stock)
        quantity = max(5, backlog + rng.randrange(0, 10)) if not short or rng.random() < 0.6 else max(1, backlog // 2)
        rows.append([holder["sku"], str(available), restock.date().isoformat(), str(quantity), str(rng.choice([7, 10, 14, 21]))])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sku", "available", "restock_date", "restock_qty", "lead_time_days"])
    writer.writerows(sorted(rows))
    return out.getvalue()


def main() -> None:
    seed = build_seed()
    SEED_PATH.write_text(json.dumps(seed, indent=1) + "\n", encoding="utf-8")
    FEED_PATH.parent.mkdir(parents=True, exist_ok=True)
    FEED_PATH.write_text(build_feed(seed), encoding="utf-8")
    print(f"wrote {SEED_PATH.name} ({len(seed['products'])} products, {len(seed['orders'])} orders) and {FEED_PATH.name}")


if __name__ == "__main__":
    main()
