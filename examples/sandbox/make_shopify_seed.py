"""Writes the Shopify sandbox's demo seed (shopify_seed.json) and the matching supplier feed, deterministically.

    python examples/sandbox/make_shopify_seed.py      # rewrites both files; same output every run

Catalogue: 30 SKUs over 11 products; six SKUs sell on backorder (policy CONTINUE, little or no stock, so
open orders drive `available` below zero), two are untracked. Orders: 150 over the three weeks before
2026-11-26, most open, some fulfilled or cancelled. Stock is consistent with the orders: `committed` is the
open units of each SKU at the first location and `available` = on hand - committed.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SHOP = "backorder-demo.myshopify.com"
SHOP_NAME = "Demo Outfitters"
LOCATIONS = [{"id": 72_000_000_001, "name": "Main warehouse"}, {"id": 72_000_000_002, "name": "Shop floor"}]

CATALOGUE: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Organic cotton shirt", "25.00", [(f"SHIRT-{c}-{s}", f"{c.title()} / {s}") for c in ("BLUE", "RED", "BLACK")
                                       for s in ("S", "M", "L")]),
    ("Heavy hoodie", "59.00", [(f"HOODIE-{c}-{s}", f"{c.title()} / {s}") for c in ("GREY", "NAVY") for s in ("M", "L")]),
    ("Enamel mug", "14.00", [(f"MUG-{c}", c.title()) for c in ("RED", "WHITE", "BLACK")]),
    ("Six-panel cap", "22.00", [("CAP-BLACK", "Black"), ("CAP-KHAKI", "Khaki")]),
    ("Canvas tote", "18.00", [("TOTE-NATURAL", "Natural"), ("TOTE-BLACK", "Black")]),
    ("Art print", "30.00", [("POSTER-A2", "A2"), ("POSTER-A3", "A3")]),
    ("Striped socks", "9.00", [("SOCKS-STRIPE-M", "M"), ("SOCKS-STRIPE-L", "L")]),
    ("Steel bottle", "27.00", [("BOTTLE-STEEL-500", "500 ml"), ("BOTTLE-STEEL-750", "750 ml")]),
    ("Dotted notebook", "12.00", [("NOTEBOOK-A5-DOT", "Dotted"), ("NOTEBOOK-A5-LINED", "Lined")]),
    ("Sticker pack", "5.00", [("STICKER-PACK", "Default Title")]),
    ("Gift card", "25.00", [("GIFT-CARD-25", "Default Title")]),
]
BACKORDERED = {"SHIRT-BLUE-M": 2, "HOODIE-NAVY-L": 0, "MUG-RED": 1, "CAP-KHAKI": 0, "BOTTLE-STEEL-750": 3,
               "NOTEBOOK-A5-DOT": 0}  # SKU -> units on hand
UNTRACKED = {"STICKER-PACK", "GIFT-CARD-25"}
NOT_SHIPPED = {"GIFT-CARD-25"}
RESTOCK = {"SHIRT-BLUE-M": ("2026-12-09", 40, 14), "HOODIE-NAVY-L": ("2026-12-18", 25, 21),
           "MUG-RED": ("2026-12-04", 60, 10), "CAP-KHAKI": ("2027-01-12", 30, 35),
           "BOTTLE-STEEL-750": ("2026-12-15", 20, 18), "NOTEBOOK-A5-DOT": ("2027-01-06", 80, 28)}
FIRST_NAMES = ["Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Tim", "Hedy", "Dennis", "Radia", "Ken",
               "Barbara", "Edsger", "Frances", "Niklaus", "Sophie", "Jean", "Lucía", "Jonas", "Chiara"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Berners-Lee", "Lamarr",
              "Ritchie", "Perlman", "Thompson", "Liskov", "Dijkstra", "Allen", "Wirth", "Wilson", "Dupont",
              "García", "Berg", "Rossi"]
LOCALES = ["en", "en", "en", "fr", "de", "es", "it"]


def build(seed: int = 2026) -> tuple[dict, list[dict]]:
    rng = random.Random(seed)
    products, variants = [], {}
    counter = 0
    for index, (title, price, options) in enumerate(CATALOGUE):
        product = {"id": 8_000_000_000_000 + index, "title": title, "variants": []}
        for sku, option in options:
            counter += 1
            variant = {"id": 44_000_000_000_000 + counter, "sku": sku, "title": option, "price": price,
                       "inventoryItemId": 9_007_199_254_741_000 + counter, "tracked": sku not in UNTRACKED,
                       "inventoryPolicy": "CONTINUE" if sku in BACKORDERED else "DENY"}
            product["variants"].append(variant)
            variants[sku] = (variant, title)
        products.append(product)

    orders, open_units = [], {sku: 0 for sku in variants}
    skus = list(variants)
    weights = [4 if sku in BACKORDERED else 2 if sku.startswith(("SHIRT", "MUG")) else 1 for sku in skus]
    created_times = sorted(NOW - timedelta(minutes=rng.randrange(20, 21 * 24 * 60)) for _ in range(150))
    line_id = 15_500_000_000_000
    for number, created in enumerate(created_times):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}".lower().replace("í", "i").replace("-", "") + f"{number}@example.com"
        age_days = (NOW - created).days
        roll = rng.random()
        status = "fulfilled" if age_days > 10 and roll < 0.45 else "cancelled" if roll > 0.96 else "open"
        lines = []
        for sku in dict.fromkeys(rng.choices(skus, weights, k=rng.choice([1, 1, 1, 2, 2, 3]))):
            variant, product_title = variants[sku]
            quantity = rng.choice([1, 1, 1, 2, 3])
            line_id += 1
            open_qty = quantity if status == "open" and sku not in NOT_SHIPPED else 0
            lines.append({"id": line_id, "sku": sku, "quantity": quantity, "unfulfilledQuantity": open_qty,
                          "requiresShipping": sku not in NOT_SHIPPED, "variantId": variant["id"],
                          "title": product_title if variant["title"] == "Default Title"
                          else f"{product_title} - {variant['title']}"})
            if status == "open" and variant["tracked"]:
                open_units[sku] += open_qty
        updated = min(NOW, created + timedelta(minutes=rng.randrange(1, 3 * 24 * 60)))
        orders.append({
            "id": 6_100_000_000_000 + number, "name": f"#{1001 + number}", "createdAt": _iso(created),
            "updatedAt": _iso(updated), "cancelledAt": _iso(updated) if status == "cancelled" else None,
            "closed": status != "open", "displayFinancialStatus": "REFUNDED" if status == "cancelled" else "PAID",
            "customer": {"id": 7_300_000_000_000 + number, "firstName": first, "lastName": last, "email": email,
                         "locale": rng.choice(LOCALES)},
            "note": rng.choice([None, None, None, "Please gift wrap", "Leave with the neighbour"]),
            "tags": rng.choice([[], [], ["vip"], ["wholesale"]]), "lineItems": lines, "shippingPrice": "5.00"})

    for sku, (variant, _) in variants.items():
        if not variant["tracked"]:
            continue
        on_hand = BACKORDERED.get(sku, open_units[sku] + rng.randrange(5, 40))
        first_level = {"available": on_hand - open_units[sku], "committed": open_units[sku], "on_hand": on_hand,
                       "incoming": RESTOCK.get(sku, (None, 0))[1]}
        variant["inventoryLevels"] = [{"locationId": LOCATIONS[0]["id"], "quantities": first_level}]
        if sku.startswith(("SHIRT", "MUG")) and sku not in BACKORDERED:
            floor = rng.randrange(0, 6)
            variant["inventoryLevels"].append({"locationId": LOCATIONS[1]["id"], "quantities": {
                "available": floor, "committed": 0, "on_hand": floor, "incoming": 0}})

    feed = []
    for sku in skus:
        if sku in UNTRACKED:
            continue
        restock = RESTOCK.get(sku)
        feed.append({"sku": sku, "available": 0 if restock else rng.randrange(50, 500),
                     "restock_date": restock[0] if restock else "", "restock_qty": restock[1] if restock else "",
                     "lead_time_days": restock[2] if restock else rng.choice([7, 10, 14])})
    feed.append({"sku": "SCARF-WOOL-GREY", "available": 120, "restock_date": "", "restock_qty": "",
                 "lead_time_days": 14})  # sold by the supplier, not by this shop
    return {"shop": SHOP, "shopName": SHOP_NAME, "taxRate": "0.08", "locations": LOCATIONS, "products": products,
            "orders": orders}, feed


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    seed, feed = build()
    (HERE / "shopify_seed.json").write_text(json.dumps(seed, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (HERE / "feeds").mkdir(exist_ok=True)
    with (HERE / "feeds" / "shopify_supplier.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["sku", "available", "restock_date", "restock_qty", "lead_time_days"])
        writer.writeheader()
        writer.writerows(feed)


if __name__ == "__main__":
    main()
