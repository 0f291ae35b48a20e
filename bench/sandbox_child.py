"""Child process serving one sandbox store for the sync and push-back benchmarks.

    python -m bench.sandbox_child shopify|woocommerce ORDERS RESTORE_RATE [short] [grouped]

`short` leaves every SKU short of stock, so every order is backordered (the push-back benchmark).
`grouped`: the Shopify sandbox writes bulk results grouped (each line item right after its order), as
before 2026; by default they are ungrouped, shuffled with a fixed seed, as a 2026 store answers.

Prints one JSON line `{"url": ...}` once it listens, then serves until its standard input closes.
Kept apart from the syncing process so that process's peak memory is the connector's alone.
"""

from __future__ import annotations

import json
import logging
import sys

from bench.store_data import shopify_seed, woocommerce_seed
from sandbox.common import ServerThread

SHOPIFY_TOKEN = "shpat_bench_token"
SHOPIFY_SECRET = "bench-shopify-api-secret"
BUCKET_SIZE = 1000


def serve(platform: str, orders: int, restore_rate: float, all_short: bool = False, grouped: bool = False) -> ServerThread:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if platform == "shopify":
        from sandbox.shopify import ShopifyState, create_app, sandbox_of

        app = create_app(ShopifyState.from_seed(shopify_seed(orders, all_short=all_short)), api_secret=SHOPIFY_SECRET,
                         access_token=SHOPIFY_TOKEN, bucket_size=BUCKET_SIZE, restore_rate=restore_rate)
        sandbox_of(app).bulk.rules.output = "grouped" if grouped else "ungrouped"
    else:
        from sandbox.woocommerce import WooState, create_app as create_woo_app

        app = create_woo_app(WooState.from_seed(woocommerce_seed(orders, all_short=all_short)))
    return ServerThread(app).start()


def main(argv: list[str]) -> None:
    platform, orders, restore_rate = argv[0], int(argv[1]), float(argv[2])
    server = serve(platform, orders, restore_rate, all_short="short" in argv[3:], grouped="grouped" in argv[3:])
    print(json.dumps({"url": server.url}), flush=True)
    sys.stdin.read()  # the parent closes our stdin to stop us
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
